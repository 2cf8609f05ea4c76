import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import { expectProblem, expectValidationProblem } from "../support/problems.js";
import { fireFunction } from "../support/timers.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Fees and held seats over HTTP against the local runtime (one app start): the bursar's fee routes and their
// refusals, enrolling in a course that asks for payment first (pending-payment, no access), discounts granted before
// and after the invoice, the seat-holds timer releasing an unpaid seat to the waitlist, an accepted offer held for
// payment, and dropping a held seat. Payment activating a held seat is covered by the payments and dunning suites.

const HOUR = 3_600_000;
const HOLD_HOURS = 48;

let db: TestDatabase;
let app: RunningApp;
let bursar: TestUser;
let instructor: TestUser;
let first: TestUser;
let second: TestUser;
let third: TestUser;
let courseId: string;
let feeId: string;
let feeEtag: string;

interface Fee {
  id: string;
  amountMinor: number;
  currency: string;
  requirement: string;
  instalments: { seq: number; amountMinor: number; dueAfterDays: number }[];
  lateFee: { kind: string; value: number; graceDays: number };
  retiredAt: string | null;
  version: number;
}
interface Enrollment {
  status: string;
  paymentDueAt: string | null;
  enrolledAt: string | null;
}

const feesPath = () => `/v1/courses/${courseId}/fees`;
const feeBody = (patch: Record<string, unknown> = {}) => ({
  name: "Tuition, autumn",
  currency: "USD",
  amountMinor: 100_000,
  requirement: "first-instalment",
  instalments: [
    { amountMinor: 40_000, dueAfterDays: 0 },
    { amountMinor: 60_000, dueAfterDays: 30 },
  ],
  lateFee: { kind: "percent", value: 500, graceDays: 3 },
  ...patch,
});
const enrollmentOf = async (user: TestUser) =>
  (await db.sql<{ status: string; payment_due_at: Date | null }[]>`select status, payment_due_at from enrollments where course_id = ${courseId} and user_id = ${user.id} order by created_at desc limit 1`)[0];
