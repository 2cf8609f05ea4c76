import { z } from "zod";
import { changePreferences, type NotificationPreferences, preferencesOf } from "../../domain/notifications/preferences.js";
import { authenticated } from "../platform/http/access.js";
import { assertIfMatch, etagOf, notModified } from "../platform/http/etag.js";
import { route } from "../platform/http/route.js";

const preferencesSchema = z
  .object({
    courseUpdates: z.boolean().meta({ description: "Enrolled, waitlisted, seat offered" }),
    grades: z.boolean().meta({ description: "Grade published, results released, certificate issued" }),
    reminders: z.boolean().meta({ description: "Due reminders; for staff, grading requested and overdue" }),
    announcements: z.boolean().meta({ description: "Course announcements" }),
    discussions: z.boolean().meta({ description: "Replies in topics you follow, and mentions" }),
  })
  .meta({ id: "NotificationPreferences", description: "Which optional emails you get. Account and security emails are always sent." });

// The representation is the flags: an ETag of them changes exactly when they do.
const body = (p: NotificationPreferences): NotificationPreferences => ({
  courseUpdates: p.courseUpdates,
  grades: p.grades,
  reminders: p.reminders,
  announcements: p.announcements,
  discussions: p.discussions,
});
const preferencesEtag = (p: NotificationPreferences) => etagOf(body(p));

route({
  name: "me-notification-preferences-get",
  method: "GET",
  path: "/v1/me/notification-preferences",
  access: authenticated,
  summary: "Which optional emails you get",
  tags: ["me"],
  conditional: "read",
  responses: { 200: { description: "Your choices (all on until you change them)", body: preferencesSchema } },
  handler: async ({ request }, ctx) => {
    const preferences = await preferencesOf(ctx.db, ctx.caller.userId);
    const etag = preferencesEtag(preferences);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: body(preferences), headers: { etag } };
  },
});

route({
  name: "me-notification-preferences-update",
  method: "PUT",
  path: "/v1/me/notification-preferences",
  access: authenticated,
  summary: "Choose which optional emails you get",
  description: "Every category is named; `If-Match` with the ETag you read refuses a change made meanwhile (412).",
  tags: ["me"],
  conditional: "update",
  body: preferencesSchema,
  responses: { 200: { description: "Saved", body: preferencesSchema } },
  handler: async ({ body: next, request }, ctx) => {
    const saved = await ctx.transaction((tx) => changePreferences(ctx.domain(tx), ctx.caller.userId, next, (current) => assertIfMatch(request, preferencesEtag(current))));
    return { status: 200, body: body(saved), headers: { etag: preferencesEtag(saved) } };
  },
});
