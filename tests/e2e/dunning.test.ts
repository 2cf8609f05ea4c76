import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { mailsTo, waitForMail } from "../support/mailbox.js";
import type { StoredMail } from "@ringlet/local-runtime/mail-sink";
import { expectProblem } from "../support/problems.js";
import { fireFunction, succeededRuns } from "../support/timers.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Reminders and dunning over HTTP, the bus and the timer (one app start, suspension after 1 day overdue): an
// instalment plan with a late fee — the due-soon reminder, then the overdue notice with the late fee charged once
// (invoice.overdue on the bus, the fee on the invoice's view), a second run that does nothing, the suspension of
// the enrollment and its reinstatement by the bursar's manual payment. Due dates are moved in the database to
// stand for the time passing.

let db: TestDatabase;
let app: RunningApp;
let bursar: TestUser;
let learner: TestUser;
let courseId: string;
let invoiceId: string;

interface InvoiceView {
  number: string;
  status: string;
  outstandingMinor: number;
  instalments: { seq: number; amountMinor: number; lateFeeMinor: number; outstandingMinor: number }[];
  ledger: { kind: string; amountMinor: number }[];
}

const invoice = async (): Promise<InvoiceView> => {
  const res = await call(app, "GET", `/v1/invoices/${invoiceId}`, { token: learner.accessToken });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as InvoiceView;
};
const moveDue = (seq: number, interval: string) => db.sql`update invoice_instalments set due_at = now() + ${interval}::interval where invoice_id = ${invoiceId} and seq = ${seq}`;
const status = async () => (await db.sql<{ status: string }[]>`select status from enrollments where course_id = ${courseId} and user_id = ${learner.id}`)[0]?.status;

// The invoice's own email ("Invoice INV-… for <course>: …") is not a reminder.
const reminders = async () => (await mailsTo(app, learner.email, "Invoice INV-")).filter((m) => / due |is overdue/.test(m.subject));
const waitForReminder = (nth: number): Promise<StoredMail> =>
  waitFor(`reminder ${nth}`, async () => (await reminders())[nth - 1], { timeoutMs: 20_000, diagnostics: () => recentErrors(app) });

/** Fires the timer and waits for that run to finish. */
async function runReminders(): Promise<void> {
  const before = succeededRuns(app, "finance-reminders");
  expect((await fireFunction(app, "finance-reminders")).status).toBe(202);
  await waitFor("the finance-reminders run", async () => (succeededRuns(app, "finance-reminders") > before ? true : undefined), { diagnostics: () => recentErrors(app) });
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, ENROLLMENT_SUSPEND_AFTER_DAYS: "1", INVOICE_DUE_SOON_DAYS: "3" } });
  [bursar, learner] = await Promise.all([signUp(app, db, { label: "dunning-bursar", finance: true }), signUp(app, db, { label: "dunning-learner" })]);
  courseId = await createCourse(db);
  await db.sql`update courses set status = 'published', self_enrollment = true, capacity = 10 where id = ${courseId}`;
  const fee = await call(app, "POST", `/v1/courses/${courseId}/fees`, {
    token: bursar.accessToken,
    body: {
      name: "Tuition",
      currency: "USD",
      amountMinor: 100_000,
      requirement: "none",
      instalments: [
        { amountMinor: 40_000, dueAfterDays: 10 },
        { amountMinor: 60_000, dueAfterDays: 40 },
      ],
      lateFee: { kind: "percent", value: 500, graceDays: 0 },
    },
  });
  expect(fee.status, await fee.clone().text()).toBe(201);
  const enrolled = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });
  expect(enrolled.status, await enrolled.clone().text()).toBe(201);
  invoiceId = await waitFor("the invoice", async () => (await db.sql<{ id: string }[]>`select id from invoices where user_id = ${learner.id}`)[0]?.id, {
    timeoutMs: 20_000,
    diagnostics: () => recentErrors(app),
  });
  expect(await status()).toBe("active");
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

it("reminds once before the first instalment is due", async () => {
  await moveDue(1, "2 days");
  await runReminders();
  const mail = await waitForReminder(1);
  expect(mail.subject).toMatch(/^Invoice INV-\d{4}-\d{6}: \$400\.00 due /);
  await runReminders();
  expect(await db.sql`select stage from invoice_reminders where invoice_id = ${invoiceId}`).toEqual([{ stage: "due-soon:1" }]);
});

it("charges the late fee once, sends one overdue notice and publishes invoice.overdue; a second run does nothing", async () => {
  await moveDue(1, "-1 hour");
  await runReminders();
  const mail = await waitForReminder(2);
  expect(mail.subject).toMatch(/is overdue: a late fee was added$/);
  expect(mail.text).toContain("A late fee of $20.00 was added, and $420.00 is now unpaid.");

  const view = await invoice();
  expect(view.instalments[0]).toMatchObject({ seq: 1, amountMinor: 40_000, lateFeeMinor: 2_000, outstandingMinor: 42_000 });
  expect(view.ledger.filter((e) => e.kind === "late-fee").map((e) => e.amountMinor)).toEqual([2_000]);
  expect(view.outstandingMinor).toBe(102_000);
  // Published to the bus: the relay marked it, and the overdue mail above came through the emails subscription.
  await waitFor("invoice.overdue published", async () => (await db.sql`select 1 from outbox where type = 'invoice.overdue' and aggregate_id = ${invoiceId} and published_at is not null`)[0], {
    diagnostics: () => recentErrors(app),
  });

  await runReminders();
  await runReminders();
  expect((await invoice()).ledger.filter((e) => e.kind === "late-fee")).toHaveLength(1);
  expect(await db.sql`select 1 from outbox where type = 'invoice.overdue' and aggregate_id = ${invoiceId}`).toHaveLength(1);
  expect(await reminders()).toHaveLength(2);
  expect(await status()).toBe("active");
});

it("suspends the enrollment a day after the instalment fell overdue, and the bursar's manual payment reinstates it", async () => {
  await moveDue(1, "-2 days");
  await runReminders();
  await waitForMail(app, learner.email, "Your enrollment in");
  expect(await status()).toBe("suspended");
  await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/modules`, { token: learner.accessToken }), 403, "FORBIDDEN");
  await runReminders();
  expect(await db.sql`select 1 from outbox where type = 'enrollment.suspended' and data->>'userId' = ${learner.id}`).toHaveLength(1);
  expect((await invoice()).ledger.filter((e) => e.kind === "late-fee")).toHaveLength(1);

  const paid = await call(app, "POST", `/v1/invoices/${invoiceId}/payments`, {
    token: bursar.accessToken,
    body: { method: "bank-transfer", amountMinor: 42_000, currency: "USD", reference: "BANK-0042" },
    headers: { "idempotency-key": `dunning-${invoiceId}` },
  });
  expect(paid.status, await paid.clone().text()).toBe(201);
  expect(await status()).toBe("active");
  const view = await invoice();
  expect(view.instalments[0]).toMatchObject({ lateFeeMinor: 2_000, outstandingMinor: 0 });
  expect(view.outstandingMinor).toBe(60_000);
  expect((await call(app, "GET", `/v1/courses/${courseId}/modules`, { token: learner.accessToken })).status).toBe(200);
  await runReminders();
  expect(await status()).toBe("active");
});
