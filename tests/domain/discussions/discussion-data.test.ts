import { type SQL, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CourseViewer } from "../../../domain/catalog/viewer.js";
import { sendDiscussionDigestBatch } from "../../../domain/discussions/discussion-digest.js";
import { discussionPostNotifications } from "../../../domain/discussions/discussion-notifications.js";
import { discussionsPart } from "../../../domain/discussions/discussion-personal-data.js";
import { REMOVED_NOTICE } from "../../../domain/discussions/discussion-rules.js";
import { ERASED_TOPIC_TITLE } from "../../../domain/discussions/erase-discussions.js";
import { courseMembers } from "../../../domain/discussions/members.js";
import { searchPosts } from "../../../domain/discussions/search-posts.js";
import { createTopic, replyToTopic } from "../../../domain/discussions/post-discussions.js";
import { recordNotifications } from "../../../domain/notifications/notify.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";

/** The topic counters under concurrent replies, the digest's exactly-once batches, erasure and the data export, on PostgreSQL. */

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;
let courseId: string;
const rules = { editWindowMinutes: 30, postsPerMinute: 100 };
const links = { unsubscribeUrl: async (userId: string) => `https://api.test/unsubscribe/${userId}` };
const learner = (userId: string): CourseViewer => ({ userId, isAdmin: false, roleIn: async () => null });

async function member(name: string): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, ${name})`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${id}, 'active', 'staff', now())`;
  return id;
}

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
  courseId = uuidv7();
  await db.sql`insert into courses (id, title) values (${courseId}, 'Discussions course')`;
});
afterAll(() => db?.drop());

describe("replies racing", () => {
  it("counts every reply once, whatever the interleaving (the topic row is locked)", async () => {
    const [author, a, b] = [await member("Author"), await member("A"), await member("B")];
    const made = await inTx((tx) => createTopic(tx, learner(author), { courseId, title: "Race", body: "go" }, rules));
    if (!made.ok) throw new Error(made.error.code);
    const topicId = made.value.topic.id;
    const replies = await Promise.all(
      [a, b, a, b, a, b].map((userId, i) => inTx((tx) => replyToTopic(tx, learner(userId), { topicId, body: `reply ${i}` }, rules))),
    );
    expect(replies.every((r) => r.ok)).toBe(true);
    const [topic] = await db.sql<{ reply_count: number }[]>`select reply_count from discussion_topics where id = ${topicId}`;
    expect(topic?.reply_count).toBe(6);
    // Author and both repliers follow, each once.
    const followers = await db.sql<{ user_id: string }[]>`select user_id from discussion_subscriptions where topic_id = ${topicId}`;
    expect(followers.map((f) => f.user_id).sort()).toEqual([author, a, b].sort());
  });
});

