import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { expectProblem } from "../support/problems.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { fireFunction } from "../support/timers.js";

/**
 * Course discussions over HTTP: topics and threaded replies, a mention and a follower notified (inbox and email),
 * moderation (hide, lock, delete with a reason, pin; audited), edits with ETags and the edit window, the author's
 * removal, hostile input that changes nothing, Spanish full-text search, the posting rate limit, and the digest.
 */

const POSTS_PER_MINUTE = 5;

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let ann: TestUser;
let bob: TestUser;
let dana: TestUser;
let chatty: TestUser;
let outsider: TestUser;
let courseId: string;
let spanishCourseId: string;
let topicId: string;
let openingPostId: string;
let annReplyId: string;
let bobReplyId: string;

const as = (user: TestUser, body?: unknown, headers?: Record<string, string>) => ({ token: user.accessToken, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(app) });
/** The inbox rows a user has about a topic's posts (each row's subject is the post), oldest first. */
const inboxOf = (user: TestUser, topic: string) =>
  db.sql<{ template: string; event_id: string; digest_pending: boolean; title: string }[]>`
    select template, event_id, digest_pending, title from notifications
    where user_id = ${user.id} and subject_type = 'discussion-post' and subject_id in (select id from discussion_posts where topic_id = ${topic})
    order by created_at, id`;
const counts = async () => {
  const [row] = await db.sql<{ topics: number; posts: number; mentions: number }[]>`
    select (select count(*)::int from discussion_topics) as topics, (select count(*)::int from discussion_posts) as posts, (select count(*)::int from discussion_mentions) as mentions`;
  return row;
};

interface Post {
  id: string;
  parentPostId: string | null;
  bodyHtml: string | null;
  bodyMarkdown: string | null;
  removed: boolean;
  removalNotice: string | null;
  hidden: boolean;
  editedAt: string | null;
  etag: string;
}
interface TopicPage {
  topic: { id: string; locked: boolean; pinned: boolean; replyCount: number };
  posts: { items: Post[]; nextCursor: string | null };
}
const topicAs = async (user: TestUser, id = topicId, query = ""): Promise<TopicPage> => {
  const res = await call(app, "GET", `/v1/discussions/${id}${query}`, as(user));
  expect(res.status).toBe(200);
  return (await res.json()) as TopicPage;
};

async function enroll(user: TestUser, course: string) {
  expect((await call(app, "POST", `/v1/courses/${course}/enrollments`, as(admin, { userId: user.id }))).status).toBe(201);
}

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", DISCUSSION_POSTS_PER_MINUTE: String(POSTS_PER_MINUTE) }));
  [admin, instructor, ann, bob, dana, chatty, outsider] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "instructor" }),
    signUp(app, db, { label: "ann" }),
    signUp(app, db, { label: "bob" }),
    signUp(app, db, { label: "dana" }),
    signUp(app, db, { label: "chatty" }),
    signUp(app, db, { label: "olga" }),
  ]);
  const names: [TestUser, string][] = [[instructor, "Ines Instructor"], [ann, "Ann Learner"], [bob, "Bob Learner"], [dana, "Dana Digest"], [outsider, "Olga Outsider"]];
  for (const [user, name] of names) await db.sql`update users set display_name = ${name} where id = ${user.id}`;
  const made = [];
  for (const title of ["Physics", "Física"]) {
    const res = await call(app, "POST", "/v1/courses", as(admin, { title }));
    const id = ((await res.json()) as { id: string }).id;
    await call(app, "POST", `/v1/courses/${id}/publish`, as(admin));
    expect((await call(app, "POST", `/v1/courses/${id}/staff`, as(admin, { userId: instructor.id, role: "instructor" }))).status).toBe(200);
    made.push(id);
  }
  [courseId, spanishCourseId] = made as [string, string];
  await db.sql`update courses set language = 'es' where id = ${spanishCourseId}`;
  for (const user of [ann, bob, dana, chatty]) await enroll(user, courseId);
  await enroll(ann, spanishCourseId);
  // Dana takes discussion emails as a daily digest.
  await db.sql`insert into notification_preferences (user_id, discussion_digest) values (${dana.id}, true)`;
}, 90_000);
afterAll(() => stopAppAndDatabase({ db, app }));

