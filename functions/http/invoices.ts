import { z } from "zod";
import { creditInvoice } from "../../domain/finance/credit-notes.js";
import { balanceSummary, creditNotePdfLink, type FinanceViewer, invoiceDetail, invoicePdfLink } from "../../domain/finance/invoice-view.js";
import { type InvoiceListItem, invoicesCsv, ledgerPage, listInvoices } from "../../domain/finance/list-invoices.js";
import { balancesOf } from "../../domain/finance/ledger.js";
import { amountMinorSchema, currencySchema } from "../../domain/finance/money.js";
import { invoiceStatuses, ledgerKinds } from "../../domain/db/schema/index.js";
import { authenticated, financeStaff, publicAccess } from "../platform/http/access.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { type CallerRouteContext, route } from "../platform/http/route.js";
import { financeDocumentLinks } from "../platform/finance-document-links.js";
import { wantsCsv } from "./schemas/csv.js";
import { toDate } from "./schemas/dates.js";

const iso = z.iso.datetime();
const money = { currency: z.string(), amountMinor: z.number().int() };

const invoiceSummarySchema = z.object({
  id: z.uuid(),
  number: z.string().meta({ example: "INV-2026-000042" }),
  userId: z.uuid(),
  enrollmentId: z.uuid(),
  feeId: z.uuid(),
  courseId: z.uuid(),
  courseTitle: z.string(),
  billToName: z.string(),
  billToEmail: z.string(),
  currency: z.string(),
  subtotalMinor: z.number().int(),
  discountMinor: z.number().int(),
  totalMinor: z.number().int(),
  status: z.enum(invoiceStatuses),
  issuedAt: iso,
  dueAt: iso,
  paidAt: iso.nullable(),
  outstandingMinor: z.number().int().meta({ description: "What is still owed on it (below zero: overpaid, held as credit)" }),
});

const summaryBody = (i: InvoiceListItem) => ({ ...i, issuedAt: i.issuedAt.toISOString(), dueAt: i.dueAt.toISOString(), paidAt: i.paidAt?.toISOString() ?? null });
const invoiceCursor = z.tuple([iso, z.uuid()]);
const afterOf = (cursor: string | undefined) => {
  const at = decodeCursorAs(cursor, invoiceCursor);
  return at ? { after: { issuedAt: new Date(at[0]), id: at[1] } } : {};
};
const viewerOf = (ctx: CallerRouteContext): FinanceViewer => ({ userId: ctx.caller.userId, isFinance: ctx.caller.isFinance || ctx.caller.isAdmin });
const linkTtlSeconds = (ctx: { platform: { settings: { INVOICE_LINK_TTL_MINUTES: number } } }) => ctx.platform.settings.INVOICE_LINK_TTL_MINUTES * 60;

