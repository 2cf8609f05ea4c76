import { z } from "zod";
import { type InboxEntry, inboxOf, markAllNotificationsRead, markNotificationRead } from "../../domain/notifications/inbox.js";
import { authenticated } from "../platform/http/access.js";
import { decodeCursorAs, nextLink, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";

const entrySchema = z
  .object({
    id: z.uuid(),
    template: z.string().meta({ description: "The kind of notification (its email template key)" }),
    category: z.string().nullable().meta({ description: "Its preference category; null for account and system notices" }),
    title: z.string(),
    body: z.string().meta({ description: "Short plain text" }),
    url: z.string().nullable(),
    urgent: z.boolean(),
    createdAt: z.iso.datetime(),
    readAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "InboxNotification" });

const entryBody = (n: InboxEntry): z.infer<typeof entrySchema> => ({
  id: n.id,
  template: n.template,
  category: n.category,
  title: n.title,
  body: n.body,
  url: n.url,
  urgent: n.urgent,
  createdAt: n.createdAt.toISOString(),
  readAt: n.readAt?.toISOString() ?? null,
});

route({
  name: "me-notifications-list",
  method: "GET",
  path: "/v1/me/notifications",
  access: authenticated,
  summary: "Your inbox: every notification sent to you by any channel, newest first, and how many are unread",
  tags: ["notifications"],
  query: z.object({ ...pageQuery, unread: z.enum(["true", "false"]).optional().meta({ description: "true: unread ones only" }) }),
  responses: {
    200: { description: "Your notifications", body: z.object({ items: z.array(entrySchema), nextCursor: z.string().nullable(), unreadCount: z.number().int() }) },
    400: { description: "`INVALID_CURSOR`" },
  },
  handler: async ({ query, request }, ctx) => {
    const position = decodeCursorAs(query.cursor, z.tuple([z.iso.datetime({ offset: true }), z.uuid()]));
    const after = position ? { createdAt: new Date(position[0]), id: position[1] } : undefined;
    const inbox = await inboxOf(ctx.db, ctx.caller.userId, { unreadOnly: query.unread === "true", after, limit: query.limit });
    const page = paginate(inbox.entries, query.limit, (n) => [n.createdAt.toISOString(), n.id]);
    return { status: 200, body: { items: page.items.map(entryBody), nextCursor: page.nextCursor, unreadCount: inbox.unreadCount }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "me-notifications-read",
  method: "POST",
  path: "/v1/me/notifications/{notificationId}/read",
  access: authenticated,
  summary: "Mark one of your notifications read (again: no change)",
  tags: ["notifications"],
  params: z.object({ notificationId: z.uuid() }),
  responses: { 200: { description: "The notification", body: entrySchema }, 404: { description: "`NOTIFICATION_NOT_FOUND`: no notification of yours" } },
  handler: async ({ params }, ctx) => {
    const entry = unwrap(await ctx.transaction((tx) => markNotificationRead(ctx.domain(tx), ctx.caller.userId, params.notificationId)));
    return { status: 200, body: entryBody(entry) };
  },
});

route({
  name: "me-notifications-read-all",
  method: "POST",
  path: "/v1/me/notifications/read-all",
  access: authenticated,
  summary: "Mark all your notifications read",
  tags: ["notifications"],
  responses: { 200: { description: "How many were unread", body: z.object({ marked: z.number().int() }) } },
  handler: async (_input, ctx) => {
    const result = await ctx.transaction((tx) => markAllNotificationsRead(ctx.domain(tx), ctx.caller.userId));
    return { status: 200, body: result };
  },
});