describe("a discussion", () => {
  it("opens a topic with a mention: the mentioned member gets an inbox entry and an email; script stays inert", async () => {
    const res = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(ann, { title: "Lab 1 questions", body: "Hi **all** <script>alert(1)</script> [x](javascript:alert(1))", mentions: [bob.id] }));
    expect(res.status).toBe(201);
    const made = (await res.json()) as { topic: { id: string }; post: Post };
    topicId = made.topic.id;
    openingPostId = made.post.id;
    expect(made.post.bodyHtml).toContain("<strong>all</strong>");
    expect(made.post.bodyHtml).not.toMatch(/<script|href="javascript:/i);
    expect(made.post.bodyHtml).toContain("&lt;script&gt;");

    const mail = await waitForMail(app, bob.email, "Ann Learner mentioned you in \"Lab 1 questions\"", { timeoutMs: 20_000 });
    expect(mail.text).toContain("/discussions/");
    const inbox = await until("bob's mention in the inbox", async () => ((await inboxOf(bob, topicId)).length > 0 ? inboxOf(bob, topicId) : undefined));
    expect(inbox.map((n) => n.template)).toEqual(["discussion-mention"]);
  });

  it("tells followers of a reply (not its author), and a mentioned follower once, by mention", async () => {
    // Bob replies (and so follows); Dana follows by hand; Ann (the author) follows already.
    expect((await call(app, "PUT", `/v1/discussions/${topicId}/subscription`, as(dana))).status).toBe(204);
    const bobs = await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(bob, { body: "Which lab room?", parentPostId: openingPostId }));
    expect(bobs.status).toBe(201);
    bobReplyId = ((await bobs.json()) as Post).id;
    await waitForMail(app, ann.email, "New reply in \"Lab 1 questions\"", { timeoutMs: 20_000 });

    const anns = await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(ann, { body: "Room 2, @Bob", parentPostId: bobReplyId, mentions: [bob.id] }));
    expect(anns.status).toBe(201);
    annReplyId = ((await anns.json()) as Post).id;
    await until("the second mention", async () => ((await inboxOf(bob, topicId)).length === 2 ? true : undefined));
    // Bob follows and is mentioned: one notification for Ann's reply, the mention; none for his own reply.
    expect((await inboxOf(bob, topicId)).map((n) => n.template)).toEqual(["discussion-mention", "discussion-mention"]);
    expect((await inboxOf(ann, topicId)).map((n) => n.template)).toEqual(["discussion-reply"]);
    // Dana chose the digest: both replies are in her inbox, their emails held for it.
    const danas = await until("dana's held replies", async () => ((await inboxOf(dana, topicId)).length === 2 ? inboxOf(dana, topicId) : undefined));
    expect(danas.every((n) => n.template === "discussion-reply" && n.digest_pending)).toBe(true);
    expect(await mailsTo(app, dana.email, "New reply")).toEqual([]);

    const page = await topicAs(ann);
    expect(page.posts.items.map((p) => [p.id, p.parentPostId])).toEqual([
      [openingPostId, null],
      [bobReplyId, openingPostId],
      [annReplyId, bobReplyId],
    ]);
    expect(page.topic.replyCount).toBe(2);
    const firstTwo = await topicAs(ann, topicId, "?limit=2");
    expect(firstTwo.posts.items).toHaveLength(2);
    const rest = await topicAs(ann, topicId, `?limit=2&cursor=${firstTwo.posts.nextCursor}`);
    expect(rest.posts.items.map((p) => p.id)).toEqual([annReplyId]);
    expect(rest.posts.nextCursor).toBeNull();
  });

  it("sends the digest once: one email listing the held items, the flags cleared", async () => {
    const runDigest = () => fireFunction(app, "discussion-digest");
    expect((await runDigest()).status).toBeLessThan(300);
    const digest = await waitForMail(app, dana.email, "Your discussion digest: 2 new", { timeoutMs: 20_000 });
    expect(digest.text).toContain("New reply in \"Lab 1 questions\"");
    expect((await inboxOf(dana, topicId)).some((n) => n.digest_pending)).toBe(false);
    // The second run must be seen to have run (the admin route answers when it starts): it has one new held item,
    // Ann's, to send; the runtime runs a timer's invocations one at a time, so once Ann's digest is there the run
    // that sent it also looked at Dana's rows and found nothing held. (Two runs racing: the domain test.)
    await db.sql`insert into notifications (id, user_id, event_id, template, category, title, body, digest_pending)
      values (gen_random_uuid(), ${ann.id}, gen_random_uuid(), 'discussion-reply', 'discussions', 'Held for the second run', 'text', true)`;
    expect((await runDigest()).status).toBeLessThan(300);
    await waitForMail(app, ann.email, "Your discussion digest: 1 new", { timeoutMs: 20_000 });
    expect(await db.sql`select 1 from notifications where digest_pending`).toHaveLength(0);
    expect(await mailsTo(app, dana.email, "Your discussion digest")).toHaveLength(1);
  });

  it("edits within the window with If-Match, refuses a stale ETag (412), and after the window (409)", async () => {
    const before = (await topicAs(ann)).posts.items.find((p) => p.id === annReplyId) as Post;
    const stale = await call(app, "PATCH", `/v1/discussion-posts/${annReplyId}`, as(ann, { body: "Room 3" }, { "if-match": '"v99"' }));
    await expectProblem(stale, 412, "PRECONDITION_FAILED");
    const edited = await call(app, "PATCH", `/v1/discussion-posts/${annReplyId}`, as(ann, { body: "Room **3**" }, { "if-match": before.etag }));
    expect(edited.status).toBe(200);
    const after = (await edited.json()) as Post;
    expect(after.editedAt).not.toBeNull();
    expect(after.bodyHtml).toContain("<strong>3</strong>");
    expect(edited.headers.get("etag")).toBe(after.etag);
    // Someone else's post is not theirs to edit: not found.
    await expectProblem(await call(app, "PATCH", `/v1/discussion-posts/${annReplyId}`, as(bob, { body: "mine now" })), 404, "DISCUSSION_POST_NOT_FOUND");
    await db.sql`update discussion_posts set created_at = created_at - interval '31 minutes' where id = ${annReplyId}`;
    await expectProblem(await call(app, "PATCH", `/v1/discussion-posts/${annReplyId}`, as(ann, { body: "Room 4" })), 409, "DISCUSSION_EDIT_WINDOW_CLOSED");
  });

  it("moderates: a hidden post only staff see, a locked topic refuses learners' replies, a delete with its reason audited", async () => {
    const moderate = (body: unknown, user = instructor) => call(app, "POST", `/v1/discussions/${topicId}/moderation`, as(user, body));
    await expectProblem(await moderate({ action: "lock" }, ann), 403, "FORBIDDEN");
    expect((await moderate({ action: "hide", postId: bobReplyId })).status).toBe(200);
    expect((await topicAs(ann)).posts.items.map((p) => p.id)).not.toContain(bobReplyId);
    expect((await topicAs(instructor)).posts.items.find((p) => p.id === bobReplyId)?.hidden).toBe(true);

    expect((await moderate({ action: "lock" })).status).toBe(200);
    const before = await counts();
    await expectProblem(await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(ann, { body: "one more" })), 409, "DISCUSSION_TOPIC_LOCKED");
    expect(await counts()).toEqual(before);
    // Staff may still reply to a locked topic.
    expect((await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(instructor, { body: "Locked: see the syllabus." }))).status).toBe(201);

    await expectValidation(await moderate({ action: "delete", postId: annReplyId }));
    expect((await moderate({ action: "delete", postId: annReplyId, reason: "Off topic" })).status).toBe(200);
    const removed = (await topicAs(bob)).posts.items.find((p) => p.id === annReplyId) as Post;
    expect(removed).toMatchObject({ removed: true, bodyHtml: null, bodyMarkdown: null });
    expect(removed.removalNotice).toBeTruthy();
    const audit = await db.sql<{ action: string; details: { reason?: string; topicId?: string } }[]>`
      select action, details from audit_log where target_id = ${annReplyId} and action like 'discussion.%'`;
    expect(audit).toEqual([{ action: "discussion.deleted", details: expect.objectContaining({ reason: "Off topic", topicId }) }]);
    const actions = await db.sql<{ action: string }[]>`select action from audit_log where action like 'discussion.%' order by occurred_at`;
    expect(actions.map((a) => a.action)).toEqual(["discussion.hidden", "discussion.locked", "discussion.deleted"]);
  });

  it("lets an author remove their post: the thread keeps its shape, the body is gone", async () => {
    const second = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(bob, { title: "Exam dates", body: "When is the exam?" }));
    const made = (await second.json()) as { topic: { id: string }; post: Post };
    const reply = await call(app, "POST", `/v1/discussions/${made.topic.id}/posts`, as(ann, { body: "In June", parentPostId: made.post.id }));
    expect(reply.status).toBe(201);
    expect((await call(app, "DELETE", `/v1/discussion-posts/${made.post.id}`, as(ann))).status).toBe(404);
    expect((await call(app, "DELETE", `/v1/discussion-posts/${made.post.id}`, as(bob))).status).toBe(204);
    const page = await topicAs(ann, made.topic.id);
    expect(page.posts.items.map((p) => [p.removed, p.parentPostId])).toEqual([
      [true, null],
      [false, made.post.id],
    ]);
    // Pinned topics come first, then by last activity.
    expect((await call(app, "POST", `/v1/discussions/${topicId}/moderation`, as(instructor, { action: "pin" }))).status).toBe(200);
    const list = await call(app, "GET", `/v1/courses/${courseId}/discussions?limit=1`, as(ann));
    const first = (await list.json()) as { items: { id: string; pinned: boolean }[]; nextCursor: string };
    expect(first.items.map((t) => [t.id, t.pinned])).toEqual([[topicId, true]]);
    const next = (await (await call(app, "GET", `/v1/courses/${courseId}/discussions?limit=1&cursor=${first.nextCursor}`, as(ann))).json()) as { items: { id: string }[] };
    expect(next.items.map((t) => t.id)).toEqual([made.topic.id]);

    // A topic deleted with a reason is gone for learners; staff still see it, marked, with the reason.
    expect((await call(app, "POST", `/v1/discussions/${made.topic.id}/moderation`, as(instructor, { action: "delete", reason: "Duplicate" }))).status).toBe(200);
    await expectProblem(await call(app, "GET", `/v1/discussions/${made.topic.id}`, as(ann)), 404, "DISCUSSION_TOPIC_NOT_FOUND");
    const learnersList = (await (await call(app, "GET", `/v1/courses/${courseId}/discussions`, as(ann))).json()) as { items: { id: string }[] };
    expect(learnersList.items.map((t) => t.id)).not.toContain(made.topic.id);
    const staffList = (await (await call(app, "GET", `/v1/courses/${courseId}/discussions`, as(instructor))).json()) as { items: { id: string; deleted: boolean; deleteReason: string | null }[] };
    expect(staffList.items.find((t) => t.id === made.topic.id)).toMatchObject({ deleted: true, deleteReason: "Duplicate" });
  });
});

