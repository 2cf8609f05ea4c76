import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Transaction } from "../../../domain/db/client.js";
import { enroll } from "../../../domain/enrollment/enroll.js";
import type { EnrollmentView } from "../../../domain/enrollment/enrollment-view.js";
import { acceptOffer, leaveCourse } from "../../../domain/enrollment/leave.js";
import { eventCatalog, type EventType } from "../../../domain/events/catalog.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { Result } from "../../../domain/shared/result.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { countBy, courseEvents, enrollmentState, insertLearners, insertPublishedCourse } from "../../support/enrollment-fixtures.js";

// Real parallel connections: every operation runs in its own transaction on its own pooled connection,
// so the course row lock is what keeps them apart.
const POOL = 30;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: POOL });
});
afterAll(async () => {
  await db?.drop();
});

const clock = new Date("2031-03-01T09:00:00.000Z");

/** Runs one domain operation in a transaction of its own, as the learner. */
function asLearner<T>(userId: string, op: (ctx: DomainContext) => Promise<T>): Promise<T> {
  return db.db.transaction((tx: Transaction) =>
    op({ db: tx, now: () => clock, newId: uuidv7, actor: { userId, requestId: null, clientIp: null, traceparent: null } }),
  );
}

/** Every call settles; thrown errors and failed results are both failures the caller asserts on. */
async function settleAll<T, C extends string>(calls: (() => Promise<Result<T, C>>)[]) {
  const settled = await Promise.allSettled(calls.map((c) => c()));
  const thrown = settled.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : []));
  const results = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  return { thrown, results };
}

