import { z } from "zod";
import { discountKinds, feeRequirements, lateFeeKinds } from "../../domain/db/schema/index.js";
import { type DiscountView, grantDiscount, listDiscounts, revokeDiscount } from "../../domain/finance/discounts.js";
import { MAX_BASIS_POINTS, MAX_INSTALMENTS } from "../../domain/finance/fee-rules.js";
import { changeFee, createFee, type FeeView, feeSeenBy, feesSeenBy, retireFee } from "../../domain/finance/fees.js";
import { amountMinorSchema, currencySchema } from "../../domain/finance/money.js";
import { financeStaff, publicAccess } from "../platform/http/access.js";
import { notModified } from "../platform/http/etag.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull, toDate } from "./schemas/dates.js";
import { expectedVersion, versionEtag } from "./schemas/section.js";
import { line } from "./schemas/text.js";

const iso = z.iso.datetime();
const days = z.number().int().min(0).max(3650);

const courseParams = z.object({ courseId: z.uuid() });
const feeParams = z.object({ courseId: z.uuid(), feeId: z.uuid() });

const instalmentInput = z.strictObject({
  amountMinor: amountMinorSchema,
  dueAt: iso.nullable().default(null).meta({ description: "A fixed due date; null: `dueAfterDays` after the invoice is issued" }),
  dueAfterDays: days.default(0),
});
const lateFeeInput = z
  .strictObject({
    kind: z.enum(lateFeeKinds),
    value: z.number().int().min(0).max(2_147_483_647).default(0).meta({ description: "Minor units (`fixed`) or basis points of the overdue instalment (`percent`: 500 = 5%)" }),
    graceDays: days.default(0),
  })
  .meta({ description: "Charged once per overdue instalment, `graceDays` after it fell due" });

const feeFields = {
  name: line(200),
  currency: currencySchema,
  amountMinor: amountMinorSchema,
  sectionId: z.uuid().nullable().meta({ description: "Only learners placed in this section owe it; null: the whole course (a course-wide fee that asks for payment first holds new seats as pending-payment)" }),
  term: line(100).nullable().meta({ description: "A free label for a term's fee, e.g. 2026-autumn" }),
  dueAt: iso.nullable().meta({ description: "A fixed due date; null: `dueAfterDays` after the invoice" }),
  dueAfterDays: days,
  requirement: z.enum(feeRequirements).meta({ description: "What must be paid before an enrollment becomes active: nothing, the whole fee, or the first instalment" }),
  instalments: z.array(instalmentInput).max(MAX_INSTALMENTS).meta({ description: `An instalment plan (2 to ${MAX_INSTALMENTS} parts adding up to the fee, due in order); empty: one payment` }),
  lateFee: lateFeeInput,
};

const feeSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    sectionId: z.uuid().nullable(),
    term: z.string().nullable(),
    name: z.string(),
    currency: z.string(),
    amountMinor: z.number().int(),
    dueAt: iso.nullable(),
    dueAfterDays: z.number().int(),
    requirement: z.enum(feeRequirements),
    instalments: z.array(z.object({ seq: z.number().int(), amountMinor: z.number().int(), dueAt: iso.nullable(), dueAfterDays: z.number().int() })),
    lateFee: z.object({ kind: z.enum(lateFeeKinds), value: z.number().int(), graceDays: z.number().int() }),
    retiredAt: iso.nullable(),
    version: z.number().int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "Fee" });

const feeBody = (f: FeeView): z.infer<typeof feeSchema> => ({
  ...f,
  dueAt: isoOrNull(f.dueAt),
  instalments: f.instalments.map((p) => ({ ...p, dueAt: isoOrNull(p.dueAt) })),
  retiredAt: isoOrNull(f.retiredAt),
  createdAt: f.createdAt.toISOString(),
  updatedAt: f.updatedAt.toISOString(),
});

const discountSchema = z
  .object({
    id: z.uuid(),
    feeId: z.uuid(),
    userId: z.uuid(),
    kind: z.enum(discountKinds),
    value: z.number().int(),
    reason: z.string(),
    grantedByUserId: z.uuid().nullable(),
    revokedAt: iso.nullable(),
    createdAt: iso,
    creditNote: z
      .object({ id: z.uuid(), number: z.string(), amountMinor: z.number().int() })
      .nullable()
      .meta({ description: "Granted after the learner's invoice was issued: the credit note that applied it" }),
  })
  .meta({ id: "FeeDiscount" });

