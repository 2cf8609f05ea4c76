// The OpenAI stand-in's admin routes on the runtime (beside /admin/mailbox), for tests and people:
//   POST   /admin/openai/script    { "responses": [ {"status": 429, "retryAfterSeconds": 1}, {"malformedItems": [2]},
//                                  {"invalidJson": true}, {"content": "..."}, {"status": 500} ] } → 200 { "queued": n }:
//                                  the next requests get these answers, in order, then the default (valid items)
//   GET    /admin/openai/requests  → what was asked and when, oldest first
//   DELETE /admin/openai           → forgets the script and the requests
// All answer 404 when no setting asked for the stand-in.
import type { IncomingMessage, ServerResponse } from "node:http";
import { answerJson as done, jsonObjectBody } from "./loopback-http.js";
import type { OpenAIStandIn, ScriptedAnswer } from "./openai-standin.js";

const maxScripted = 100;

/** Handles the /admin/openai routes; false when the path is none of them. */
export async function handleOpenAIAdminRequest(standIn: OpenAIStandIn | undefined, pathname: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const script = /^\/admin\/openai\/script\/?$/i.test(pathname);
  const requests = /^\/admin\/openai\/requests\/?$/i.test(pathname);
  const root = /^\/admin\/openai\/?$/i.test(pathname);
  if (!script && !requests && !root) return false;
  res.setHeader("cache-control", "no-store");
  if (!standIn) return done(res, 404, { error: "The OpenAI stand-in is not running: no setting is UseDevelopmentOpenAI=true." });
  if (requests) return method === "GET" ? done(res, 200, standIn.requests()) : done(res, 405, undefined);
  if (root) {
    if (method !== "DELETE") return done(res, 405, undefined);
    standIn.reset();
    return done(res, 204, undefined);
  }
  if (method !== "POST") return done(res, 405, undefined);
  const body = await jsonObjectBody(req, 64 * 1024);
  const responses = typeof body === "string" ? undefined : body.responses;
  if (!Array.isArray(responses) || responses.length > maxScripted || !responses.every(isScripted)) {
    return done(res, 400, { error: `The body is { "responses": [...] } with at most ${maxScripted} answers, each { status?, retryAfterSeconds?, malformedItems?, invalidJson?, content? }.` });
  }
  return done(res, 200, { queued: standIn.script(responses) });
}

function isScripted(value: unknown): value is ScriptedAnswer {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const known = new Set(["status", "retryAfterSeconds", "malformedItems", "invalidJson", "content"]);
  if (!Object.keys(v).every((k) => known.has(k))) return false;
  if (v.status !== undefined && !(Number.isInteger(v.status) && (v.status as number) >= 200 && (v.status as number) <= 599)) return false;
  if (v.retryAfterSeconds !== undefined && !(Number.isInteger(v.retryAfterSeconds) && (v.retryAfterSeconds as number) >= 0 && (v.retryAfterSeconds as number) <= 3600)) return false;
  if (v.malformedItems !== undefined && !(Array.isArray(v.malformedItems) && v.malformedItems.every((i) => Number.isInteger(i) && i >= 0))) return false;
  if (v.invalidJson !== undefined && typeof v.invalidJson !== "boolean") return false;
  return v.content === undefined || typeof v.content === "string";
}
