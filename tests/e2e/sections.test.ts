import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { runImport, uploadImport } from "../support/imports.js";
import { waitFor } from "../support/wait-for.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let grader: TestUser;
let ann: TestUser;
let bob: TestUser;
let outsider: TestUser;
let courseId: string;
let sectionA: string;
let sectionB: string;
const enrollmentOf: Record<string, string> = {};
const submissionOf: Record<string, string> = {};

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" }));
  [admin, grader, ann, bob, outsider] = await Promise.all([
    signUp(app, db, { label: "admin", admin: true }),
    signUp(app, db, { label: "grader" }),
    signUp(app, db, { label: "ann" }),
    signUp(app, db, { label: "bob" }),
    signUp(app, db, { label: "outsider" }),
  ]);
}, 60_000);
afterAll(() => stopAppAndDatabase({ db, app }));

const as = (user: TestUser, extra: { body?: unknown; headers?: Record<string, string> } = {}) => ({ token: user.accessToken, ...extra });
const problemCode = async (res: Response) => ((await res.json()) as { code?: string }).code;

describe("sections, groups and section-scoped staff", () => {
  it("gives courses a unique code, compared case-insensitively", async () => {
    const created = await call(app, "POST", "/v1/courses", as(admin, { body: { title: "Computing", code: "CS-101" } }));
    expect(created.status).toBe(201);
    const course = (await created.json()) as { id: string; code: string };
    expect(course.code).toBe("CS-101");
    courseId = course.id;
    const clash = await call(app, "POST", "/v1/courses", as(admin, { body: { title: "Other", code: "cs-101" } }));
    expect([clash.status, await problemCode(clash)]).toEqual([409, "COURSE_CODE_TAKEN"]);
    for (const code of ["has space", "x".repeat(33), "nul\u0000"]) {
      expect((await call(app, "POST", "/v1/courses", as(admin, { body: { title: "Bad", code } }))).status).toBe(400);
    }
    const other = (await (await call(app, "POST", "/v1/courses", as(admin, { body: { title: "Other" } }))).json()) as { id: string; code: null };
    expect(other.code).toBeNull();
    const renamed = await call(app, "PATCH", `/v1/courses/${other.id}`, as(admin, { body: { code: "CS-101" } }));
    expect([renamed.status, await problemCode(renamed)]).toEqual([409, "COURSE_CODE_TAKEN"]);
    expect((await call(app, "PATCH", `/v1/courses/${other.id}`, as(admin, { body: { code: "MA-201" } }))).status).toBe(200);

    await call(app, "POST", `/v1/courses/${courseId}/publish`, as(admin));
    expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { body: { userId: grader.id, role: "grader" } }))).status).toBe(200);
    for (const learner of [ann, bob]) {
      const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, as(admin, { body: { userId: learner.id } }));
      expect(res.status).toBe(201);
      enrollmentOf[learner.id] = ((await res.json()) as { id: string }).id;
    }
  });

  it("creates, reads and changes sections with ETags, and refuses a stale If-Match", async () => {
    const a = await call(app, "POST", `/v1/courses/${courseId}/sections`, as(admin, { body: { name: "Section A", capacity: 1 } }));
    expect(a.status).toBe(201);
    sectionA = ((await a.json()) as { id: string }).id;
    sectionB = ((await (await call(app, "POST", `/v1/courses/${courseId}/sections`, as(admin, { body: { name: "Section B" } }))).json()) as { id: string }).id;
    const dup = await call(app, "POST", `/v1/courses/${courseId}/sections`, as(admin, { body: { name: "section a" } }));
    expect([dup.status, await problemCode(dup)]).toEqual([409, "SECTION_NAME_TAKEN"]);
    expect((await call(app, "POST", `/v1/courses/${courseId}/sections`, as(admin, { body: { name: "Zero", capacity: 0 } }))).status).toBe(400);
    expect((await call(app, "POST", `/v1/courses/${courseId}/sections`, as(grader, { body: { name: "Mine" } }))).status).toBe(403);

    const read = await call(app, "GET", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin));
    const etag = read.headers.get("etag") as string;
    expect(etag).toMatch(/^"v1\./);
    expect((await call(app, "GET", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin, { headers: { "if-none-match": etag } }))).status).toBe(304);
    const changed = await call(app, "PATCH", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin, { body: { capacity: 30, scheduleUrl: "https://example.test/b" }, headers: { "if-match": etag } }));
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ name: "Section B", capacity: 30, scheduleUrl: "https://example.test/b", version: 2 });
    const stale = await call(app, "PATCH", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin, { body: { capacity: 5 }, headers: { "if-match": etag } }));
    expect([stale.status, await problemCode(stale)]).toEqual([412, "PRECONDITION_FAILED"]);
    expect((await call(app, "PATCH", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin, { body: { name: "SECTION A" } }))).status).toBe(409);
    const list = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/sections`, as(admin)));
    expect((list.items as { name: string; capacity: number | null }[]).map((s) => [s.name, s.capacity])).toEqual([
      ["Section A", 1],
      ["Section B", 30],
    ]);
  });

  it("places learners under the section's capacity; a learner sees only their own section", async () => {
    const place = (learner: TestUser, sectionId: string | null) =>
      call(app, "PUT", `/v1/courses/${courseId}/enrollments/${enrollmentOf[learner.id]}/section`, as(admin, { body: { sectionId } }));
    expect(await jsonOf(await place(ann, sectionA))).toEqual({ enrollmentId: enrollmentOf[ann.id], userId: ann.id, sectionId: sectionA });
    const full = await place(bob, sectionA);
    expect([full.status, await problemCode(full)]).toEqual([409, "SECTION_FULL"]);
    expect((await place(bob, sectionB)).status).toBe(200);
    // Placing again where one already is changes nothing.
    expect((await place(ann, sectionA)).status).toBe(200);
    const listed = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/enrollments`, as(admin)));
    expect(Object.fromEntries((listed.items as { userId: string; sectionId: string | null }[]).map((e) => [e.userId, e.sectionId]))).toEqual({ [ann.id]: sectionA, [bob.id]: sectionB });
    const unknown = await call(app, "PUT", `/v1/courses/${courseId}/enrollments/${crypto.randomUUID()}/section`, as(admin, { body: { sectionId: sectionB } }));
    expect([unknown.status, await problemCode(unknown)]).toEqual([404, "ENROLLMENT_NOT_FOUND"]);

    const seen = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/sections`, as(ann)));
    expect((seen.items as { id: string; learners: number }[]).map((s) => [s.id, s.learners])).toEqual([[sectionA, 1]]);
    expect((await call(app, "GET", `/v1/courses/${courseId}/sections/${sectionB}`, as(ann))).status).toBe(404);
    expect((await call(app, "GET", `/v1/courses/${courseId}/sections`, as(outsider))).status).toBe(403);
  });

  it("keeps groups of learners with ETags; a learner sees the groups they are in", async () => {
    const created = await call(app, "POST", `/v1/courses/${courseId}/groups`, as(admin, { body: { name: "Team 1" } }));
    expect(created.status).toBe(201);
    const group = (await created.json()) as { id: string };
    const etag = created.headers.get("etag") as string;
    const added = await call(app, "POST", `/v1/courses/${courseId}/groups/${group.id}/members`, as(admin, { body: { userIds: [ann.id, bob.id] }, headers: { "if-match": etag } }));
    expect(added.status).toBe(200);
    expect(((await added.json()) as { members: { userId: string }[] }).members.map((m) => m.userId).sort()).toEqual([ann.id, bob.id].sort());
    const stale = await call(app, "PATCH", `/v1/courses/${courseId}/groups/${group.id}`, as(admin, { body: { name: "Team One" }, headers: { "if-match": etag } }));
    expect(stale.status).toBe(412);
    const notLearner = await call(app, "POST", `/v1/courses/${courseId}/groups/${group.id}/members`, as(admin, { body: { userIds: [outsider.id] } }));
    expect([notLearner.status, await problemCode(notLearner)]).toEqual([422, "NOT_A_LEARNER"]);
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/groups/${group.id}/members/${bob.id}`, as(admin))).status).toBe(200);
    const other = (await (await call(app, "POST", `/v1/courses/${courseId}/groups`, as(admin, { body: { name: "Team 2" } }))).json()) as { id: string };
    const annSees = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/groups`, as(ann)));
    expect((annSees.items as { id: string }[]).map((g) => g.id)).toEqual([group.id]);
    expect((await call(app, "GET", `/v1/courses/${courseId}/groups/${other.id}`, as(ann))).status).toBe(404);
    expect((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/groups`, as(bob)))).items).toEqual([]);
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/groups/${other.id}`, as(admin))).status).toBe(204);
  });

  it("scopes a grader to a section: queue, submissions, gradebook, progress and analytics follow", async () => {
    const notStaff = await call(app, "PUT", `/v1/courses/${courseId}/staff/${ann.id}/sections`, as(admin, { body: { sectionIds: [sectionB] } }));
    expect([notStaff.status, await problemCode(notStaff)]).toEqual([404, "NOT_COURSE_STAFF"]);
    const scoped = await call(app, "PUT", `/v1/courses/${courseId}/staff/${grader.id}/sections`, as(admin, { body: { sectionIds: [sectionB] } }));
    expect(await jsonOf(scoped)).toEqual({ userId: grader.id, sectionIds: [sectionB] });
    const [audit] = await db.sql<{ details: { sectionIds: string[] } }[]>`select details from audit_log where action = 'course.staff-sections-changed' and target_id = ${courseId}`;
    expect(audit?.details.sectionIds).toEqual([sectionB]);

    // The enrollment list, the roster and group memberships show a scoped grader only their sections' learners.
    const listed = async (user: TestUser) => ((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/enrollments`, as(user)))).items as { userId: string }[]).map((e) => e.userId);
    expect((await listed(admin)).sort()).toEqual([ann.id, bob.id].sort());
    expect(await listed(grader)).toEqual([bob.id]);
    const graderRoster = await (await call(app, "GET", `/v1/courses/${courseId}/roster.csv`, as(grader))).text();
    expect(graderRoster).toContain(bob.email);
    expect(graderRoster).not.toContain(ann.email);
    const team = (await (await call(app, "POST", `/v1/courses/${courseId}/groups`, as(admin, { body: { name: "Team 3" } }))).json()) as { id: string };
    await call(app, "POST", `/v1/courses/${courseId}/groups/${team.id}/members`, as(admin, { body: { userIds: [ann.id, bob.id] } }));
    const membersOf = (g: { members: { userId: string }[] }) => g.members.map((m) => m.userId).sort();
    expect(membersOf((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/groups/${team.id}`, as(admin)))) as { members: { userId: string }[] })).toEqual([ann.id, bob.id].sort());
    expect(membersOf((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/groups/${team.id}`, as(grader)))) as { members: { userId: string }[] })).toEqual([bob.id]);
    const graderGroups = (await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/groups`, as(grader)))).items as { id: string; members: { userId: string }[] }[];
    expect(graderGroups.flatMap((g) => g.members.map((m) => m.userId))).toEqual([bob.id]);
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/groups/${team.id}`, as(admin))).status).toBe(204);

    const essay = (await (
      await call(app, "POST", `/v1/courses/${courseId}/assessments`, as(admin, { body: { title: "Reflection", kind: "assignment", items: [{ id: "e1", type: "essay", points: 10 }], keys: {} } }))
    ).json()) as { id: string };
    for (const learner of [ann, bob]) {
      const attempt = (await (await call(app, "POST", `/v1/assessments/${essay.id}/attempts`, as(learner))).json()) as { id: string };
      await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, as(learner, { body: { answers: { e1: `Essay by ${learner.email}` } } }));
      expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, as(learner))).status).toBe(200);
      submissionOf[learner.id] = attempt.id;
    }
    const queueOf = async (user: TestUser, query = "") =>
      ((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/grading-queue${query}`, as(user)))).items as { submissionId: string; waitingItems: string[] }[]).map((i) => i.submissionId);
    expect((await queueOf(admin)).sort()).toEqual([submissionOf[ann.id], submissionOf[bob.id]].sort());
    expect(await queueOf(grader)).toEqual([submissionOf[bob.id]]);
    expect(await queueOf(admin, `?section=${sectionA}`)).toEqual([submissionOf[ann.id]]);

    // Another section's work is not found for the scoped grader, as another course's is.
    const foreign = await call(app, "POST", `/v1/submissions/${submissionOf[ann.id]}/grades`, as(grader, { body: { scores: [{ itemId: "e1", points: 5 }] } }));
    expect([foreign.status, await problemCode(foreign)]).toEqual([404, "ATTEMPT_NOT_FOUND"]);
    expect((await call(app, "GET", `/v1/submissions/${submissionOf[ann.id]}`, as(grader))).status).toBe(404);
    expect((await call(app, "GET", `/v1/submissions/${submissionOf[ann.id]}/grading`, as(grader))).status).toBe(404);
    expect(await db.sql`select 1 from manual_scores where submission_id = ${submissionOf[ann.id] as string}`).toHaveLength(0);
    expect((await call(app, "GET", `/v1/submissions/${submissionOf[bob.id]}`, as(grader))).status).toBe(200);
    expect((await call(app, "GET", `/v1/submissions/${submissionOf[ann.id]}`, as(ann))).status).toBe(200);
    const own = await call(app, "POST", `/v1/submissions/${submissionOf[bob.id]}/grades`, as(grader, { body: { scores: [{ itemId: "e1", points: 7 }] } }));
    expect(await jsonOf(own)).toEqual({ waitingItems: [] });
    expect(await queueOf(grader)).toEqual([]);

    const userIds = async (user: TestUser, path: string) => ((await jsonOf(await call(app, "GET", path, as(user)))).items as { userId: string }[]).map((r) => r.userId);
    expect((await userIds(admin, `/v1/courses/${courseId}/gradebook`)).sort()).toEqual([ann.id, bob.id].sort());
    expect(await userIds(admin, `/v1/courses/${courseId}/gradebook?section=${sectionA}`)).toEqual([ann.id]);
    expect(await userIds(grader, `/v1/courses/${courseId}/gradebook`)).toEqual([bob.id]);
    const csv = await (await call(app, "GET", `/v1/courses/${courseId}/gradebook?format=csv&section=${sectionA}`, as(admin))).text();
    expect(csv).toContain(ann.email);
    expect(csv).not.toContain(bob.email);
    const outOfScope = await call(app, "GET", `/v1/courses/${courseId}/gradebook?section=${sectionA}`, as(grader));
    expect([outOfScope.status, await problemCode(outOfScope)]).toEqual([403, "SECTION_OUT_OF_SCOPE"]);
    const noSuch = await call(app, "GET", `/v1/courses/${courseId}/gradebook?section=${crypto.randomUUID()}`, as(admin));
    expect([noSuch.status, await problemCode(noSuch)]).toEqual([404, "SECTION_NOT_FOUND"]);
    expect(await userIds(admin, `/v1/courses/${courseId}/progress?section=${sectionB}`)).toEqual([bob.id]);
    expect(await userIds(grader, `/v1/courses/${courseId}/progress`)).toEqual([bob.id]);

    const everEnrolled = async (user: TestUser, query = "") =>
      ((await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/analytics${query}`, as(user)))).summary as { everEnrolled: number } | undefined)?.everEnrolled;
    await waitFor("the analytics read model to hold both learners", async () => ((await everEnrolled(admin)) === 2 ? true : undefined), { timeoutMs: 45_000 });
    expect(await everEnrolled(admin, `?section=${sectionA}`)).toBe(1);
    expect(await everEnrolled(grader)).toBe(1);
    expect((await call(app, "GET", `/v1/courses/${courseId}/analytics?section=${sectionA}`, as(grader))).status).toBe(403);
  }, 90_000);

  it("exports the roster in the enrollments import's columns, cells neutralised", async () => {
    await db.sql`update users set display_name = '=HYPERLINK("x")' where id = ${bob.id}`;
    const res = await call(app, "GET", `/v1/courses/${courseId}/roster.csv`, as(admin));
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe("course,email,name,role,section");
    expect(lines).toContain(`CS-101,${ann.email},ann,learner,Section A`);
    expect(lines).toContain(`CS-101,${bob.email},"'=HYPERLINK(""x"")",learner,Section B`);
    expect(lines).toContain(`CS-101,${grader.email},grader,teaching-assistant,Section B`);
    expect(lines.filter((l) => l.endsWith(",instructor,"))).toHaveLength(1);
    expect((await call(app, "GET", `/v1/courses/${courseId}/roster.csv`, as(ann))).status).toBe(403);
  });

  it("imports an exported roster back: into its own course nothing changes, into a fresh course the same roster", async () => {
    const roster = async (id: string) => (await (await call(app, "GET", `/v1/courses/${id}/roster.csv`, as(admin))).text()).trimEnd().split("\r\n");
    const importRoster = async (lines: string[]) => {
      const bytes = Buffer.from(lines.join("\r\n") + "\r\n", "utf8");
      const id = await uploadImport(app, admin.accessToken, bytes, { fileName: "roster.csv", contentType: "text/csv" });
      return runImport(app, admin.accessToken, id, "enrollments", false, { timeoutMs: 30_000 });
    };
    const exported = await roster(courseId);
    const before = await db.sql`select id, user_id, status, section_id, updated_at from enrollments where course_id = ${courseId} order by id`;
    const same = await importRoster(exported);
    expect(same.status).toBe("completed");
    expect(same.counts).toEqual({
      enrollment: { created: 0, updated: 0, unchanged: 2, failed: 0, skipped: 0 },
      staff: { created: 0, updated: 0, unchanged: 2, failed: 0, skipped: 0 },
    });
    expect(await db.sql`select id, user_id, status, section_id, updated_at from enrollments where course_id = ${courseId} order by id`).toEqual(before);
    expect(await roster(courseId)).toEqual(exported);

    // A fresh course with the same sections takes the same roster (the course column names it instead).
    const fresh = (await (await call(app, "POST", "/v1/courses", as(admin, { body: { title: "Computing again", code: "CS-102" } }))).json()) as { id: string };
    for (const name of ["Section A", "Section B"]) await call(app, "POST", `/v1/courses/${fresh.id}/sections`, as(admin, { body: { name } }));
    const retargeted = exported.map((line, i) => (i === 0 ? line : line.replace(/^CS-101,/, "CS-102,")));
    const copied = await importRoster(retargeted);
    expect(copied.counts.enrollment).toMatchObject({ created: 2, failed: 0 });
    expect(await roster(fresh.id)).toEqual(retargeted);
  }, 90_000);

  it("deletes a section with If-Match: its learners stay enrolled, in no section", async () => {
    // The grader is scoped to section B alone: deleting B would widen what they see.
    const widening = await call(app, "DELETE", `/v1/courses/${courseId}/sections/${sectionB}`, as(admin));
    expect([widening.status, await problemCode(widening)]).toEqual([409, "SECTION_HAS_STAFF"]);
    const read = await call(app, "GET", `/v1/courses/${courseId}/sections/${sectionA}`, as(admin));
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/sections/${sectionA}`, as(admin, { headers: { "if-match": '"v9.l0"' } }))).status).toBe(412);
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/sections/${sectionA}`, as(admin, { headers: { "if-match": read.headers.get("etag") as string } }))).status).toBe(204);
    const [row] = await db.sql<{ status: string; section_id: string | null }[]>`select status, section_id from enrollments where id = ${enrollmentOf[ann.id] as string}`;
    expect(row).toEqual({ status: "active", section_id: null });
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/sections/${sectionA}`, as(admin))).status).toBe(404);

    // Leaving the staff ends a section scope: added back, the grader sees the whole course.
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/staff/${grader.id}`, as(admin))).status).toBe(204);
    await call(app, "POST", `/v1/courses/${courseId}/staff`, as(admin, { body: { userId: grader.id, role: "grader" } }));
    const book = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, as(grader)));
    expect((book.items as { userId: string }[]).map((r) => r.userId).sort()).toEqual([ann.id, bob.id].sort());
  });
});
