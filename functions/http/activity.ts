import { z } from "zod";
import { type StoredStatement, statementSchema } from "../../domain/activity/statements.js";
import { markStatementDays } from "../../domain/analytics/analytics.js";
import { statementDays } from "../../domain/analytics/statement-days.js";
import { completeLesson } from "../../domain/catalog/content.js";
import { authenticated } from "../platform/http/access.js";
import { ProblemError } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";

const storedSchema = statementSchema.extend({ learnerId: z.uuid(), source: z.enum(["client", "server"]), storedAt: z.iso.datetime() }).meta({ id: "ActivityStatement" });

route({
  name: "activity-ingest",
  method: "POST",
  path: "/v1/activity",
  access: authenticated,
  summary: "Record a batch of your learning-activity statements (idempotent by statement id)",
  description: "A `completed` statement about a lesson also completes the lesson for progress.",
  tags: ["progress"],
  bodyLimitBytes: 512 * 1024,
  body: z.object({ statements: z.array(statementSchema).min(1).max(100) }),
  responses: { 202: { description: "Stored", body: z.object({ accepted: z.number().int(), duplicates: z.number().int() }) } },
  handler: async ({ body }, ctx) => {
    const learnerId = ctx.caller.userId;
    const storedAt = ctx.now().toISOString();
    const statements: StoredStatement[] = body.statements.map((st) => ({ ...st, learnerId, source: "client", storedAt }));
    const analytics = ctx.platform.analytics;
    // The store write and the lookups behind the active-day markers are independent: one wait, not two.
    const [result, days] = await Promise.all([
      ctx.platform.activity.append(learnerId, statements),
      statementDays(ctx.db, learnerId, body.statements, ctx.now(), (courseId, date) => analytics.wasMarked(courseId, learnerId, date)),
    ]);
    // The days this learner was active in their courses feed the course analytics (idempotent markers).
    await markStatementDays(analytics, learnerId, days);
    for (const st of body.statements.filter((s) => s.verb === "completed" && s.object.type === "lesson")) {
      // A lesson the learner cannot complete (locked, hidden, not theirs) is stored as activity but changes no progress.
      await ctx.transaction((tx) => completeLesson(ctx.domain(tx), st.object.id, learnerId)).catch((err: unknown) => ctx.log.warn("completed statement not applied", { err }));
    }
    return { status: 202, body: result };
  },
});

route({
  name: "me-activity-list",
  method: "GET",
  path: "/v1/me/activity",
  access: authenticated,
  summary: "Your learning timeline, newest first (continuation-token pages)",
  tags: ["me"],
  query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.string().max(4096).optional() }),
  responses: { 200: { description: "A page of statements", body: z.object({ items: z.array(storedSchema), nextCursor: z.string().nullable() }) } },
  handler: async ({ query }, ctx) => {
    let continuation: string | undefined;
    if (query.cursor) {
      try {
        continuation = Buffer.from(query.cursor, "base64url").toString("utf8");
      } catch {
        throw new ProblemError("INVALID_CURSOR");
      }
    }
    const page = await ctx.platform.activity
      .timeline(ctx.caller.userId, { limit: query.limit, ...(continuation ? { continuation } : {}) })
      .catch((err: unknown) => {
        if (continuation) throw new ProblemError("INVALID_CURSOR", { detail: "Not a cursor this list issued." });
        throw err;
      });
    return { status: 200, body: { items: page.items, nextCursor: page.continuation ? Buffer.from(page.continuation).toString("base64url") : null }, headers: { "cache-control": "private, no-store" } };
  },
});
