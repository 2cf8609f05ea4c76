import { ServiceBusClient } from "@azure/service-bus";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// Invoices over HTTP and the bus: a paid course, learners enrolling (the invoices subscription issues their
// invoices, the emails subscription mails them with a signed PDF link), the learner's and the bursar's routes,
// a credit note, and a drop crediting what is still owed.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let bursar: TestUser;
let first: TestUser;
let second: TestUser;
let courseId: string;
let firstInvoice: { id: string; number: string };
let secondInvoice: { id: string; number: string };

const FEE = 120_000;
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });
const json = async <T = Record<string, unknown>>(res: Response): Promise<T> => (await res.json()) as T;

interface InvoiceItem {
  id: string;
  number: string;
  userId: string;
  status: string;
  totalMinor: number;
  outstandingMinor: number;
  currency: string;
}

async function myInvoices(user: TestUser): Promise<InvoiceItem[]> {
  const res = await call(app, "GET", "/v1/me/invoices", { token: user.accessToken });
  expect(res.status).toBe(200);
  return (await json<{ items: InvoiceItem[] }>(res)).items;
}

async function enrollAndAwaitInvoice(user: TestUser): Promise<InvoiceItem> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: user.accessToken });
  expect(res.status).toBe(201);
  return until(`the invoice of ${user.email}`, async () => (await myInvoices(user))[0]);
}

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase());
  [admin, bursar, first, second] = await Promise.all([
    signUp(app, db, { admin: true, label: "admin" }),
    signUp(app, db, { finance: true, label: "bursar" }),
    signUp(app, db, { label: "first" }),
    signUp(app, db, { label: "second" }),
  ]);
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Paid Course 101" } });
  courseId = (await json<{ id: string }>(created)).id;
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken })).status).toBe(200);
  // Written directly: the fee routes are another part of the issue. Two instalments, the first due at issue.
  const feeId = uuidv7();
  await db.sql`insert into fees (id, course_id, name, term, currency, amount_minor, requirement) values (${feeId}, ${courseId}, 'Tuition', '2026-autumn', 'USD', ${FEE}, 'first-instalment')`;
  await db.sql`insert into fee_instalments (fee_id, seq, amount_minor, due_after_days) values (${feeId}, 1, 40000, 0), (${feeId}, 2, 80000, 30)`;
});

afterAll(async () => {
  await stopAppAndDatabase({ db, app });
});

