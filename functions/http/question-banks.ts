import { z } from "zod";
import { addBankItem, bankItemsPage } from "../../domain/banks/manage-bank-items.js";
import { bankFile } from "../../domain/banks/bank-format.js";
import { bankExport, importIntoBank, type ImportSource } from "../../domain/banks/bank-transfer.js";
import { qtiPackageFiles } from "../../domain/banks/qti/qti-export.js";
import { bankById, banksOfCourse, createCourseBank, createSharedBank, deleteBank, setBankCourses, updateBank } from "../../domain/banks/question-banks.js";
import { itemDifficulties } from "../../domain/db/schema/assessment-json.js";
import { bankItemStatuses } from "../../domain/db/schema/index.js";
import { decodeText, isZip, packageFiles, zipOf } from "../banks/package-zip.js";
import { adminOnly, courseStaff } from "../platform/http/access.js";
import { readBody } from "../platform/http/body.js";
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
  bankParams,
  bankReaders,
  bankSchema,
  itemEtag,
  itemTypes,
  newBankItemBody,
  tagsSchema,
} from "./schemas/question-banks.js";
import { plain } from "./schemas/text.js";

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
  description: "Refused (409 `QUESTION_BANK_IN_USE`) while an assessment's pool draws from it, or while an assessment's attempts drew from it (their regrades and item analysis read its item versions).",
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
      // The host joins a repeated query key's values with commas: both forms arrive as one list.
      .transform((t) => (t === undefined ? [] : Array.isArray(t) ? t : [t]).flatMap((v) => v.split(",")))
      .pipe(tagsSchema)
      .meta({ description: "Repeatable (or comma-separated): every tag named must be on the item" }),
    type: z.enum(itemTypes).optional(),
    difficulty: z.enum(itemDifficulties).optional(),
  }),
  responses: { 200: { description: "A page of items", body: pageOf(bankItemSchema) }, 400: { description: "`INVALID_CURSOR`" }, 404: { description: "`QUESTION_BANK_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.uuid()]));
    const rows = unwrap(await bankItemsPage(ctx.db, params.bankId, {
      limit: query.limit,
      tags: query.tag,
      ...(query.status ? { status: query.status } : {}),
      ...(query.type ? { type: query.type } : {}),
      ...(query.difficulty ? { difficulty: query.difficulty } : {}),
      ...(after ? { afterId: after[0] } : {}),
    }));
    const page = paginate(rows, query.limit, (i) => [i.id]);
    return { status: 200, body: { items: page.items.map(bankItemBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

const formatQuery = z.object({ format: z.enum(["json", "qti3", "qti21"]).default("json").meta({ description: "json (docs/question-banks.md), qti3 (QTI 3.0) or qti21 (IMS QTI 2.1)" }) });

route({
  name: "question-banks-export",
  method: "GET",
  path: "/v1/question-banks/{bankId}/export",
  access: bankReaders,
  summary: "Export a bank: the Ringlet JSON format, or a QTI 3.0 / 2.1 content package (zip)",
  description:
    "Items at their current versions with their keys, tags and difficulty, oldest first. The JSON format carries every item with its `status` (an import keeps approved items approved and makes the others drafts); a QTI package holds the approved items alone, marked `data-ringlet-status`. At most 2,000 items, what one import takes: a larger bank is refused (422 `BANK_EXPORT_TOO_LARGE`), never cut.",
  tags: ["question-banks"],
  params: bankParams,
  query: formatQuery,
  responses: {
    200: {
      description: "The bank file",
      body: z.object({ format: z.literal("ringlet.question-bank"), version: z.literal(1), bank: z.object({ title: z.string(), description: z.string() }), items: z.array(z.unknown()) }),
      otherContent: { "application/zip": z.string().meta({ description: "An IMS content package: imsmanifest.xml and one QTI item document per item" }) },
    },
    404: { description: "`QUESTION_BANK_NOT_FOUND`" },
    422: { description: "`BANK_EXPORT_TOO_LARGE`: more than 2,000 items" },
  },
  handler: async ({ params, query }, ctx) => {
    const { bank, items } = unwrap(await bankExport(ctx.db, params.bankId, { approvedOnly: query.format !== "json" }));
    const name = `question-bank-${bank.id}`;
    if (query.format === "json") {
      return { status: 200, body: bankFile(bank, items), headers: { "content-disposition": `attachment; filename="${name}.json"` } };
    }
    const zip = await zipOf(qtiPackageFiles(bank, items, query.format));
    return { raw: { status: 200, headers: { "content-type": "application/zip", "content-disposition": `attachment; filename="${name}-${query.format}.zip"` }, body: zip } };
  },
});

/** Import caps: the body, a package's files, what they inflate to (each and together). */
const IMPORT_MAX_BYTES = 10 * 1024 * 1024;
const PACKAGE_LIMITS = { maxEntries: 2_100, maxUncompressedBytes: 50 * 1024 * 1024, maxEntryBytes: 1024 * 1024 };

route({
  name: "question-banks-import",
  method: "POST",
  path: "/v1/question-banks/{bankId}/import",
  access: bankManagers,
  summary: "Import items into a bank: the Ringlet JSON format, or QTI 3.0 / 2.1 (a content package zip, or one item document)",
  description:
    "The body is the file itself (at most 10 MB; a package of at most 2,100 files inflating to at most 50 MB, 1 MB each; at most 2,000 items). All or nothing: any refused item refuses the import and nothing is added. Imported items have origin `imported`; those the file marks approved (the JSON `status`, a Ringlet QTI export's `data-ringlet-status`) arrive approved, every other one (drafts, retired items, foreign QTI) arrives as a draft for a person to approve. XML with a DOCTYPE is refused (422 `QTI_DOCTYPE_FORBIDDEN`: QTI needs no DTD, and that is how external entities and entity expansion come in); malformed or too deeply nested XML, and QTI that Ringlet cannot score the same way (a relative tolerance, a case-sensitive mapping, a foreign patternMatch), is 422 `QTI_INVALID` naming the file.",
  tags: ["question-banks"],
  params: bankParams,
  query: formatQuery,
  responses: {
    201: { description: "Imported", body: z.object({ imported: z.array(z.object({ id: z.uuid(), version: z.number().int() })) }) },
    404: { description: "`QUESTION_BANK_NOT_FOUND`" },
    413: { description: "`PAYLOAD_TOO_LARGE`, `BANK_IMPORT_TOO_LARGE`" },
    422: { description: "`BANK_IMPORT_INVALID`, `INVALID_ITEM`, `QTI_INVALID`, `QTI_DOCTYPE_FORBIDDEN`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const raw = await readBody(request, IMPORT_MAX_BYTES);
    const source: ImportSource =
      query.format === "json"
        ? { format: "json", text: decodeText(raw, "the file", "BANK_IMPORT_INVALID") }
        : { format: query.format, files: isZip(raw) ? await packageFiles(raw, PACKAGE_LIMITS) : [{ path: "item.xml", text: decodeText(raw, "item.xml") }] };
    const result = unwrap(await ctx.transaction((tx) => importIntoBank(ctx.domain(tx), params.bankId, source)));
    return { status: 201, body: result };
  },
});
