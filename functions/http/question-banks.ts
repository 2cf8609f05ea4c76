import { z } from "zod";
import { addBankItem, listBankItems } from "../../domain/banks/manage-bank-items.js";
import { bankById, banksOfCourse, createCourseBank, createSharedBank, deleteBank, setBankCourses, updateBank } from "../../domain/banks/question-banks.js";
import { itemDifficulties } from "../../domain/db/schema/assessment-json.js";
import { bankItemStatuses } from "../../domain/db/schema/index.js";
import { adminOnly, courseStaff } from "../platform/http/access.js";
import { notModified, versionFromIfMatch } from "../platform/http/etag.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import {
  bankBody,
  bankEtag,
  bankEtagPattern,
  bankItemBody,
  bankItemSchema,
  bankManagers,
  bankReaders,
  bankSchema,
  itemEtag,
  newBankItemBody,
  tagsSchema,
} from "./schemas/question-banks.js";

const plain = (max: number) => z.string().trim().max(max);
const bankParams = z.object({ bankId: z.uuid() });
const courseIds = z.array(z.uuid()).max(500);

route({
  name: "question-banks-create",
  method: "POST",
  path: "/v1/courses/{courseId}/question-banks",
  access: courseStaff(["instructor"]),
  summary: "Make a question bank for the course (its instructors)",
  tags: ["question-banks"],
  params: z.object({ courseId: z.uuid() }),
  body: z.object({ title: plain(200).min(1), description: plain(5000).default("") }),
  responses: { 201: { description: "Created", body: bankSchema } },
  handler: async ({ params, body }, ctx) => {
    const bank = await ctx.transaction((tx) => createCourseBank(ctx.domain(tx), params.courseId, body));
    return { status: 201, body: bankBody(bank), headers: { location: `/api/v1/question-banks/${bank.id}`, etag: bankEtag(bank) } };
  },
});

route({
  name: "question-banks-create-shared",
  method: "POST",
  path: "/v1/question-banks",
  access: adminOnly,
  summary: "Make a shared question bank for the named courses (administrators)",
  description: "Its items are managed by administrators; the named courses' instructors read it and draw from it.",
  tags: ["question-banks"],
  body: z.object({ title: plain(200).min(1), description: plain(5000).default(""), courseIds }),
  responses: { 201: { description: "Created", body: bankSchema }, 404: { description: "`COURSE_NOT_FOUND`: a named course does not exist" } },
  handler: async ({ body }, ctx) => {
    const bank = unwrap(await ctx.transaction((tx) => createSharedBank(ctx.domain(tx), body)));
    return { status: 201, body: bankBody(bank), headers: { location: `/api/v1/question-banks/${bank.id}`, etag: bankEtag(bank) } };
  },
});

route({
  name: "question-banks-list",
  method: "GET",
  path: "/v1/courses/{courseId}/question-banks",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's question banks and the shared banks named for it, by title",
  tags: ["question-banks"],
  params: z.object({ courseId: z.uuid() }),
  responses: { 200: { description: "Banks", body: z.object({ items: z.array(bankSchema) }) } },
  handler: async ({ params }, ctx) => {
    const banks = await banksOfCourse(ctx.db, params.courseId);
    return { status: 200, body: { items: banks.map(bankBody) } };
  },
});

route({
  name: "question-banks-get",
  method: "GET",
  path: "/v1/question-banks/{bankId}",
  access: bankReaders,
  summary: "One question bank",
  tags: ["question-banks"],
  conditional: "read",
  params: bankParams,
  responses: { 200: { description: "The bank", body: bankSchema }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const bank = unwrap(await bankById(ctx.db, params.bankId));
    const etag = bankEtag(bank);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: bankBody(bank), headers: { etag } };
  },
});

