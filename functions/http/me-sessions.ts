import { z } from "zod";
import { endSession, listSessions } from "../../domain/identity/sessions.js";
import { authenticated } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { noStore } from "../platform/auth/session-tokens.js";

const sessionSchema = z
  .object({
    id: z.uuid().meta({ description: "The session's id (the `sid` of its access tokens)" }),
    startedAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().meta({ description: "When its refresh token was last exchanged, or the sign-in" }),
    expiresAt: z.iso.datetime().meta({ description: "When it ends unless it is used again" }),
    clientIp: z.string().nullable().meta({ description: "The address it was last used from, as the edge saw it" }),
    current: z.boolean().meta({ description: "The session this request came with" }),
  })
  .meta({ id: "Session" });

route({
  name: "me-sessions-list",
  method: "GET",
  path: "/v1/me/sessions",
  access: authenticated,
  summary: "Your active sessions (signed-in devices)",
  tags: ["me"],
  responses: { 200: { description: "The active sessions, most recently used first", body: z.object({ items: z.array(sessionSchema) }) } },
  handler: async (_input, ctx) => {
    const sessions = await listSessions(ctx.db, ctx.caller.userId, ctx.caller.sessionId, ctx.now());
    const items = sessions.map((s) => ({ ...s, startedAt: s.startedAt.toISOString(), lastUsedAt: s.lastUsedAt.toISOString(), expiresAt: s.expiresAt.toISOString() }));
    return { status: 200, body: { items }, headers: noStore };
  },
});

route({
  name: "me-sessions-end",
  method: "DELETE",
  path: "/v1/me/sessions/{sessionId}",
  access: authenticated,
  summary: "Sign out one of your sessions (this one too, if you name it)",
  description: "Its refresh token stops working at once, and so do its access tokens (checked on every request).",
  tags: ["me"],
  params: z.object({ sessionId: z.uuid() }),
  responses: { 204: { description: "Ended" }, 404: { description: "`SESSION_NOT_FOUND`: not an active session of yours" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => endSession(ctx.domain(tx), ctx.caller.userId, params.sessionId)));
    return { status: 204 };
  },
});