describe("the discussion digest", () => {
  it("puts each held item in exactly one email when two runs race, and sends nothing the second time", async () => {
    const users = [await member("D1"), await member("D2"), await member("D3")];
    for (const [i, userId] of users.entries()) {
      for (let n = 0; n <= i; n++) {
        await db.sql`insert into notifications (id, user_id, event_id, template, category, title, body, url, digest_pending)
          values (${uuidv7()}, ${userId}, ${uuidv7()}, 'discussion-reply', 'discussions', ${`Reply ${n}`}, 'text', 'https://app.test/discussions/x', true)`;
      }
    }
    const runs = await Promise.all([0, 1].map(() => inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links))));
    expect(runs.reduce((sum, r) => sum + r.items, 0)).toBe(6);
    const emails = await db.sql<{ recipient: string; subject: string }[]>`
      select recipient, subject from email_deliveries where recipient = any(${users.map((u) => `${u}@example.test`)}) order by recipient`;
    expect(emails.map((e) => [e.recipient, e.subject])).toEqual(users.map((u, i) => [`${u}@example.test`, `Your discussion digest: ${i + 1} new`]));
    const again = await inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links));
    expect(again).toEqual({ users: 0, items: 0, emails: 0 });
  });

  it("a batch running beside another takes the users the other has not locked, and batches go on until nothing is held", async () => {
    // More held items than one batch takes (2,000): one user each, inserted set-based.
    const ids = await db.sql<{ id: string }[]>`
      insert into users (id, email, display_name)
      select gen_random_uuid(), 'digest-' || g || '@example.test', 'Many ' || g from generate_series(1, 2100) g returning id`;
    await db.sql`insert into notifications (id, user_id, event_id, template, category, title, body, digest_pending)
      select gen_random_uuid(), u, gen_random_uuid(), 'discussion-reply', 'discussions', 'Reply', 'text', true from unnest(${ids.map((r) => r.id)}::uuid[]) u`;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let first: { users: number } | undefined;
    const firstDone = inTx(async (tx) => {
      first = await sendDiscussionDigestBatch(tx, "https://app.test", links);
      await held; // stays open (its rows locked) while the second batch runs
    });
    while (first === undefined) await new Promise((r) => setTimeout(r, 20));
    const second = await inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links));
    release();
    await firstDone;
    expect(first.users).toBe(1999); // 2,000 rows locked; the last user's (possibly cut) wait
    expect(second.users).toBe(100);
    const rest = await inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links));
    expect(rest.users).toBe(1);
    expect(await inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links))).toEqual({ users: 0, items: 0, emails: 0 });
    const [sent] = await db.sql<{ n: number; recipients: number }[]>`
      select count(*)::int as n, count(distinct recipient)::int as recipients from email_deliveries where recipient like 'digest-%@example.test'`;
    expect(sent).toEqual({ n: 2100, recipients: 2100 });
  });

  it("sends nothing to a user who turned discussion emails off since, and clears their held items", async () => {
    const userId = await member("Off");
    await db.sql`insert into notification_preferences (user_id, discussions, discussion_digest) values (${userId}, false, true)`;
    await db.sql`insert into notifications (id, user_id, event_id, template, category, title, body, digest_pending)
      values (${uuidv7()}, ${userId}, ${uuidv7()}, 'discussion-reply', 'discussions', 'Reply', 'text', true)`;
    const run = await inTx((tx) => sendDiscussionDigestBatch(tx, "https://app.test", links));
    expect(run).toMatchObject({ users: 1, items: 1, emails: 0 });
    expect(await db.sql`select 1 from email_deliveries where recipient = ${`${userId}@example.test`}`).toHaveLength(0);
  });
});