function values<T, C extends string>(results: Result<T, C>[]): T[] {
  const failed = results.flatMap((r) => (r.ok ? [] : [r.error.code]));
  expect(failed, "failed results").toEqual([]);
  return results.flatMap((r) => (r.ok ? [r.value] : []));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sortedNumbers = (xs: (number | null)[]) => xs.map(Number).sort((a, b) => a - b);

async function seatsTaken(courseId: string): Promise<number> {
  const [row] = await db.sql<{ seats_taken: number }[]>`select seats_taken from courses where id = ${courseId}`;
  return row?.seats_taken ?? NaN;
}

/** The course's outbox events, each checked against the catalog schema of its type. */
async function checkedEvents(courseId: string) {
  const events = await courseEvents(db.sql, courseId);
  for (const e of events) {
    expect(e.type in eventCatalog, `unknown event type ${e.type}`).toBe(true);
    const parsed = eventCatalog[e.type as EventType].safeParse(e.data);
    expect(parsed.success, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
  }
  return events;
}

describe("enrollment under load, waitlist mode auto", () => {
  const CAPACITY = 50;
  const LEARNERS = 500;
  let courseId: string;
  let learners: string[];
  /** Learner id → what enroll answered. */
  const joined = new Map<string, EnrollmentView>();
  /** Learner ids in the order of the positions enroll handed out (index 0 = position 1). */
  let line: string[] = [];

  beforeAll(async () => {
    courseId = await insertPublishedCourse(db.sql, { capacity: CAPACITY, waitlistMode: "auto" });
    learners = await insertLearners(db.sql, LEARNERS, "auto");
  });

  it("seats exactly the capacity and gives 500 concurrent joiners dense, unique waitlist positions", async () => {
    const { thrown, results } = await settleAll(learners.map((userId) => () => asLearner(userId, (ctx) => enroll(ctx, { courseId, userId, source: "self" }))));
    expect(thrown).toEqual([]);
    const views = values(results);
    expect(views).toHaveLength(LEARNERS);
    for (const v of views) joined.set(v.userId, v);

    const active = views.filter((v) => v.status === "active");
    const waitlisted = views.filter((v) => v.status === "waitlisted");
    expect(active).toHaveLength(CAPACITY);
    expect(waitlisted).toHaveLength(LEARNERS - CAPACITY);
    expect(active.every((v) => v.position === null)).toBe(true);
    expect(sortedNumbers(waitlisted.map((v) => v.position))).toEqual(range(1, LEARNERS - CAPACITY));
    line = [...waitlisted].sort((a, b) => (a.position ?? 0) - (b.position ?? 0)).map((v) => v.userId);

    // The table agrees: the same rows, and the positions counted from waitlist_seq are the ones handed out.
    const rows = await enrollmentState(db.sql, courseId);
    expect(countBy(rows, (r) => r.status)).toEqual({ active: CAPACITY, waitlisted: LEARNERS - CAPACITY });
    for (const r of rows) {
      const v = joined.get(r.userId);
      expect(v?.id).toBe(r.id);
      expect(r.status).toBe(v?.status);
      expect(r.position).toBe(v?.position);
    }
    expect(await seatsTaken(courseId)).toBe(CAPACITY);
  });

  it("promotes the first in line, in FIFO order, when 100 active learners drop (two concurrent waves of 50)", async () => {
    // Only 50 learners are active at a time, so the 100 drops come in two waves: the 50 seated at first,
    // then the 50 the first wave promoted (waitlist positions 1..50). Each wave is fully concurrent.
    const dropped: string[] = [];
    const firstWave = [...joined.values()].filter((v) => v.status === "active").map((v) => v.userId);
    const secondWave = line.slice(0, CAPACITY);
    for (const wave of [firstWave, secondWave]) {
      const { thrown, results } = await settleAll(wave.map((userId) => () => asLearner(userId, (ctx) => leaveCourse(ctx, { courseId, userId, by: "learner" }))));
      expect(thrown).toEqual([]);
      const ended = values(results);
      expect(ended.map((v) => v.status)).toEqual(wave.map(() => "dropped"));
      dropped.push(...wave);
      expect(await seatsTaken(courseId)).toBe(CAPACITY);
    }

    const rows = await enrollmentState(db.sql, courseId);
    const byUser = new Map(rows.map((r) => [r.userId, r]));
    expect(countBy(rows, (r) => r.status)).toEqual({ active: CAPACITY, dropped: 100, waitlisted: LEARNERS - CAPACITY - 100 });
    for (const userId of dropped) expect(byUser.get(userId)?.status).toBe("dropped");
    // The 100 promoted are exactly positions 1..100 of the original line, the rest stay in line, renumbered 1..350.
    for (const userId of line.slice(50, 100)) expect(byUser.get(userId)?.status).toBe("active");
    const rest = line.slice(100);
    expect(rest.map((u) => byUser.get(u)?.position)).toEqual(range(1, LEARNERS - CAPACITY - 100));

    // FIFO: the promotions were committed in the order of the line.
    const promoted = (await courseEvents(db.sql, courseId)).filter((e) => e.type === "enrollment.promoted");
    expect(promoted.map((e) => e.data.userId)).toEqual(line.slice(0, 100));
    expect(promoted.every((e) => e.data.from === "waitlisted")).toBe(true);
  });

  it("records exactly one outbox event per change, each valid against the event catalog", async () => {
    const events = await checkedEvents(courseId);
    expect(countBy(events, (e) => e.type)).toEqual({
      "enrollment.created": CAPACITY,
      "enrollment.waitlisted": LEARNERS - CAPACITY,
      "enrollment.dropped": 100,
      "enrollment.promoted": 100,
    });
    // One event per enrollment and change, never two for the same one.
    for (const type of ["enrollment.created", "enrollment.waitlisted", "enrollment.dropped", "enrollment.promoted"]) {
      const ids = events.filter((e) => e.type === type).map((e) => e.aggregateId);
      expect(new Set(ids).size, type).toBe(ids.length);
    }
    // Each waitlisted event carries the position that learner was told.
    for (const e of events.filter((x) => x.type === "enrollment.waitlisted")) {
      expect(e.data.position).toBe(joined.get(e.data.userId as string)?.position);
    }
    expect(events.filter((e) => e.type === "enrollment.dropped").every((e) => e.data.previousStatus === "active" && e.data.by === "learner")).toBe(true);
  });
});

describe("enrollment under load, waitlist mode offer", () => {
  const CAPACITY = 50;
  const LEARNERS = 200;
  const TTL_HOURS = 24;
  let courseId: string;
  let line: string[] = [];
  let seated: string[] = [];

  beforeAll(async () => {
    courseId = await insertPublishedCourse(db.sql, { capacity: CAPACITY, waitlistMode: "offer", offerTtlHours: TTL_HOURS });
    const learners = await insertLearners(db.sql, LEARNERS, "offer");
    const { thrown, results } = await settleAll(learners.map((userId) => () => asLearner(userId, (ctx) => enroll(ctx, { courseId, userId, source: "self" }))));
    expect(thrown).toEqual([]);
    const views = values(results);
    seated = views.filter((v) => v.status === "active").map((v) => v.userId);
    line = views
      .filter((v) => v.status === "waitlisted")
      .sort((a, b) => (a.position ?? 0) - (b.position ?? 0))
      .map((v) => v.userId);
    expect(seated).toHaveLength(CAPACITY);
    expect(line).toHaveLength(LEARNERS - CAPACITY);
  });

  it("offers each seat freed by 30 concurrent drops to the first in line, holding the seat until the offer expires", async () => {
    const wave = seated.slice(0, 30);
    const { thrown, results } = await settleAll(wave.map((userId) => () => asLearner(userId, (ctx) => leaveCourse(ctx, { courseId, userId, by: "learner" }))));
    expect(thrown).toEqual([]);
    values(results);

    const rows = await enrollmentState(db.sql, courseId);
    const byUser = new Map(rows.map((r) => [r.userId, r]));
    expect(countBy(rows, (r) => r.status)).toEqual({ active: 20, offered: 30, dropped: 30, waitlisted: LEARNERS - CAPACITY - 30 });
    const expiry = new Date(clock.getTime() + TTL_HOURS * 3_600_000);
    for (const userId of line.slice(0, 30)) {
      expect(byUser.get(userId)?.status).toBe("offered");
      expect(byUser.get(userId)?.offerExpiresAt?.toISOString()).toBe(expiry.toISOString());
    }
    // Open offers hold their seats: nothing is free, so a newcomer goes to the back of the line.
    expect(await seatsTaken(courseId)).toBe(CAPACITY);
    const [newcomer] = await insertLearners(db.sql, 1, "late");
    const late = await asLearner(newcomer as string, (ctx) => enroll(ctx, { courseId, userId: newcomer as string, source: "self" }));
    expect(late.ok && late.value.status).toBe("waitlisted");
    expect(late.ok && late.value.position).toBe(LEARNERS - CAPACITY - 30 + 1);
    line.push(newcomer as string);

    const offered = (await checkedEvents(courseId)).filter((e) => e.type === "enrollment.offered");
    expect(offered.map((e) => e.data.userId)).toEqual(line.slice(0, 30));
    expect(offered.every((e) => e.data.offerExpiresAt === expiry.toISOString())).toBe(true);
  });

  it("keeps seats, offers and the line consistent while offers are accepted and more learners drop at once", async () => {
    const accepting = line.slice(0, 30);
    const dropping = seated.slice(30, 50);
    // The next 20 in line try to accept too, racing the drops that offer them their seats: each either finds
    // its offer (accepted) or comes too early (NO_OPEN_OFFER); nothing else.
    const racing = line.slice(30, 50);
    const calls = [
      ...accepting.map((userId) => () => asLearner(userId, (ctx) => acceptOffer(ctx, courseId, userId))),
      ...dropping.map((userId) => () => asLearner(userId, (ctx) => leaveCourse(ctx, { courseId, userId, by: "learner" }))),
      ...racing.map((userId) => () => asLearner(userId, (ctx) => acceptOffer(ctx, courseId, userId))),
    ];
    // Interleave the three groups so they really contend for the course lock.
    const order = calls.map((_, i) => i).sort((a, b) => ((a * 7919) % calls.length) - ((b * 7919) % calls.length));
    const settled = await settleAll(order.map((i) => calls[i] as (typeof calls)[number]));
    expect(settled.thrown).toEqual([]);
    const resultOf = new Map(order.map((i, k) => [i, settled.results[k]]));
    const outcome = (from: number, n: number) => range(from, from + n - 1).map((i) => resultOf.get(i));
    expect(outcome(0, 30).every((r) => r?.ok && r.value.status === "active")).toBe(true);
    expect(outcome(30, 20).every((r) => r?.ok && r.value.status === "dropped")).toBe(true);
    const raced = outcome(50, 20);
    expect(raced.every((r) => (r?.ok ? r.value.status === "active" : r?.error.code === "NO_OPEN_OFFER"))).toBe(true);
    const wonRace = raced.filter((r) => r?.ok).length;

    const rows = await enrollmentState(db.sql, courseId);
    const byUser = new Map(rows.map((r) => [r.userId, r]));
    const counts = countBy(rows, (r) => r.status);
    expect(counts).toEqual({
      active: 30 + wonRace,
      dropped: 50,
      ...(20 - wonRace > 0 ? { offered: 20 - wonRace } : {}),
      waitlisted: LEARNERS - CAPACITY - 50 + 1,
    });
    // Every seat is held by an active learner or an open offer, and the counter says so.
    expect((counts.active ?? 0) + (counts.offered ?? 0)).toBe(CAPACITY);
    expect(await seatsTaken(courseId)).toBe(CAPACITY);
    for (const userId of racing) expect(["active", "offered"]).toContain(byUser.get(userId)?.status);
    expect(line.slice(50).map((u) => byUser.get(u)?.position)).toEqual(range(1, LEARNERS - CAPACITY - 50 + 1));

    const events = await checkedEvents(courseId);
    expect(countBy(events, (e) => e.type)).toEqual({
      "enrollment.created": CAPACITY,
      "enrollment.waitlisted": LEARNERS - CAPACITY + 1,
      "enrollment.dropped": 50,
      "enrollment.offered": 50,
      "enrollment.promoted": 30 + wonRace,
    });
    const offered = events.filter((e) => e.type === "enrollment.offered");
    expect(offered.map((e) => e.data.userId)).toEqual(line.slice(0, 50));
    expect(events.filter((e) => e.type === "enrollment.promoted").every((e) => e.data.from === "offered")).toBe(true);
  });
});

describe("races the seat statement must decide", () => {
  it("lets one of 20 concurrent enrollments of the same learner through; the others answer ALREADY_ENROLLED", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
    const [userId] = (await insertLearners(db.sql, 1, "twice")) as [string];
    const { thrown, results } = await settleAll(range(1, 20).map(() => () => asLearner(userId, (ctx) => enroll(ctx, { courseId, userId, source: "self" }))));
    expect(thrown).toEqual([]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.flatMap((r) => (r.ok ? [] : [r.error.code]))).toEqual(Array(19).fill("ALREADY_ENROLLED"));

    const rows = await enrollmentState(db.sql, courseId);
    expect(countBy(rows, (r) => r.status)).toEqual({ active: 1 });
    expect(await seatsTaken(courseId)).toBe(1);
    expect(countBy(await checkedEvents(courseId), (e) => e.type)).toEqual({ "enrollment.created": 1 });
  });

  it("gives the last seat of a course without a waitlist to exactly one of 40 racing learners", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 3 });
    await db.sql`update courses set waitlist_enabled = false where id = ${courseId}`;
    const [first, second, ...crowd] = await insertLearners(db.sql, 42, "last-seat");
    for (const userId of [first, second] as string[]) {
      expect((await asLearner(userId, (ctx) => enroll(ctx, { courseId, userId, source: "self" }))).ok).toBe(true);
    }
    const { thrown, results } = await settleAll(crowd.map((userId) => () => asLearner(userId, (ctx) => enroll(ctx, { courseId, userId, source: "self" }))));
    expect(thrown).toEqual([]);
    expect(results.filter((r) => r.ok && r.value.status === "active")).toHaveLength(1);
    expect(results.flatMap((r) => (r.ok ? [] : [r.error.code]))).toEqual(Array(39).fill("COURSE_FULL"));

    const rows = await enrollmentState(db.sql, courseId);
    expect(countBy(rows, (r) => r.status)).toEqual({ active: 3 });
    expect(await seatsTaken(courseId)).toBe(3);
    expect(countBy(await checkedEvents(courseId), (e) => e.type)).toEqual({ "enrollment.created": 3 });
  });

  it("refuses a course archived after the unlocked read, on the locked row", async () => {
    const courseId = await insertPublishedCourse(db.sql, { capacity: 3 });
    const [userId] = (await insertLearners(db.sql, 1, "archived")) as [string];
    // The course is archived between enroll's read and its seat statement: the statement finds it so.
    const result = await asLearner(userId, (ctx) => {
      let reads = 0;
      const db = new Proxy(ctx.db, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver) as unknown;
          if (name !== "execute" || typeof value !== "function") return value;
          return async (...args: unknown[]) => {
            const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (reads++ === 0) await archiveNow(courseId);
            return out;
          };
        },
      });
      return enroll({ ...ctx, db }, { courseId, userId, source: "self" });
    });
    expect(result.ok ? result.value.status : result.error.code).toBe("COURSE_ARCHIVED");
    expect(await enrollmentState(db.sql, courseId)).toEqual([]);
    expect(await seatsTaken(courseId)).toBe(0);
  });
});

const archiveNow = (courseId: string) => db.sql`update courses set status = 'archived', archived_at = now() where id = ${courseId}`;