describe("invoices", () => {
  it("issues one invoice per enrollment with consecutive numbers, even when the event comes again", async () => {
    const a = await enrollAndAwaitInvoice(first);
    const b = await enrollAndAwaitInvoice(second);
    firstInvoice = a;
    secondInvoice = b;
    expect(a).toMatchObject({ status: "open", totalMinor: FEE, outstandingMinor: FEE, currency: "USD" });
    expect(a.number).toMatch(/^INV-\d{4}-\d{6}$/);
    expect(Number(b.number.slice(-6))).toBe(Number(a.number.slice(-6)) + 1);

    // The enrollment's event again, as a new event (the inbox lets it through): nothing more is issued.
    const [row] = await db.sql<{ id: string; type: string; occurred_at: string; actor: unknown; data: Record<string, unknown>; traceparent: string | null }[]>`
      select id, type, occurred_at, actor, data, traceparent from outbox where type in ('enrollment.created', 'enrollment.pending-payment') and data->>'userId' = ${first.id}`;
    expect(row).toBeDefined();
    const again = uuidv7();
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    const sender = client.createSender("lms-events");
    try {
      const envelope = { id: again, type: row!.type, occurredAt: new Date(row!.occurred_at).toISOString(), actor: row!.actor, data: row!.data, traceparent: row!.traceparent };
      await sender.sendMessages({ messageId: again, subject: row!.type, contentType: "application/json", body: envelope });
    } finally {
      await sender.close();
      await client.close();
    }
    await until("the repeated event handled", async () => ((await db.sql`select 1 from inbox where subscription = 'invoices' and message_id = ${again}`).length > 0 ? true : undefined));
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from invoices where user_id = ${first.id}`;
    expect(count!.n).toBe(1);
  });

  it("mails the invoice with a signed link that redirects to the PDF, and refuses a forged one", async () => {
    const mail = await waitForMail(app, first.email, `Invoice ${firstInvoice.number}`);
    expect(mail.text).toContain("$1,200.00");
    const link = /https?:\/\/\S+\/v1\/finance-documents\/pdf\?token=[\w.-]+/.exec(mail.text)?.[0];
    expect(link, mail.text).toBeDefined();
    expect(mail.text).toContain("works for 72 hours");
    // The emailed link lives 72 hours (after that the learner signs in and opens the invoice).
    const claims = JSON.parse(Buffer.from(link!.split("token=")[1]!.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(72 * 3600);
    const path = new URL(link!).pathname.replace(/^\/api/, "") + new URL(link!).search;
    const redirect = await fetch(`${app.baseUrl}/api${path}`, { redirect: "manual" });
    expect(redirect.status).toBe(303);
    const pdf = await fetch(redirect.headers.get("location")!);
    expect(pdf.status).toBe(200);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 4).toString()).toBe("%PDF");
    const forged = await fetch(`${app.baseUrl}/api/v1/finance-documents/pdf?token=${encodeURIComponent(`${link!.split("token=")[1]!.slice(0, -4)}AAAA`)}`, { redirect: "manual" });
    expect(forged.status).toBe(404);
    expect((await json(forged)).code).toBe("INVOICE_LINK_INVALID");
  });

  it("lets the learner and the bursar read the invoice and its PDF, and nobody else", async () => {
    const mine = await call(app, "GET", `/v1/invoices/${firstInvoice.id}`, { token: first.accessToken });
    expect(mine.status).toBe(200);
    const detail = await json<{ lines: unknown[]; instalments: { seq: number; amountMinor: number; outstandingMinor: number }[]; ledger: { kind: string }[] }>(mine);
    expect(detail.instalments.map((p) => [p.seq, p.amountMinor, p.outstandingMinor])).toEqual([
      [1, 40_000, 40_000],
      [2, 80_000, 80_000],
    ]);
    expect(detail.ledger.map((e) => e.kind)).toEqual(["charge"]);
    expect((await call(app, "GET", `/v1/invoices/${firstInvoice.id}`, { token: bursar.accessToken })).status).toBe(200);
    const other = await call(app, "GET", `/v1/invoices/${firstInvoice.id}`, { token: second.accessToken });
    expect(other.status).toBe(404);
    expect((await json(other)).code).toBe("INVOICE_NOT_FOUND");
    expect((await call(app, "GET", `/v1/invoices/${firstInvoice.id}/pdf`, { token: second.accessToken })).status).toBe(404);
    const link = await json<{ url: string; expiresAt: string }>(await call(app, "GET", `/v1/invoices/${secondInvoice.id}/pdf`, { token: bursar.accessToken }));
    expect(new Date(link.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 5_000);
    const pdf = await fetch(link.url);
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 4).toString()).toBe("%PDF");
  });

  it("answers the learner's balance per currency with what falls due next", async () => {
    const res = await call(app, "GET", "/v1/me/balance", { token: first.accessToken });
    expect(res.status).toBe(200);
    const { items } = await json<{ items: { currency: string; balanceMinor: number; openOutstandingMinor: number; nextDue: { invoiceId: string; seq: number; outstandingMinor: number } | null }[] }>(res);
    expect(items).toEqual([{ currency: "USD", balanceMinor: FEE, openOutstandingMinor: FEE, nextDue: expect.objectContaining({ invoiceId: firstInvoice.id, seq: 1, outstandingMinor: 40_000 }) }]);
  });

  it("lists invoices for the bursar with filters, as JSON and CSV, and refuses learners", async () => {
    const list = async (query: string) => {
      const res = await call(app, "GET", `/v1/finance/invoices?${query}`, { token: bursar.accessToken });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await json<{ items: InvoiceItem[] }>(res)).items;
    };
    expect((await list(`courseId=${courseId}`)).map((i) => i.number)).toEqual([secondInvoice.number, firstInvoice.number]);
    expect((await list(`courseId=${courseId}&userId=${first.id}`)).map((i) => i.id)).toEqual([firstInvoice.id]);
    expect(await list(`courseId=${courseId}&currency=EUR`)).toEqual([]);
    expect(await list(`courseId=${courseId}&status=paid`)).toEqual([]);
    // The first instalment fell due at issue and is unpaid.
    expect(await list(`courseId=${courseId}&overdue=true`)).toHaveLength(2);
    expect(await list(`courseId=${courseId}&issuedTo=2000-01-01T00:00:00Z`)).toEqual([]);
    const page = await call(app, "GET", `/v1/finance/invoices?courseId=${courseId}&limit=1`, { token: bursar.accessToken });
    const { items, nextCursor } = await json<{ items: InvoiceItem[]; nextCursor: string }>(page);
    expect(items).toHaveLength(1);
    expect((await list(`courseId=${courseId}&limit=1&cursor=${nextCursor}`)).map((i) => i.id)).toEqual([firstInvoice.id]);
    const csv = await call(app, "GET", `/v1/finance/invoices?courseId=${courseId}`, { token: bursar.accessToken, headers: { accept: "text/csv" } });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^number,status,/);
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual([secondInvoice.number, firstInvoice.number]);
    expect((await call(app, "GET", "/v1/finance/invoices", { token: first.accessToken })).status).toBe(403);
    expect((await call(app, "GET", "/v1/finance/invoices?overdue=maybe", { token: bursar.accessToken })).status).toBe(400);
  });

  it("issues a bursar's credit note once, refuses one too large or in another currency, and mails it", async () => {
    const path = `/v1/invoices/${firstInvoice.id}/credit-notes`;
    const tooLarge = await call(app, "POST", path, { token: bursar.accessToken, body: { amountMinor: FEE + 1, reason: "Too much" } });
    expect(tooLarge.status).toBe(422);
    expect((await json(tooLarge)).code).toBe("CREDIT_NOTE_TOO_LARGE");
    const otherCurrency = await call(app, "POST", path, { token: bursar.accessToken, body: { amountMinor: 100, currency: "EUR", reason: "x" } });
    expect(otherCurrency.status).toBe(422);
    expect((await json(otherCurrency)).code).toBe("CURRENCY_MISMATCH");
    expect((await call(app, "POST", path, { token: bursar.accessToken, body: { amountMinor: 10.5, reason: "x" } })).status).toBe(400);
    expect((await call(app, "POST", path, { token: first.accessToken, body: { amountMinor: 100, reason: "x" } })).status).toBe(403);
    const key = { "idempotency-key": uuidv7() };
    const created = await call(app, "POST", path, { token: bursar.accessToken, body: { amountMinor: 10_000, reason: "Goodwill" }, headers: key });
    expect(created.status).toBe(201);
    const note = await json<{ id: string; number: string; invoiceStatus: string }>(created);
    expect(note.number).toMatch(/^CN-\d{4}-\d{6}$/);
    expect(note.invoiceStatus).toBe("open");
    const replay = await call(app, "POST", path, { token: bursar.accessToken, body: { amountMinor: 10_000, reason: "Goodwill" }, headers: key });
    expect((await json<{ id: string }>(replay)).id).toBe(note.id);
    const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from credit_notes where invoice_id = ${firstInvoice.id}`;
    expect(count!.n).toBe(1);
    const [audit] = await db.sql`select 1 from audit_log where action = 'invoice.credited' and target_id = ${firstInvoice.id}`;
    expect(audit).toBeDefined();
    const mail = await waitForMail(app, first.email, `Credit note ${note.number}`);
    expect(mail.text).toContain("Goodwill");
    const link = await json<{ url: string }>(await call(app, "GET", `/v1/credit-notes/${note.id}/pdf`, { token: first.accessToken }));
    expect(Buffer.from(await (await fetch(link.url)).arrayBuffer()).subarray(0, 4).toString()).toBe("%PDF");
    expect((await call(app, "GET", `/v1/credit-notes/${note.id}/pdf`, { token: second.accessToken })).status).toBe(404);
  });

  it("credits what is still owed when the learner drops, and the invoice is void with a zero balance", async () => {
    expect((await call(app, "DELETE", `/v1/courses/${courseId}/enrollments/${first.id}`, { token: first.accessToken })).status).toBe(204);
    const voided = await until("the invoice void", async () => {
      const inv = (await myInvoices(first))[0];
      return inv?.status === "void" ? inv : undefined;
    });
    expect(voided.outstandingMinor).toBe(0);
    const detail = await json<{ creditNotes: { amountMinor: number; reason: string }[] }>(await call(app, "GET", `/v1/invoices/${firstInvoice.id}`, { token: first.accessToken }));
    expect(detail.creditNotes.map((c) => [c.amountMinor, c.reason])).toEqual([
      [10_000, "Goodwill"],
      [FEE - 10_000, "Enrollment cancelled"],
    ]);
    const { items } = await json<{ items: { balanceMinor: number; openOutstandingMinor: number; nextDue: unknown }[] }>(await call(app, "GET", "/v1/me/balance", { token: first.accessToken }));
    expect(items).toEqual([expect.objectContaining({ balanceMinor: 0, openOutstandingMinor: 0, nextDue: null })]);
    const ledger = await call(app, "GET", `/v1/finance/ledger?userId=${first.id}`, { token: bursar.accessToken });
    expect(ledger.status).toBe(200);
    const body = await json<{ balances: { currency: string; balanceMinor: number }[]; items: { kind: string }[] }>(ledger);
    expect(body.balances).toEqual([{ currency: "USD", balanceMinor: 0 }]);
    expect(body.items.map((e) => e.kind).sort()).toEqual(["charge", "credit-note", "credit-note"]);
    // The second learner's invoice is untouched.
    expect((await myInvoices(second))[0]?.status).toBe("open");
  });
});
