import { z } from "zod";
import { type NotificationCategory, optOut } from "../../domain/notifications/preferences.js";
import { publicAccess } from "../platform/http/access.js";
import { ProblemError } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { unsubscribeLinks } from "../platform/unsubscribe-links.js";
import type { Platform } from "../platform/platform.js";

// RFC 8058 one-click unsubscribe: the link in an email's List-Unsubscribe header, signed (no sign-in needed).
// A GET only shows a page with a button: mail scanners and link previews follow links, and must never
// unsubscribe anyone. The POST, from the mail client or that button, turns the category off.

const query = z.object({ token: z.string().min(1).max(2048) });
const htmlPage = { description: "A small HTML page", contentType: "text/html" };
const invalid = { description: "`UNSUBSCRIBE_LINK_INVALID`: forged, expired or not an unsubscribe link" };

const categoryNames: Record<NotificationCategory, string> = {
  courseUpdates: "course updates",
  grades: "grades and certificates",
  reminders: "reminders",
  announcements: "announcements",
  discussions: "discussion replies and mentions",
};

async function verified(p: Platform, token: string) {
  const named = await (await unsubscribeLinks(p.settings)).verify(token);
  if (!named) throw new ProblemError("UNSUBSCRIBE_LINK_INVALID", { detail: "Use the link from a recent email, or change your choices in your notification settings." });
  return named;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A page with no script, styled inline; the form posts back to the same link.
const page = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${title}</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;line-height:1.5">
<h1 style="font-size:1.4rem">${title}</h1>
${body}
</body>
</html>`;

// Inline styles and a form posting back here, nothing else. The link is a bearer token: both routes are declared
// personal, so the edge keeps every answer (the pages and the problems) out of caches.
const htmlResponse = (body: string) => ({
  raw: {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    },
    body,
  },
});

route({
  name: "unsubscribe-page",
  method: "GET",
  path: "/v1/unsubscribe",
  access: publicAccess,
  personal: true,
  summary: "The page behind an email's unsubscribe link: asks before it changes anything",
  tags: ["me"],
  query,
  responses: { 200: htmlPage, 400: invalid },
  handler: async ({ query: q }, ctx) => {
    const { category } = await verified(ctx.platform, q.token);
    const action = `?token=${encodeURIComponent(q.token)}`;
    return htmlResponse(
      page(
        "Stop these emails?",
        `<p>You will no longer get emails about ${escapeHtml(categoryNames[category])} from Ringlet. Account and security emails still come.</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  },
});

route({
  name: "unsubscribe-one-click",
  method: "POST",
  path: "/v1/unsubscribe",
  access: publicAccess,
  personal: true,
  summary: "One-click unsubscribe (RFC 8058): turns the link's email category off",
  description: "Sent by mail clients with the form body `List-Unsubscribe=One-Click`; repeating it changes nothing.",
  tags: ["me"],
  query,
  bodyFormat: "form",
  body: z.object({ "List-Unsubscribe": z.literal("One-Click") }),
  bodyLimitBytes: 1024,
  responses: { 200: htmlPage, 400: invalid },
  handler: async ({ query: q }, ctx) => {
    const { userId, category } = await verified(ctx.platform, q.token);
    await ctx.transaction((tx) => optOut(ctx.domain(tx), userId, category));
    return htmlResponse(page("You are unsubscribed", `<p>You will no longer get emails about ${escapeHtml(categoryNames[category])}. Turn them on again in your notification settings.</p>`));
  },
});