route({
  name: "me-invoices-list",
  method: "GET",
  path: "/v1/me/invoices",
  access: authenticated,
  summary: "Your invoices, newest first, with their status and what is still owed",
  tags: ["finance"],
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of invoices", body: pageOf(invoiceSummarySchema) } },
  handler: async ({ query, request }, ctx) => {
    const rows = await listInvoices(ctx.db, { userId: ctx.caller.userId }, { limit: query.limit, ...afterOf(query.cursor) }, ctx.now());
    const page = paginate(rows, query.limit, (i) => [i.issuedAt.toISOString(), i.id]);
    return { status: 200, body: { items: page.items.map(summaryBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "me-balance-get",
  method: "GET",
  path: "/v1/me/balance",
  access: authenticated,
  summary: "Your balance per currency (from the ledger), what your open invoices ask for, and what falls due next",
  description: "`balanceMinor` above zero: owed; below zero: credit held (an overpayment). Currencies you have no ledger entries in are left out.",
  tags: ["finance"],
  responses: {
    200: {
      description: "Balances",
      body: z.object({
        items: z.array(
          z.object({
            currency: z.string(),
            balanceMinor: z.number().int(),
            openOutstandingMinor: z.number().int(),
            nextDue: z.object({ invoiceId: z.uuid(), number: z.string(), seq: z.number().int(), dueAt: iso, outstandingMinor: z.number().int() }).nullable(),
          }),
        ),
      }),
    },
  },
  handler: async (_input, ctx) => {
    const balances = await balanceSummary(ctx.db, ctx.caller.userId);
    return { status: 200, body: { items: balances.map((b) => ({ ...b, nextDue: b.nextDue && { ...b.nextDue, dueAt: b.nextDue.dueAt.toISOString() } })) } };
  },
});

const invoiceParams = z.object({ invoiceId: z.uuid() });
const ledgerEntrySchema = z.object({
  id: z.uuid(),
  kind: z.enum(ledgerKinds),
  ...money,
  invoiceId: z.uuid().nullable(),
  paymentId: z.uuid().nullable(),
  refundId: z.uuid().nullable(),
  creditNoteId: z.uuid().nullable(),
  instalmentSeq: z.number().int().nullable(),
  description: z.string(),
  occurredAt: iso,
});
type LedgerRow = Awaited<ReturnType<typeof ledgerPage>>[number];
const ledgerBody = (e: LedgerRow) => ({
  id: e.id,
  kind: e.kind,
  currency: e.currency,
  amountMinor: e.amountMinor,
  invoiceId: e.invoiceId,
  paymentId: e.paymentId,
  refundId: e.refundId,
  creditNoteId: e.creditNoteId,
  instalmentSeq: e.instalmentSeq,
  description: e.description,
  occurredAt: e.occurredAt.toISOString(),
});

route({
  name: "invoices-get",
  method: "GET",
  path: "/v1/invoices/{invoiceId}",
  access: authenticated,
  summary: "One invoice: lines, instalments with their state, payments, refunds, credit notes and ledger entries",
  description:
    "The learner it is for, or the bursar (finance role or admin). Anyone else gets 404, as for an invoice that does not exist. When the enrollment is dropped or its held seat released, what is still owed is taken back by a credit note and the invoice becomes void (or paid, if part was paid); money already paid is not refunded automatically: refunds are the bursar's decision.",
  tags: ["finance"],
  params: invoiceParams,
  responses: {
    200: {
      description: "The invoice",
      body: invoiceSummarySchema.omit({ courseTitle: true, outstandingMinor: true }).extend({
        courseTitle: z.string(),
        lines: z.array(z.object({ description: z.string(), amountMinor: z.number().int() })),
        chargedMinor: z.number().int(),
        settledMinor: z.number().int(),
        outstandingMinor: z.number().int(),
        instalments: z.array(z.object({ seq: z.number().int(), amountMinor: z.number().int(), dueAt: iso, lateFeeMinor: z.number().int(), dueMinor: z.number().int(), paidMinor: z.number().int(), outstandingMinor: z.number().int() })),
        payments: z.array(z.object({ id: z.uuid(), method: z.string(), ...money, reference: z.string().nullable(), receivedAt: iso })),
        refunds: z.array(z.object({ id: z.uuid(), paymentId: z.uuid(), method: z.string(), ...money, status: z.string(), reason: z.string(), createdAt: iso })),
        creditNotes: z.array(z.object({ id: z.uuid(), number: z.string(), ...money, reason: z.string(), refundId: z.uuid().nullable(), issuedAt: iso })),
        ledger: z.array(ledgerEntrySchema),
      }),
    },
    404: { description: "`INVOICE_NOT_FOUND`" },
  },
  handler: async ({ params }, ctx) => {
    const d = await invoiceDetail(ctx.db, params.invoiceId, viewerOf(ctx));
    if (!d) throw new ProblemError("INVOICE_NOT_FOUND");
    const { invoice: i, ...standing } = d.standing;
    return {
      status: 200,
      body: {
        id: i.id,
        number: i.number,
        userId: i.userId,
        enrollmentId: i.enrollmentId,
        feeId: i.feeId,
        courseId: i.courseId,
        courseTitle: d.courseTitle,
        billToName: i.billToName,
        billToEmail: i.billToEmail,
        currency: i.currency,
        subtotalMinor: i.subtotalMinor,
        discountMinor: i.discountMinor,
        totalMinor: i.totalMinor,
        status: i.status,
        issuedAt: i.issuedAt.toISOString(),
        dueAt: i.dueAt.toISOString(),
        paidAt: i.paidAt?.toISOString() ?? null,
        lines: i.lines,
        chargedMinor: standing.chargedMinor,
        settledMinor: standing.settledMinor,
        outstandingMinor: standing.outstandingMinor,
        instalments: standing.instalments.map((p) => ({ ...p, dueAt: p.dueAt.toISOString() })),
        payments: d.payments.map((p) => ({ id: p.id, method: p.method, currency: p.currency, amountMinor: p.amountMinor, reference: p.reference, receivedAt: p.receivedAt.toISOString() })),
        refunds: d.refunds.map((r) => ({ id: r.id, paymentId: r.paymentId, method: r.method, currency: r.currency, amountMinor: r.amountMinor, status: r.status, reason: r.reason, createdAt: r.createdAt.toISOString() })),
        creditNotes: d.creditNotes.map((c) => ({ id: c.id, number: c.number, currency: c.currency, amountMinor: c.amountMinor, reason: c.reason, refundId: c.refundId, issuedAt: c.issuedAt.toISOString() })),
        ledger: d.ledger.map(ledgerBody),
      },
    };
  },
});

const linkSchema = z.object({ url: z.string(), expiresAt: iso });
const linkBody = (link: { url: string; expiresAt: Date }) => ({ status: 200, body: { url: link.url, expiresAt: link.expiresAt.toISOString() } });

route({
  name: "invoices-pdf-link",
  method: "GET",
  path: "/v1/invoices/{invoiceId}/pdf",
  access: authenticated,
  summary: "A short-lived read-only link to the invoice's PDF",
  description: "Valid INVOICE_LINK_TTL_MINUTES. The learner it is for, or the bursar; anyone else gets 404.",
  tags: ["finance"],
  params: invoiceParams,
  responses: { 200: { description: "The link", body: linkSchema }, 404: { description: "`INVOICE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => linkBody(unwrap(await invoicePdfLink(ctx.db, ctx.platform.files, params.invoiceId, viewerOf(ctx), linkTtlSeconds(ctx)))),
});

route({
  name: "credit-notes-pdf-link",
  method: "GET",
  path: "/v1/credit-notes/{creditNoteId}/pdf",
  access: authenticated,
  summary: "A short-lived read-only link to the credit note's PDF",
  description: "Valid INVOICE_LINK_TTL_MINUTES. The learner it is for, or the bursar; anyone else gets 404.",
  tags: ["finance"],
  params: z.object({ creditNoteId: z.uuid() }),
  responses: { 200: { description: "The link", body: linkSchema }, 404: { description: "`CREDIT_NOTE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => linkBody(unwrap(await creditNotePdfLink(ctx.db, ctx.platform.files, params.creditNoteId, viewerOf(ctx), linkTtlSeconds(ctx)))),
});

route({
  name: "finance-documents-pdf-redirect",
  method: "GET",
  path: "/v1/finance-documents/pdf",
  access: publicAccess,
  personal: true,
  summary: "The signed link from an invoice or credit-note email: redirects to a fresh short-lived link to the PDF",
  description: "No sign-in: the token (valid 30 days) names the document. Answers 303 to a Blob link valid INVOICE_LINK_TTL_MINUTES.",
  tags: ["finance"],
  query: z.object({ token: z.string().min(1).max(2048) }),
  responses: {
    303: { description: "To the PDF" },
    404: { description: "`INVOICE_LINK_INVALID`: forged, expired or not a document link; `INVOICE_NOT_FOUND`, `CREDIT_NOTE_NOT_FOUND`: the document is gone" },
  },
  handler: async ({ query }, ctx) => {
    const named = await (await financeDocumentLinks(ctx.platform.settings)).verify(query.token);
    if (!named) throw new ProblemError("INVOICE_LINK_INVALID", { detail: "Use the link from a recent email, or sign in and open the invoice." });
    const pdfLink = named.kind === "invoice" ? invoicePdfLink : creditNotePdfLink;
    const link = unwrap(await pdfLink(ctx.db, ctx.platform.files, named.id, null, linkTtlSeconds(ctx)));
    return { raw: { status: 303, headers: { location: link.url, "cache-control": "no-store" } } };
  },
});

route({
  name: "invoices-credit-notes-create",
  method: "POST",
  path: "/v1/invoices/{invoiceId}/credit-notes",
  access: financeStaff,
  summary: "Issue a credit note: take back part or all of what an invoice asks for (the bursar)",
  description:
    "Invoices are never edited: a credit note takes back from one. At most what the invoice still asks for (its charges less earlier credit notes); more is 422 `CREDIT_NOTE_TOO_LARGE`. Paid money is not returned by a credit note: an overpayment it leaves stays as credit, and a refund is a separate decision (the refunds route). Audited.",
  tags: ["finance"],
  idempotent: true,
  params: invoiceParams,
  body: z.object({
    amountMinor: amountMinorSchema,
    currency: currencySchema.optional().meta({ description: "When sent, must be the invoice's (else 422 `CURRENCY_MISMATCH`)" }),
    reason: z.string().trim().min(1).max(500),
  }),
  responses: {
    201: {
      description: "Issued",
      body: z.object({ id: z.uuid(), number: z.string(), invoiceId: z.uuid(), ...money, invoiceStatus: z.enum(invoiceStatuses) }),
    },
    404: { description: "`INVOICE_NOT_FOUND`" },
    422: { description: "`CREDIT_NOTE_TOO_LARGE`, `CURRENCY_MISMATCH`" },
  },
  handler: async ({ params, body }, ctx) => {
    const note = unwrap(
      await ctx.transaction((tx) =>
        creditInvoice(ctx.domain(tx), { invoiceId: params.invoiceId, amountMinor: body.amountMinor, reason: body.reason, ...(body.currency ? { currency: body.currency } : {}) }),
      ),
    );
    return {
      status: 201,
      body: { id: note.creditNoteId, number: note.number, invoiceId: note.invoiceId, currency: note.currency, amountMinor: note.amountMinor, invoiceStatus: note.invoiceStatus },
      headers: { location: `/api/v1/credit-notes/${note.creditNoteId}/pdf` },
    };
  },
});

route({
  name: "finance-invoices-list",
  method: "GET",
  path: "/v1/finance/invoices",
  access: financeStaff,
  summary: "Every invoice, newest first, filtered (the bursar); JSON, or CSV",
  description: "CSV with format=csv or Accept: text/csv (the same page; follow the Link header for the next). `issuedTo` is exclusive. `overdue=true`: open with an instalment past due and unpaid.",
  tags: ["finance"],
  query: z.object({
    ...pageQuery,
    status: z.enum(invoiceStatuses).optional(),
    courseId: z.uuid().optional(),
    userId: z.uuid().optional(),
    currency: currencySchema.optional(),
    issuedFrom: iso.optional(),
    issuedTo: iso.optional(),
    overdue: z.enum(["true", "false"]).optional(),
    format: z.enum(["json", "csv"]).optional(),
  }),
  responses: {
    200: {
      description: "A page of invoices",
      body: pageOf(invoiceSummarySchema),
      otherContent: { "text/csv": z.string().meta({ description: "One row per invoice; amounts in minor units" }) },
    },
  },
  handler: async ({ query, request }, ctx) => {
    const filters = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.courseId ? { courseId: query.courseId } : {}),
      ...(query.userId ? { userId: query.userId } : {}),
      ...(query.currency ? { currency: query.currency } : {}),
      ...(query.issuedFrom ? { issuedFrom: toDate(query.issuedFrom) } : {}),
      ...(query.issuedTo ? { issuedTo: toDate(query.issuedTo) } : {}),
      ...(query.overdue ? { overdue: query.overdue === "true" } : {}),
    };
    const rows = await listInvoices(ctx.db, filters, { limit: query.limit, ...afterOf(query.cursor) }, ctx.now());
    const page = paginate(rows, query.limit, (i) => [i.issuedAt.toISOString(), i.id]);
    const link = nextLink(request.url, page.nextCursor);
    if (wantsCsv(query.format, request)) {
      return {
        raw: {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="invoices.csv"`, "cache-control": "private, no-store", ...link },
          body: invoicesCsv(page.items),
        },
      };
    }
    return { status: 200, body: { items: page.items.map(summaryBody), nextCursor: page.nextCursor }, headers: link };
  },
});

route({
  name: "finance-ledger-get",
  method: "GET",
  path: "/v1/finance/ledger",
  access: financeStaff,
  summary: "A learner's ledger entries, newest first, and their balance per currency (the bursar)",
  tags: ["finance"],
  query: z.object({ ...pageQuery, userId: z.uuid() }),
  responses: {
    200: {
      description: "A page of entries, with the balances",
      body: pageOf(ledgerEntrySchema).extend({ userId: z.uuid(), balances: z.array(z.object({ currency: z.string(), balanceMinor: z.number().int() })) }),
    },
  },
  handler: async ({ query, request }, ctx) => {
    const at = decodeCursorAs(query.cursor, invoiceCursor);
    const rows = await ledgerPage(ctx.db, query.userId, { limit: query.limit, ...(at ? { after: { occurredAt: new Date(at[0]), id: at[1] } } : {}) });
    const page = paginate(rows, query.limit, (e) => [e.occurredAt.toISOString(), e.id]);
    const balances = await balancesOf(ctx.db, query.userId);
    return { status: 200, body: { userId: query.userId, balances, items: page.items.map(ledgerBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});
