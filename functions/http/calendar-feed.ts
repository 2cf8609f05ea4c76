import { z } from "zod";
import { calendarFeedStatus, createCalendarFeed, feedCalendar, revokeCalendarFeed } from "../../domain/schedule/calendar-feed.js";
import { authenticated, publicAccess } from "../platform/http/access.js";
import { ProblemError } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";

const feedSchema = z
  .object({ active: z.boolean(), createdAt: z.iso.datetime().nullable(), lastFetchedAt: z.iso.datetime().nullable() })
  .meta({ id: "CalendarFeedStatus" });

route({
  name: "me-calendar-feed-get",
  method: "GET",
  path: "/v1/me/calendar-feed",
  access: authenticated,
  summary: "Whether you have a calendar feed (its URL is shown only when it is made)",
  tags: ["schedule"],
  responses: { 200: { description: "Your feed", body: feedSchema } },
  handler: async (_input, ctx) => {
    const feed = await calendarFeedStatus(ctx.db, ctx.caller.userId);
    return { status: 200, body: { active: feed.active, createdAt: feed.createdAt?.toISOString() ?? null, lastFetchedAt: feed.lastFetchedAt?.toISOString() ?? null } };
  },
});

route({
  name: "me-calendar-feed-create",
  method: "POST",
  path: "/v1/me/calendar-feed",
  access: authenticated,
  summary: "Make your secret calendar feed URL (iCalendar), replacing the one you had",
  description: "The URL carries a secret token and is shown once: anyone with it reads your schedule. Making a new one stops the old one. Audited.",
  tags: ["schedule"],
  responses: {
    201: { description: "Your new feed", body: z.object({ url: z.string(), token: z.string(), createdAt: z.iso.datetime(), replaced: z.boolean() }) },
  },
  handler: async (_input, ctx) => {
    const feed = await ctx.transaction((tx) => createCalendarFeed(ctx.domain(tx), ctx.caller.userId));
    const url = `${ctx.platform.settings.PUBLIC_API_URL.replace(/\/+$/, "")}/v1/calendar/${feed.token}.ics`;
    return { status: 201, body: { url, token: feed.token, createdAt: feed.createdAt.toISOString(), replaced: feed.replaced } };
  },
});

route({
  name: "me-calendar-feed-delete",
  method: "DELETE",
  path: "/v1/me/calendar-feed",
  access: authenticated,
  summary: "Revoke your calendar feed: its URL stops working",
  tags: ["schedule"],
  responses: { 204: { description: "Revoked" }, 404: { description: "`CALENDAR_FEED_NOT_FOUND`: you have none" } },
  handler: async (_input, ctx) => {
    if (!(await ctx.transaction((tx) => revokeCalendarFeed(ctx.domain(tx), ctx.caller.userId)))) throw new ProblemError("CALENDAR_FEED_NOT_FOUND");
    return { status: 204 };
  },
});

route({
  name: "calendar-feed-ics",
  method: "GET",
  path: "/v1/calendar/{token}.ics",
  access: publicAccess,
  personal: true,
  summary: "A calendar feed (RFC 5545): the token in the URL is the credential",
  description: "Class sessions (cancelled ones as STATUS:CANCELLED) from 30 days back to a year ahead, and assessment due dates. An unknown or revoked token, or a disabled account, answers 404.",
  tags: ["schedule"],
  params: z.object({ token: z.string().max(200) }),
  responses: { 200: { description: "The calendar", contentType: "text/calendar", body: z.string() }, 404: { description: "`NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const appUrl = ctx.platform.settings.PUBLIC_APP_URL;
    const ics = await feedCalendar(ctx.db, params.token, ctx.now(), { appUrl, domain: new URL(appUrl).hostname });
    if (ics === null) throw new ProblemError("NOT_FOUND");
    return { raw: { status: 200, headers: { "content-type": "text/calendar; charset=utf-8", "cache-control": "private, no-store" }, body: ics } };
  },
});