describe("the mention picker", () => {
  it("finds members by name, and reads users by id from the course's members, never scanning users", async () => {
    const [zed] = [await member("Zed Picker"), await member("Zelda Picker")];
    await db.sql`insert into users (id, email, display_name) values (${uuidv7()}, ${`${uuidv7()}@example.test`}, 'Zed Outsider')`;
    expect((await courseMembers(db.db, courseId, "zed", 10)).map((m) => m.displayName)).toEqual(["Zed Picker"]);
    expect((await courseMembers(db.db, courseId, "picker", 1)).map((m) => m.id)).toEqual([zed]);
    // The plan, with sequential scans priced out (the test tables are small): users is only ever reached by id.
    const plan = await inTx(async (tx) => {
      await tx.db.execute(sql`set local enable_seqscan = off`);
      const explained: string[] = [];
      const explaining = { ...tx.db, execute: async (query: SQL) => {
        const rows = await tx.db.execute<{ "QUERY PLAN": string }>(sql`explain ${query}`);
        explained.push(...rows.map((r) => r["QUERY PLAN"]));
        return [];
      } } as unknown as typeof tx.db;
      await courseMembers(explaining, courseId, "zed", 10);
      return explained.join("\n");
    });
    const usersNode = plan.split("\n").findIndex((line) => / on users u\b/.test(line));
    expect(plan.split("\n")[usersNode]).toMatch(/Index Scan using users_pkey/);
    expect(plan.split("\n")[usersNode + 1]).toMatch(/Index Cond: \(id = /);
  });
});

describe("search snippets", () => {
  it("are the post's plain text with the matches marked: no Markdown syntax, link targets or marks of the author's", async () => {
    const author = await member("Searcher");
    const body = "Read **this** on [photosynthesis](https://evil.test/x) <img src=x onerror=alert(1)> before class";
    const made = await inTx((tx) => createTopic(tx, learner(author), { courseId, title: "Snippets", body }, rules));
    if (!made.ok) throw new Error(made.error.code);
    const found = await searchPosts(db.db, courseId, learner(author), { q: "photosynthesis", limit: 5 });
    if (!found.ok) throw new Error(found.error.code);
    expect(found.value.map((h) => h.snippet)).toEqual(["Read this on **photosynthesis** <img src=x onerror=alert(1)> before class"]);
  });
});

describe("erasure and the data export", () => {
  it("exports a user's posts, and erasure blanks them, retitles their topics and drops their follows and mentions", async () => {
    const [gone, other] = [await member("Gone"), await member("Other")];
    const made = await inTx((tx) => createTopic(tx, learner(gone), { courseId, title: "Gone's topic", body: "my words" }, rules));
    if (!made.ok) throw new Error(made.error.code);
    const topicId = made.value.topic.id;
    const reply = await inTx((tx) => replyToTopic(tx, learner(other), { topicId, body: "hi @Gone", mentions: [gone] }, rules));
    expect(reply.ok).toBe(true);

    const pages = [];
    for await (const page of discussionsPart.pages({ db: db.db, activity: undefined as never }, gone)) pages.push(...page);
    expect(pages).toEqual([expect.objectContaining({ topicId, courseId, parentPostId: null, body: "my words", deletedAt: null })]);

    await inTx((tx) => erasePersonalData(tx, gone, testErasureKeys));
    const posts = await db.sql<{ author_user_id: string; body_markdown: string; body_html: string; deleted: boolean; searchable: boolean }[]>`
      select author_user_id, body_markdown, body_html, deleted_at is not null as deleted, search <> ''::tsvector as searchable from discussion_posts where topic_id = ${topicId} order by created_at`;
    expect(posts).toEqual([
      { author_user_id: gone, body_markdown: "", body_html: "", deleted: true, searchable: false },
      { author_user_id: other, body_markdown: "hi @Gone", body_html: "<p>hi @Gone</p>\n", deleted: false, searchable: true },
    ]);
    const [topic] = await db.sql<{ title: string }[]>`select title from discussion_topics where id = ${topicId}`;
    expect(topic?.title).toBe(ERASED_TOPIC_TITLE);
    expect(await db.sql`select 1 from discussion_subscriptions where user_id = ${gone}`).toHaveLength(0);
    expect(await db.sql`select 1 from discussion_mentions where user_id = ${gone}`).toHaveLength(0);
  });

  it("scrubs others' inbox entries by the post they are about, never by the erased name's text (a short name)", async () => {
    const [al, other, bea] = [await member("Al"), await member("Other"), await member("Bea")];
    const topic = async (userId: string, title: string) => {
      const made = await inTx((tx) => createTopic(tx, learner(userId), { courseId, title, body: "opening" }, rules));
      if (!made.ok) throw new Error(made.error.code);
      return made.value.topic.id;
    };
    // Each post notifies the way the emails subscription does it (the real recipients, titles and bodies).
    const post = async (userId: string, topicId: string, body: string) => {
      const made = await inTx((tx) => replyToTopic(tx, learner(userId), { topicId, body }, rules));
      if (!made.ok) throw new Error(made.error.code);
      const postId = made.value.id;
      await inTx(async (tx) => {
        const inputs = await discussionPostNotifications(tx.db, { id: uuidv7(), data: { postId, topicId, courseId } }, "https://app.test", links);
        expect(inputs.every((n) => n.subject?.type === "discussion-post" && n.subject.id === postId)).toBe(true);
        await recordNotifications(tx, inputs);
      });
      return postId;
    };
    const alsTopic = await topic(al, "Al's topic");
    const algebra = await topic(other, "Algebra homework");
    const beasAlgebra = await post(bea, algebra, "Algebra is fun"); // Other hears of it: nothing of Al's in it
    const alsReply = await post(al, algebra, "my answer"); // Other and Bea hear of it: names Al, quotes Al
    await post(other, alsTopic, "hello");
    const beaInAlsTopic = await post(bea, alsTopic, "nice topic"); // Other hears of it: quotes Al's topic title

    await inTx((tx) => erasePersonalData(tx, al, testErasureKeys));
    const entries = await db.sql<{ user_id: string; subject_id: string; title: string; body: string }[]>`
      select user_id, subject_id, title, body from notifications where user_id = any(${[other, bea]}::uuid[])`;
    const about = (postId: string) => entries.filter((e) => e.subject_id === postId);
    expect(about(beasAlgebra)).toEqual([
      { user_id: other, subject_id: beasAlgebra, title: 'New reply in "Algebra homework"', body: 'Bea replied in "Algebra homework" (Discussions course): Algebra is fun' },
    ]);
    expect(about(alsReply).map((e) => e.user_id).sort()).toEqual([other, bea].sort());
    for (const e of [...about(alsReply), ...about(beaInAlsTopic)]) expect(e).toMatchObject({ title: ERASED_TOPIC_TITLE, body: REMOVED_NOTICE });
    expect(about(beaInAlsTopic).map((e) => e.user_id)).toEqual([other]);
    for (const e of entries) expect(`${e.title} ${e.body}`).not.toMatch(/my answer|Al's topic|Al replied/);
  });
});