route({
  name: "question-banks-update",
  method: "PATCH",
  path: "/v1/question-banks/{bankId}",
  access: bankManagers,
  summary: "Change a bank's title or description",
  tags: ["question-banks"],
  conditional: "update",
  params: bankParams,
  body: z
    .object({ title: plain(200).min(1).optional(), description: plain(5000).optional() })
    .refine((b) => b.title !== undefined || b.description !== undefined, "name at least one field to change"),
  responses: { 200: { description: "Changed", body: bankSchema }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" } },
  handler: async ({ params, body, request }, ctx) => {
    const version = versionFromIfMatch(request.headers.get("if-match"), bankEtagPattern);
    const bank = unwrap(await ctx.transaction((tx) => updateBank(ctx.domain(tx), params.bankId, body, version)));
    return { status: 200, body: bankBody(bank), headers: { etag: bankEtag(bank) } };
  },
});

route({
  name: "question-banks-delete",
  method: "DELETE",
  path: "/v1/question-banks/{bankId}",
  access: bankManagers,
  summary: "Delete a bank and its items",
  description: "Refused (409 `QUESTION_BANK_IN_USE`) while an assessment's pool draws from it. Attempts that drew its items keep what they were shown.",
  tags: ["question-banks"],
  params: bankParams,
  responses: { 204: { description: "Deleted" }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" }, 409: { description: "`QUESTION_BANK_IN_USE`" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => deleteBank(ctx.domain(tx), params.bankId)));
    return { status: 204 };
  },
});

route({
  name: "question-banks-courses-set",
  method: "PUT",
  path: "/v1/question-banks/{bankId}/courses",
  access: adminOnly,
  summary: "Name the courses a shared bank is shared with (administrators)",
  description: "The whole list: courses left out stop reading the bank (assessments whose pools name it keep drawing until changed).",
  tags: ["question-banks"],
  params: bankParams,
  body: z.object({ courseIds }),
  responses: {
    200: { description: "The bank", body: bankSchema },
    404: { description: "`QUESTION_BANK_NOT_FOUND`, `COURSE_NOT_FOUND`" },
    422: { description: "`QUESTION_BANK_NOT_SHARED`: a course's bank" },
  },
  handler: async ({ params, body }, ctx) => {
    const bank = unwrap(await ctx.transaction((tx) => setBankCourses(ctx.domain(tx), params.bankId, body.courseIds)));
    return { status: 200, body: bankBody(bank), headers: { etag: bankEtag(bank) } };
  },
});

route({
  name: "bank-items-create",
  method: "POST",
  path: "/v1/question-banks/{bankId}/items",
  access: bankManagers,
  summary: "Add an item to a bank (version 1)",
  description:
    "`item` as in assessments (its `id` is optional and ignored: the bank item's id replaces it), `key` (null for essay and file items), `tags` (trimmed, unique, at most 20), `difficulty`. `status` defaults to approved (a person wrote it); draft keeps it out of pools until approved. Checked like every item (422 `INVALID_ITEM` lists the problems).",
  tags: ["question-banks"],
  params: bankParams,
  body: newBankItemBody,
  responses: { 201: { description: "Created", body: bankItemSchema }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" }, 422: { description: "`INVALID_ITEM`" } },
  handler: async ({ params, body }, ctx) => {
    const item = unwrap(await ctx.transaction((tx) => addBankItem(ctx.domain(tx), params.bankId, body)));
    return { status: 201, body: bankItemBody(item), headers: { location: `/api/v1/bank-items/${item.id}`, etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-list",
  method: "GET",
  path: "/v1/question-banks/{bankId}/items",
  access: bankReaders,
  summary: "A bank's items at their current versions, oldest first, with keys",
  tags: ["question-banks"],
  params: bankParams,
  query: z.object({
    ...pageQuery,
    status: z.enum(bankItemStatuses).optional(),
    tag: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((t) => (t === undefined ? [] : Array.isArray(t) ? t : [t]))
      .pipe(tagsSchema)
      .meta({ description: "Repeatable: every tag named must be on the item" }),
    type: z.enum(["single", "multiple", "true-false", "numeric", "short-text", "essay", "file"]).optional(),
    difficulty: z.enum(itemDifficulties).optional(),
  }),
  responses: { 200: { description: "A page of items", body: pageOf(bankItemSchema) }, 400: { description: "`INVALID_CURSOR`" }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    unwrap(await bankById(ctx.db, params.bankId));
    const after = decodeCursorAs(query.cursor, z.tuple([z.uuid()]));
    const rows = await listBankItems(ctx.db, params.bankId, {
      limit: query.limit,
      tags: query.tag,
      ...(query.status ? { status: query.status } : {}),
      ...(query.type ? { type: query.type } : {}),
      ...(query.difficulty ? { difficulty: query.difficulty } : {}),
      ...(after ? { afterId: after[0] } : {}),
    });
    const page = paginate(rows, query.limit, (i) => [i.id]);
    return { status: 200, body: { items: page.items.map(bankItemBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});