const seatsTaken = async () => (await db.sql<{ n: number }[]>`select seats_taken as n from courses where id = ${courseId}`)[0]?.n;
const audits = async (action: string, targetId: string) => (await db.sql`select 1 from audit_log where action = ${action} and target_id = ${targetId}`).length;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, PAYMENT_HOLD_HOURS: String(HOLD_HOURS) } });
  [bursar, instructor, first, second, third] = await Promise.all([
    signUp(app, db, { label: "bursar", finance: true }),
    signUp(app, db, { label: "fee-instructor" }),
    signUp(app, db, { label: "first-learner" }),
    signUp(app, db, { label: "second-learner" }),
    signUp(app, db, { label: "third-learner" }),
  ]);
  courseId = await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
  // One seat, and a waitlist whose seats are offered (the offer is answered over HTTP).
  await db.sql`update courses set status = 'published', self_enrollment = true, capacity = 1, waitlist_enabled = true, waitlist_mode = 'offer' where id = ${courseId}`;
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("fees", () => {
  it("refuses fees from anyone but the bursar, and terms that do not hold together, creating nothing", async () => {
    await expectProblem(await call(app, "POST", feesPath(), { token: first.accessToken, body: feeBody() }), 403, "FORBIDDEN");
    await expectProblem(await call(app, "POST", feesPath(), { token: instructor.accessToken, body: feeBody() }), 403, "FORBIDDEN");
    const post = (patch: Record<string, unknown>) => call(app, "POST", feesPath(), { token: bursar.accessToken, body: feeBody(patch) });
    const mismatch = await expectProblem(await post({ instalments: [{ amountMinor: 40_000 }, { amountMinor: 59_999, dueAfterDays: 30 }] }), 422, "FEE_INVALID");
    expect(mismatch.errors).toEqual([expect.objectContaining({ path: "body.instalments" })]);
    await expectProblem(await post({ instalments: [{ amountMinor: 40_000, dueAfterDays: 30 }, { amountMinor: 60_000, dueAfterDays: 10 }] }), 422, "FEE_INVALID");
    await expectProblem(await post({ requirement: "first-instalment", instalments: [] }), 422, "FEE_INVALID");
    await expectProblem(await post({ lateFee: { kind: "percent", value: 10_001, graceDays: 0 } }), 422, "FEE_INVALID");
    await expectValidationProblem(await post({ currency: "usd" }), "body.currency");
    await expectValidationProblem(await post({ currency: "XYZ" }), "body.currency");
    await expectValidationProblem(await post({ amountMinor: 1000.5 }), "body.amountMinor");
    await expectValidationProblem(await post({ amountMinor: -100 }), "body.amountMinor");
    await expectValidationProblem(await post({ amountMinor: "100.00" }), "body.amountMinor");
    await expectValidationProblem(await post({ name: "Tuition\u0000" }), "body.name");
    await expectValidationProblem(await post({ surprise: true }), "body.surprise");
    await expectProblem(await post({ sectionId: crypto.randomUUID() }), 404, "SECTION_NOT_FOUND");
    await expectProblem(await call(app, "POST", `/v1/courses/${crypto.randomUUID()}/fees`, { token: bursar.accessToken, body: feeBody() }), 404, "COURSE_NOT_FOUND");
    expect(await db.sql`select 1 from fees`).toHaveLength(0);
  });

  it("creates a fee with a two-part plan; anyone sees the published course's price; changes need the current ETag", async () => {
    const created = await call(app, "POST", feesPath(), { token: bursar.accessToken, body: feeBody() });
    expect(created.status, await created.clone().text()).toBe(201);
    const fee = (await created.json()) as Fee;
    feeId = fee.id;
    feeEtag = created.headers.get("etag")!;
    expect(fee).toMatchObject({ amountMinor: 100_000, currency: "USD", requirement: "first-instalment", lateFee: { kind: "percent", value: 500, graceDays: 3 } });
    expect(fee.instalments.map((p) => [p.seq, p.amountMinor, p.dueAfterDays])).toEqual([
      [1, 40_000, 0],
      [2, 60_000, 30],
    ]);
    expect(await audits("fee.created", feeId)).toBe(1);

    const course = (await (await call(app, "GET", `/v1/courses/${courseId}`)).json()) as { paymentRequired: boolean };
    expect(course.paymentRequired).toBe(true);
    const listed = await call(app, "GET", feesPath());
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: Fee[] }).items.map((f) => f.id)).toEqual([feeId]);

    await expectProblem(await call(app, "PATCH", `${feesPath()}/${feeId}`, { token: bursar.accessToken, body: { name: "Old" }, headers: { "if-match": '"v99"' } }), 412, "PRECONDITION_FAILED");
    const renamed = await call(app, "PATCH", `${feesPath()}/${feeId}`, { token: bursar.accessToken, body: { name: "Tuition" }, headers: { "if-match": feeEtag } });
    expect(renamed.status, await renamed.clone().text()).toBe(200);
    feeEtag = renamed.headers.get("etag")!;
    expect(await audits("fee.changed", feeId)).toBe(1);
  });
});