const discountBody = (d: DiscountView): z.infer<typeof discountSchema> => ({ ...d, revokedAt: isoOrNull(d.revokedAt), createdAt: d.createdAt.toISOString() });

const toTerms = <T extends { dueAt?: string | null; instalments?: { amountMinor: number; dueAt: string | null; dueAfterDays: number }[] }>(body: T) => ({
  ...body,
  ...(body.dueAt !== undefined ? { dueAt: toDate(body.dueAt) } : {}),
  ...(body.instalments ? { instalments: body.instalments.map((p) => ({ ...p, dueAt: toDate(p.dueAt) })) } : {}),
});

const viewer = (p: { userId: string | null; isAdmin: boolean; isFinance?: boolean }) => ({ userId: p.userId, isAdmin: p.isAdmin, isFinance: p.isFinance === true });

route({
  name: "fees-create",
  method: "POST",
  path: "/v1/courses/{courseId}/fees",
  access: financeStaff,
  summary: "Set a fee for the course (the bursar)",
  description:
    "Amounts are integers in the currency's minor units. A course-wide fee whose requirement is `full` or `first-instalment` makes new enrollments `pending-payment` (the seat is held for PAYMENT_HOLD_HOURS). Audited.",
  tags: ["fees"],
  idempotent: true,
  params: courseParams,
  body: z.strictObject({
    ...feeFields,
    sectionId: feeFields.sectionId.default(null),
    term: feeFields.term.default(null),
    dueAt: feeFields.dueAt.default(null),
    dueAfterDays: feeFields.dueAfterDays.default(14),
    requirement: feeFields.requirement.default("none"),
    instalments: feeFields.instalments.default([]),
    lateFee: lateFeeInput.default({ kind: "none", value: 0, graceDays: 0 }),
  }),
  responses: {
    201: { description: "Created", body: feeSchema },
    404: { description: "`COURSE_NOT_FOUND`, `SECTION_NOT_FOUND`" },
    422: { description: "`FEE_INVALID`: the plan does not add up to the fee, dates out of order, a late fee too large" },
  },
  handler: async ({ params, body }, ctx) => {
    const fee = unwrap(await ctx.transaction((tx) => createFee(ctx.domain(tx), params.courseId, { ...body, ...toTerms(body) })));
    return { status: 201, body: feeBody(fee), headers: { location: `/api/v1/courses/${params.courseId}/fees/${fee.id}`, etag: versionEtag(fee) } };
  },
});

