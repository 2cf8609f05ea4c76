import { z } from "zod";
import { approveBankItem, bankItemById, bankItemVersion, retireBankItem, reviseBankItem, tagBankItem } from "../../domain/banks/manage-bank-items.js";
import { itemDifficulties } from "../../domain/db/schema/assessment-json.js";
import { versionFromIfMatch } from "../platform/http/etag.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { bankItemBody, bankItemSchema, itemEtag, itemEtagPattern, itemManagers, itemReaders, revisedItemBody, tagsSchema } from "./schemas/question-banks.js";

const itemParams = z.object({ itemId: z.uuid() });

route({
  name: "bank-items-get",
  method: "GET",
  path: "/v1/bank-items/{itemId}",
  access: itemReaders,
  summary: "A bank item at its current version, with its key",
  tags: ["question-banks"],
  description: "The ETag is the current version: send it as If-Match when writing the next one.",
  params: itemParams,
  responses: { 200: { description: "The item", body: bankItemSchema }, 404: { description: "`BANK_ITEM_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const item = unwrap(await bankItemById(ctx.db, params.itemId));
    return { status: 200, body: bankItemBody(item), headers: { etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-revise",
  method: "PUT",
  path: "/v1/bank-items/{itemId}",
  access: itemManagers,
  summary: "Write a new version of a bank item (content and key)",
  description:
    "Send the ETag you read (the current version) as If-Match: 412 when another version was written meanwhile. Versions are immutable: attempts that drew an earlier one keep it. The type stays (422 `BANK_ITEM_TYPE_CHANGED`); a retired item is not changed (409).",
  tags: ["question-banks"],
  conditional: "update",
  params: itemParams,
  body: revisedItemBody,
  responses: {
    200: { description: "The new version", body: bankItemSchema },
    404: { description: "`BANK_ITEM_NOT_FOUND`" },
    409: { description: "`BANK_ITEM_RETIRED`" },
    422: { description: "`INVALID_ITEM`, `BANK_ITEM_TYPE_CHANGED`" },
  },
  handler: async ({ params, body, request }, ctx) => {
    const version = versionFromIfMatch(request.headers.get("if-match"), itemEtagPattern);
    const item = unwrap(await ctx.transaction((tx) => reviseBankItem(ctx.domain(tx), params.itemId, body, version)));
    return { status: 200, body: bankItemBody(item), headers: { etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-tag",
  method: "PATCH",
  path: "/v1/bank-items/{itemId}",
  access: itemManagers,
  summary: "Change a bank item's tags or difficulty (no new version)",
  tags: ["question-banks"],
  params: itemParams,
  body: z
    .object({ tags: tagsSchema.optional(), difficulty: z.enum(itemDifficulties).nullable().optional() })
    .refine((b) => b.tags !== undefined || b.difficulty !== undefined, "name tags or difficulty"),
  responses: { 200: { description: "The item", body: bankItemSchema }, 404: { description: "`BANK_ITEM_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const item = unwrap(await ctx.transaction((tx) => tagBankItem(ctx.domain(tx), params.itemId, body)));
    return { status: 200, body: bankItemBody(item), headers: { etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-approve",
  method: "POST",
  path: "/v1/bank-items/{itemId}/approve",
  access: itemManagers,
  summary: "Approve a draft item: pools may draw it from now on",
  description: "Send the ETag of the version you reviewed as If-Match (428 without it; 412 when another version was written meanwhile).",
  tags: ["question-banks"],
  conditional: "update",
  params: itemParams,
  responses: {
    200: { description: "The item", body: bankItemSchema },
    404: { description: "`BANK_ITEM_NOT_FOUND`" },
    409: { description: "`BANK_ITEM_RETIRED`" },
    428: { description: "`PRECONDITION_REQUIRED`: send If-Match" },
  },
  handler: async ({ params, request }, ctx) => {
    const version = versionFromIfMatch(request.headers.get("if-match"), itemEtagPattern);
    if (version === undefined) throw new ProblemError("PRECONDITION_REQUIRED", { detail: "Read the item and send its ETag as If-Match: the approval is for the version you reviewed." });
    const item = unwrap(await ctx.transaction((tx) => approveBankItem(ctx.domain(tx), params.itemId, version)));
    return { status: 200, body: bankItemBody(item), headers: { etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-retire",
  method: "POST",
  path: "/v1/bank-items/{itemId}/retire",
  access: itemManagers,
  summary: "Retire an item: kept for the attempts that saw it, never drawn again",
  tags: ["question-banks"],
  params: itemParams,
  responses: { 200: { description: "The item", body: bankItemSchema }, 404: { description: "`BANK_ITEM_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const item = unwrap(await ctx.transaction((tx) => retireBankItem(ctx.domain(tx), params.itemId)));
    return { status: 200, body: bankItemBody(item), headers: { etag: itemEtag(item) } };
  },
});

route({
  name: "bank-items-version-get",
  method: "GET",
  path: "/v1/bank-items/{itemId}/versions/{version}",
  access: itemReaders,
  summary: "One version of a bank item, with its key",
  tags: ["question-banks"],
  params: z.object({ itemId: z.uuid(), version: z.coerce.number().int().min(1).max(1_000_000) }),
  responses: { 200: { description: "The version", body: bankItemSchema }, 404: { description: "`BANK_ITEM_NOT_FOUND`, `BANK_ITEM_VERSION_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const item = unwrap(await bankItemVersion(ctx.db, params.itemId, params.version));
    return { status: 200, body: bankItemBody(item) };
  },
});