describe("held seats", () => {
  it("holds the seat of a learner who enrolls as pending-payment, without access, and puts the next in line", async () => {
    const before = Date.now();
    const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: first.accessToken });
    expect(res.status, await res.clone().text()).toBe(201);
    const held = (await res.json()) as Enrollment;
    expect(held.status).toBe("pending-payment");
    expect(held.enrolledAt).toBeNull();
    const due = Date.parse(held.paymentDueAt!);
    expect(due).toBeGreaterThanOrEqual(before + HOLD_HOURS * HOUR - 1000);
    expect(due).toBeLessThanOrEqual(Date.now() + HOLD_HOURS * HOUR + 1000);
    expect(await seatsTaken()).toBe(1);
    const events = await db.sql<{ type: string }[]>`select type from outbox where course_id = ${courseId} and data->>'userId' = ${first.id}`;
    expect(events.map((e) => e.type)).toEqual(["enrollment.pending-payment"]);

    // No access to the course's content while the seat is only held.
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/modules`, { token: first.accessToken }), 403, "FORBIDDEN");

    const line = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: second.accessToken });
    expect(((await line.json()) as Enrollment).status).toBe("waitlisted");

    // The invoices subscription issues the held seat's invoice; from then on the fee's terms are fixed.
    await waitFor("the held seat's invoice", async () => (await db.sql`select 1 from invoices where fee_id = ${feeId} and user_id = ${first.id}`)[0], {
      timeoutMs: 20_000,
      diagnostics: () => recentErrors(app),
    });
    await expectProblem(await call(app, "PATCH", `${feesPath()}/${feeId}`, { token: bursar.accessToken, body: { amountMinor: 90_000, instalments: [{ amountMinor: 30_000 }, { amountMinor: 60_000, dueAfterDays: 30 }] } }), 409, "FEE_INVOICED");

    // The learner is told until when the seat is held (in UTC, the same in every language), and the required
    // first instalment falls due by then (the cap itself: tests/domain/finance/fee-rules.test.ts).
    const heldUntil = new Date(due).toISOString();
    const notice = await waitForMail(app, first.email, "Your seat in");
    expect(notice.subject).toContain(`held until ${heldUntil.slice(0, 10)} ${heldUntil.slice(11, 16)} UTC`);
    const [firstPart] = await db.sql<{ due_at: Date }[]>`select p.due_at from invoice_instalments p join invoices i on i.id = p.invoice_id where i.fee_id = ${feeId} and i.user_id = ${first.id} and p.seq = 1`;
    expect(Date.parse(String(firstPart!.due_at))).toBeLessThanOrEqual(due);
  });

  it("grants and revokes discounts before issue, credits one granted after issue and refuses revoking it, audited", async () => {
    const discounts = `${feesPath()}/${feeId}/discounts`;
    const grant = (body: Record<string, unknown>, token = bursar.accessToken) => call(app, "POST", discounts, { token, body });
    await expectProblem(await grant({ userId: third.id, kind: "percent", value: 2500, reason: "Scholarship" }, third.accessToken), 403, "FORBIDDEN");
    await expectProblem(await grant({ userId: third.id, kind: "percent", value: 10_001, reason: "Too much" }), 422, "FEE_DISCOUNT_INVALID");
    await expectProblem(await grant({ userId: third.id, kind: "fixed", value: 100_001, reason: "Too much" }), 422, "FEE_DISCOUNT_INVALID");
    await expectValidationProblem(await grant({ userId: third.id, kind: "fixed", value: 10.5, reason: "Half a cent" }), "body.value");
    await expectValidationProblem(await grant({ userId: third.id, kind: "fixed", value: 100 }), "body.reason");
    await expectProblem(await grant({ userId: crypto.randomUUID(), kind: "waiver", reason: "Nobody" }), 404, "USER_NOT_FOUND");

    // Before any invoice: granted, one at a time, and revocable.
    const granted = await grant({ userId: third.id, kind: "percent", value: 2500, reason: "Scholarship" });
    expect(granted.status, await granted.clone().text()).toBe(201);
    const early = (await granted.json()) as { id: string; creditNote: unknown };
    expect(early.creditNote).toBeNull();
    await expectProblem(await grant({ userId: third.id, kind: "waiver", reason: "Twice" }), 409, "FEE_DISCOUNT_EXISTS");
    expect((await call(app, "DELETE", `${discounts}/${early.id}`, { token: bursar.accessToken })).status).toBe(204);
    await expectProblem(await call(app, "DELETE", `${discounts}/${early.id}`, { token: bursar.accessToken }), 404, "FEE_DISCOUNT_NOT_FOUND");
    expect(await audits("fee.discount-granted", early.id)).toBe(1);
    expect(await audits("fee.discount-revoked", early.id)).toBe(1);

    // After the invoice: a credit note for the discount's amount, and the discount stands.
    const late = await grant({ userId: first.id, kind: "fixed", value: 10_000, reason: "Sibling" });
    expect(late.status, await late.clone().text()).toBe(201);
    const applied = (await late.json()) as { id: string; creditNote: { id: string; amountMinor: number } | null };
    expect(applied.creditNote?.amountMinor).toBe(10_000);
    const [note] = await db.sql<{ amount_minor: number; reason: string }[]>`select amount_minor::int as amount_minor, reason from credit_notes where id = ${applied.creditNote!.id}`;
    expect(note).toEqual({ amount_minor: 10_000, reason: "Discount: Sibling" });
    await expectProblem(await call(app, "DELETE", `${discounts}/${applied.id}`, { token: bursar.accessToken }), 409, "FEE_DISCOUNT_APPLIED");

    const list = await call(app, "GET", `${discounts}?limit=1`, { token: bursar.accessToken });
    const page = (await list.json()) as { items: { id: string }[]; nextCursor: string | null };
    expect(page.items).toHaveLength(1);
    const rest = (await (await call(app, "GET", `${discounts}?cursor=${page.nextCursor}`, { token: bursar.accessToken })).json()) as { items: { id: string }[] };
    expect([...page.items, ...rest.items].map((d) => d.id).sort()).toEqual([early.id, applied.id].sort());
  });

  it("releases an unpaid hold when its time passes, offers the seat to the next in line, and holds the accepted offer for payment", async () => {
    await db.sql`update enrollments set payment_due_at = now() - interval '1 minute' where course_id = ${courseId} and user_id = ${first.id} and status = 'pending-payment'`;
    expect((await fireFunction(app, "seat-holds-release")).status).toBe(202);
    await waitFor("the hold released", async () => ((await enrollmentOf(first))?.status === "payment-expired" ? true : undefined), { diagnostics: () => recentErrors(app) });
    expect((await enrollmentOf(second))?.status).toBe("offered");
    expect(await seatsTaken()).toBe(1);
    const expired = await db.sql`select 1 from outbox where type = 'enrollment.payment-expired' and data->>'userId' = ${first.id}`;
    expect(expired).toHaveLength(1);
    await waitForMail(app, second.email, "A seat in");
    await waitForMail(app, first.email, "Your seat in", { nth: 2 });
    expect((await mailsTo(app, first.email, "Your seat in")).filter((m) => m.subject.endsWith("was released"))).toHaveLength(1);


    const accepted = await call(app, "POST", `/v1/courses/${courseId}/enrollments/offer/accept`, { token: second.accessToken });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const held = (await accepted.json()) as Enrollment;
    expect(held.status).toBe("pending-payment");
    expect(Date.parse(held.paymentDueAt!)).toBeGreaterThan(Date.now() + (HOLD_HOURS - 1) * HOUR);
    const [event] = await db.sql<{ data: { source: string } }[]>`select data from outbox where type = 'enrollment.pending-payment' and data->>'userId' = ${second.id}`;
    expect(event?.data.source).toBe("waitlist");
    expect(await seatsTaken()).toBe(1);
    expect((await enrollmentOf(first))?.status).toBe("payment-expired");
  });

  it("lets a learner drop a held seat, freeing it; after the fee is retired new learners are enrolled at once", async () => {
    const dropped = await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${second.id}`, { token: second.accessToken });
    expect(dropped.status, await dropped.text()).toBe(204);
    expect(await seatsTaken()).toBe(0);

    const retired = await call(app, "POST", `${feesPath()}/${feeId}/retire`, { token: bursar.accessToken });
    expect(retired.status, await retired.clone().text()).toBe(200);
    expect(((await retired.json()) as Fee).retiredAt).not.toBeNull();
    expect(await audits("fee.retired", feeId)).toBe(1);
    // A retired fee is not shown to the public, nor changed.
    expect(((await (await call(app, "GET", feesPath())).json()) as { items: unknown[] }).items).toHaveLength(0);
    expect(((await (await call(app, "GET", `/v1/courses/${courseId}`)).json()) as { paymentRequired: boolean }).paymentRequired).toBe(false);
    await expectProblem(await call(app, "GET", `${feesPath()}/${feeId}`), 404, "FEE_NOT_FOUND");
    await expectProblem(await call(app, "PATCH", `${feesPath()}/${feeId}`, { token: bursar.accessToken, body: { name: "Again" } }), 409, "FEE_RETIRED");

    const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: third.accessToken });
    const enrolled = (await res.json()) as Enrollment;
    expect(enrolled).toMatchObject({ status: "active", paymentDueAt: null });
  });

  it("invoices a section's fee when a learner already enrolled is placed in the section", async () => {
    const section = await call(app, "POST", `/v1/courses/${courseId}/sections`, { token: instructor.accessToken, body: { name: "Lab" } });
    expect(section.status, await section.clone().text()).toBe(201);
    const sectionId = ((await section.json()) as { id: string }).id;
    const labFee = await call(app, "POST", feesPath(), { token: bursar.accessToken, body: feeBody({ name: "Lab materials", amountMinor: 5_000, requirement: "none", instalments: [], sectionId }) });
    expect(labFee.status, await labFee.clone().text()).toBe(201);
    const labFeeId = ((await labFee.json()) as Fee).id;
    const [enrollment] = await db.sql<{ id: string }[]>`select id from enrollments where course_id = ${courseId} and user_id = ${third.id} and status = 'active'`;
    const placed = await call(app, "PUT", `/v1/courses/${courseId}/enrollments/${enrollment!.id}/section`, { token: instructor.accessToken, body: { sectionId } });
    expect(placed.status, await placed.clone().text()).toBe(200);
    const [event] = await db.sql<{ data: Record<string, unknown> }[]>`select data from outbox where type = 'enrollment.section-changed' and aggregate_id = ${enrollment!.id}`;
    expect(event?.data).toEqual({ enrollmentId: enrollment!.id, courseId, userId: third.id, sectionId, previousSectionId: null });
    await waitFor("the section fee's invoice", async () => (await db.sql`select 1 from invoices where fee_id = ${labFeeId} and user_id = ${third.id}`)[0], {
      timeoutMs: 20_000,
      diagnostics: () => recentErrors(app),
    });
  });
});