route({
  name: "fees-list",
  method: "GET",
  path: "/v1/courses/{courseId}/fees",
  access: publicAccess,
  optionalToken: true,
  summary: "The course's fees: what enrolling costs",
  description: "Anyone sees the live fees of a published course; its staff, the bursar and admins see every fee, retired ones too.",
  tags: ["fees"],
  params: courseParams,
  responses: { 200: { description: "Fees, oldest first", body: z.object({ items: z.array(feeSchema) }) }, 404: { description: "`COURSE_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const items = unwrap(await feesSeenBy(ctx.db, params.courseId, viewer(ctx.principal)));
    return { status: 200, body: { items: items.map(feeBody) } };
  },
});

route({
  name: "fees-get",
  method: "GET",
  path: "/v1/courses/{courseId}/fees/{feeId}",
  access: publicAccess,
  optionalToken: true,
  summary: "One fee",
  tags: ["fees"],
  conditional: "read",
  params: feeParams,
  responses: { 200: { description: "The fee", body: feeSchema }, 404: { description: "`FEE_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const fee = unwrap(await feeSeenBy(ctx.db, params.courseId, params.feeId, viewer(ctx.principal)));
    const etag = versionEtag(fee);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: feeBody(fee), headers: { etag } };
  },
});

route({
  name: "fees-update",
  method: "PATCH",
  path: "/v1/courses/{courseId}/fees/{feeId}",
  access: financeStaff,
  summary: "Change a fee's terms, while no invoice was issued for it",
  description:
    "Send the ETag you read as If-Match: a fee changed since then answers 412. Once an invoice was issued for the fee its terms are fixed (409 `FEE_INVOICED`): retire it and create a new one. `instalments`, when sent, replaces the plan. Audited.",
  tags: ["fees"],
  conditional: "update",
  params: feeParams,
  body: z.strictObject(feeFields).partial(),
  responses: {
    200: { description: "Updated", body: feeSchema },
    404: { description: "`FEE_NOT_FOUND`, `SECTION_NOT_FOUND`" },
    409: { description: "`FEE_INVOICED`, `FEE_RETIRED`" },
    422: { description: "`FEE_INVALID`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const patch = Object.fromEntries(Object.entries(toTerms(body)).filter(([, v]) => v !== undefined));
    const fee = unwrap(await ctx.transaction((tx) => changeFee(ctx.domain(tx), params.courseId, params.feeId, patch, version)));
    return { status: 200, body: feeBody(fee), headers: { etag: versionEtag(fee) } };
  },
});

route({
  name: "fees-retire",
  method: "POST",
  path: "/v1/courses/{courseId}/fees/{feeId}/retire",
  access: financeStaff,
  summary: "Retire a fee: nobody new is invoiced for it (issued invoices stand)",
  description: "Retiring a retired fee changes nothing. If-Match is honoured (412). Audited.",
  tags: ["fees"],
  conditional: "update",
  params: feeParams,
  responses: { 200: { description: "The retired fee", body: feeSchema }, 404: { description: "`FEE_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const version = expectedVersion(request.headers.get("if-match"));
    const fee = unwrap(await ctx.transaction((tx) => retireFee(ctx.domain(tx), params.courseId, params.feeId, version)));
    return { status: 200, body: feeBody(fee), headers: { etag: versionEtag(fee) } };
  },
});

// ---- discounts and waivers

route({
  name: "fee-discounts-grant",
  method: "POST",
  path: "/v1/courses/{courseId}/fees/{feeId}/discounts",
  access: financeStaff,
  summary: "Grant a learner a discount or waiver of the fee, with a reason",
  description:
    "`percent`: basis points (2500 = 25%); `fixed`: minor units, at most the fee; `waiver`: the whole fee. When the learner's invoice for the fee was issued already, a credit note applies it (never more than the invoice still asks for). One live discount per learner and fee. Audited.",
  tags: ["fees"],
  params: feeParams,
  body: z.strictObject({
    userId: z.uuid(),
    kind: z.enum(discountKinds),
    value: z.number().int().min(0).max(1_000_000_000_000).default(0).meta({ description: `Basis points (percent, 1 to ${MAX_BASIS_POINTS}), minor units (fixed), 0 (waiver)` }),
    reason: line(500),
  }),
  responses: {
    201: { description: "Granted", body: discountSchema },
    404: { description: "`FEE_NOT_FOUND`, `USER_NOT_FOUND`" },
    409: { description: "`FEE_DISCOUNT_EXISTS`, `FEE_DISCOUNT_NOTHING_TO_CREDIT` (the live enrollment's invoice is void or asks for nothing more)" },
    422: { description: "`FEE_DISCOUNT_INVALID`" },
  },
  handler: async ({ params, body }, ctx) => {
    const discount = unwrap(await ctx.transaction((tx) => grantDiscount(ctx.domain(tx), { ...params, ...body })));
    return { status: 201, body: discountBody(discount) };
  },
});

route({
  name: "fee-discounts-list",
  method: "GET",
  path: "/v1/courses/{courseId}/fees/{feeId}/discounts",
  access: financeStaff,
  summary: "The fee's discounts and waivers, revoked ones too",
  tags: ["fees"],
  params: feeParams,
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of discounts", body: pageOf(discountSchema) }, 404: { description: "`FEE_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.uuid()]))?.[0];
    const rows = unwrap(await listDiscounts(ctx.db, { ...params, limit: query.limit, after }));
    const page = paginate(rows, query.limit, (d) => [d.id]);
    return { status: 200, body: { items: page.items.map(discountBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "fee-discounts-revoke",
  method: "DELETE",
  path: "/v1/courses/{courseId}/fees/{feeId}/discounts/{discountId}",
  access: financeStaff,
  summary: "Revoke a discount, before the learner's invoice for the fee is issued",
  description: "Once the invoice was issued (with the discount, or credited for it) the discount stands: 409 `FEE_DISCOUNT_APPLIED` (invoices and credit notes are never edited). Audited.",
  tags: ["fees"],
  params: z.object({ courseId: z.uuid(), feeId: z.uuid(), discountId: z.uuid() }),
  responses: { 204: { description: "Revoked" }, 404: { description: "`FEE_NOT_FOUND`, `FEE_DISCOUNT_NOT_FOUND`" }, 409: { description: "`FEE_DISCOUNT_APPLIED`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => revokeDiscount(ctx.domain(tx), params)));
    return { status: 204 };
  },
});