async function expectValidation(res: Response) {
  expect(res.status).toBe(400);
}

describe("hostile input changes nothing", () => {
  it("refuses a 1 MB post (413), an overlong one (400), NUL characters (400), a foreign parent (422)", async () => {
    const before = await counts();
    const huge = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(ann, { title: "Big", body: "x".repeat(1_000_000) }));
    await expectProblem(huge, 413, "PAYLOAD_TOO_LARGE");
    expect((await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(ann, { title: "Long", body: "x".repeat(20_001) }))).status).toBe(400);
    expect((await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(ann, { title: "Nul", body: "a\u0000b" }))).status).toBe(400);
    const other = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(bob, { title: "Other", body: "other" }));
    const otherPost = ((await other.json()) as { post: Post }).post.id;
    const afterOther = await counts();
    await expectProblem(await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(instructor, { body: "x", parentPostId: otherPost })), 422, "DISCUSSION_PARENT_NOT_IN_TOPIC");
    expect(await counts()).toEqual(afterOther);
    expect(afterOther?.posts).toBe((before?.posts ?? 0) + 1);
  });

  it("refuses a mention of a non-member (422) and keeps non-members out (403)", async () => {
    const before = await counts();
    const res = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(ann, { title: "Hi", body: "hello", mentions: [bob.id, outsider.id] }));
    const problem = await expectProblem(res, 422, "MENTION_NOT_MEMBER");
    expect(problem.notMembers).toEqual([outsider.id]);
    expect(await counts()).toEqual(before);
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/discussions`, as(outsider)), 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/discussions/${topicId}`, as(outsider)), 403, "FORBIDDEN");
    await expectProblem(await call(app, "POST", `/v1/discussions/${topicId}/posts`, as(outsider, { body: "let me in" })), 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/discussions/${crypto.randomUUID()}`, as(ann)), 404, "NOT_FOUND");
    expect(await counts()).toEqual(before);
    // The mention picker lists members only.
    const members = (await (await call(app, "GET", `/v1/courses/${courseId}/discussions/members?q=learner`, as(ann))).json()) as { items: { id: string }[] };
    expect(members.items.map((m) => m.id).sort()).toEqual([ann.id, bob.id].sort());
    const olga = (await (await call(app, "GET", `/v1/courses/${courseId}/discussions/members?q=olga`, as(ann))).json()) as { items: unknown[] };
    expect(olga.items).toEqual([]);
  });

  it("opens a topic once when the same request is replayed with its Idempotency-Key", async () => {
    const before = await counts();
    const send = () => call(app, "POST", `/v1/courses/${courseId}/discussions`, as(dana, { title: "Once", body: "only once" }, { "idempotency-key": "dana-once-1" }));
    const [first, again] = [await send(), await send()];
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(((await again.json()) as { topic: { id: string } }).topic.id).toBe(((await first.json()) as { topic: { id: string } }).topic.id);
    expect(await counts()).toEqual({ ...before, topics: (before?.topics ?? 0) + 1, posts: (before?.posts ?? 0) + 1 });
  });

  it("limits posting to DISCUSSION_POSTS_PER_MINUTE (429 with Retry-After)", async () => {
    for (let i = 0; i < POSTS_PER_MINUTE; i++) {
      expect((await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(chatty, { title: `Spam ${i}`, body: "hi" }))).status).toBe(201);
    }
    const before = await counts();
    const limited = await call(app, "POST", `/v1/courses/${courseId}/discussions`, as(chatty, { title: "One too many", body: "hi" }));
    await expectProblem(limited, 429, "DISCUSSION_RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await counts()).toEqual(before);
  });
});

describe("search", () => {
  it("finds a Spanish post by another form of its word, in a course whose language is es", async () => {
    const res = await call(app, "POST", `/v1/courses/${spanishCourseId}/discussions`, as(ann, { title: "Deporte", body: "Me gusta **correr** por el parque los domingos." }));
    expect(res.status).toBe(201);
    const search = async (q: string, user = ann, course = spanishCourseId) => {
      const r = await call(app, "GET", `/v1/courses/${course}/discussions/search?q=${encodeURIComponent(q)}`, as(user));
      expect(r.status).toBe(200);
      return ((await r.json()) as { items: { topicTitle: string; snippet: string }[] }).items;
    };
    const hits = await search("corriendo");
    expect(hits.map((h) => h.topicTitle)).toEqual(["Deporte"]);
    expect(hits[0]?.snippet).toContain("**");
    expect(await search("parques")).toHaveLength(1);
    expect(await search("natación")).toEqual([]);
    await expectProblem(await call(app, "GET", `/v1/courses/${spanishCourseId}/discussions/search?q=${encodeURIComponent("  ")}`, as(ann)), 422, "DISCUSSION_SEARCH_INVALID");
    await expectProblem(await call(app, "GET", `/v1/courses/${spanishCourseId}/discussions/search?q=${"a".repeat(201)}`, as(ann)), 422, "DISCUSSION_SEARCH_INVALID");
  });

  it("does not find hidden or removed posts for learners; staff find hidden ones", async () => {
    const search = async (user: TestUser, q: string) =>
      ((await (await call(app, "GET", `/v1/courses/${courseId}/discussions/search?q=${encodeURIComponent(q)}`, as(user))).json()) as { items: { postId: string }[] }).items.map((h) => h.postId);
    // Bob's reply ("Which lab room?") is hidden; Ann's ("Room 3") was deleted by a moderator.
    expect(await search(ann, "lab room")).not.toContain(bobReplyId);
    expect(await search(instructor, "lab room")).toContain(bobReplyId);
    expect(await search(instructor, "room")).not.toContain(annReplyId);
  });
});
