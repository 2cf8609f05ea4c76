import { z } from "zod";
import { IANAZone } from "luxon";
import { changePreferences, notificationCategories, type NotificationPreferences, preferencesOf } from "../../domain/notifications/preferences.js";
import { authenticated } from "../platform/http/access.js";
import { assertIfMatch, etagOf, notModified } from "../platform/http/etag.js";
import { route } from "../platform/http/route.js";

const category = z.enum(notificationCategories);
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (00:00 to 23:59)");
const quietHoursSchema = z
  .object({
    start: hhmm,
    end: hhmm,
    timeZone: z.string().max(64).refine((zone) => IANAZone.isValidZone(zone), "must be an IANA time zone (Europe/Madrid)"),
  })
  .refine((q) => q.start !== q.end, { message: "start and end must differ (send null for no quiet hours)", path: ["end"] })
  .meta({ id: "QuietHours", description: "Non-urgent push and SMS wait until the end; the window may wrap midnight (22:00 to 07:00)" });

const emailFlags = {
  courseUpdates: z.boolean().meta({ description: "Emails: enrolled, waitlisted, seat offered, evaluations opened" }),
  grades: z.boolean().meta({ description: "Emails: grade published, results released, certificate issued" }),
  reminders: z.boolean().meta({ description: "Emails: due reminders; for staff, grading requested and overdue" }),
  announcements: z.boolean().meta({ description: "Emails: course announcements" }),
  discussions: z.boolean().meta({ description: "Emails: replies in topics you follow, and mentions" }),
};
const channels = {
  push: z.array(category).max(notificationCategories.length).meta({ description: "Categories sent by push to every browser you registered" }),
  sms: z.array(category).max(notificationCategories.length).meta({ description: "Categories sent by SMS to your verified number" }),
  quietHours: quietHoursSchema.nullable(),
  discussionDigest: z.boolean().meta({ description: "Discussion emails batched into one daily digest" }),
};
const preferencesSchema = z
  .object({ ...emailFlags, ...channels })
  .meta({ id: "NotificationPreferences", description: "Which optional emails you get, what goes by push and SMS, and when not. Account and security emails are always sent; the inbox gets everything." });
// An older client sends only the email flags: channel choices left out stay as they are.
const updateSchema = preferencesSchema.partial({ push: true, sms: true, quietHours: true, discussionDigest: true }).meta({ id: "NotificationPreferencesUpdate" });

// The representation is the choices: an ETag of them changes exactly when they do.
const body = (p: NotificationPreferences): NotificationPreferences => ({
  courseUpdates: p.courseUpdates,
  grades: p.grades,
  reminders: p.reminders,
  announcements: p.announcements,
  discussions: p.discussions,
  push: p.push,
  sms: p.sms,
  quietHours: p.quietHours,
  discussionDigest: p.discussionDigest,
});
const preferencesEtag = (p: NotificationPreferences) => etagOf(body(p));

route({
  name: "me-notification-preferences-get",
  method: "GET",
  path: "/v1/me/notification-preferences",
  access: authenticated,
  summary: "Which optional emails you get, and what goes by push and SMS",
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
  summary: "Choose which optional emails you get, and what goes by push and SMS",
  description: "Every email flag is named; `push`, `sms`, `quietHours` and `discussionDigest` left out stay as they are. `If-Match` with the ETag you read refuses a change made meanwhile (412).",
  tags: ["me"],
  conditional: "update",
  body: updateSchema,
  responses: { 200: { description: "Saved", body: preferencesSchema } },
  handler: async ({ body: input, request }, ctx) => {
    // Only the members sent (JSON has no undefined, but a spread of optional keys must not carry them either).
    const next = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as typeof input;
    const saved = await ctx.transaction((tx) => changePreferences(ctx.domain(tx), ctx.caller.userId, next, (current) => assertIfMatch(request, preferencesEtag(current))));
    return { status: 200, body: body(saved), headers: { etag: preferencesEtag(saved) } };
  },
});
