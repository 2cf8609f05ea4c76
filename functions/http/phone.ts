import { z } from "zod";
import { type PhoneRules, type PhoneView, phoneOf, removePhone, setPhone, verifyPhone } from "../../domain/notifications/phone.js";
import { authenticated } from "../platform/http/access.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route, type RouteContext } from "../platform/http/route.js";
import { smsEnabled } from "../platform/sms-sender.js";

const phoneSchema = z
  .object({
    phone: z.string().meta({ description: "Masked but for the last digits" }),
    verified: z.boolean(),
    codeExpiresAt: z.iso.datetime().nullable().meta({ description: "When the code sent last expires; null when none is pending" }),
  })
  .meta({ id: "Phone" });

const body = (p: PhoneView) => ({ phone: p.phone, verified: p.verified, codeExpiresAt: p.codeExpiresAt?.toISOString() ?? null });

// SMS off (no number to send from): nothing to verify a phone with.
function rules(ctx: RouteContext): PhoneRules {
  const s = ctx.platform.settings;
  if (!smsEnabled(s)) throw new ProblemError("SMS_NOT_CONFIGURED");
  return { codeTtlMinutes: s.PHONE_CODE_TTL_MINUTES, maxAttempts: s.PHONE_CODE_MAX_ATTEMPTS, maxSendsPerHour: s.PHONE_CODE_MAX_SENDS };
}

route({
  name: "me-phone-get",
  method: "GET",
  path: "/v1/me/phone",
  access: authenticated,
  summary: "Your mobile number for SMS notifications (masked), and whether it is verified",
  tags: ["me"],
  responses: { 200: { description: "Your number", body: phoneSchema }, 404: { description: "`PHONE_NOT_FOUND`" } },
  handler: async (_input, ctx) => {
    const phone = await phoneOf(ctx.db, ctx.caller.userId);
    if (!phone) throw new ProblemError("PHONE_NOT_FOUND");
    return { status: 200, body: body(phone) };
  },
});

route({
  name: "me-phone-put",
  method: "PUT",
  path: "/v1/me/phone",
  access: authenticated,
  summary: "Set your mobile number: a 6-digit code is sent to it by SMS",
  description: "E.164 only (`+34612345678`). A new number is unverified (and gets no SMS) until its code is entered at POST /v1/me/phone/verify. Codes per hour are limited. Audited.",
  tags: ["me"],
  body: z.object({ phone: z.string().max(32) }),
  responses: {
    200: { description: "Saved; the code is on its way (or the number was verified already)", body: phoneSchema },
    422: { description: "`PHONE_NUMBER_INVALID`" },
    429: { description: "`PHONE_CODE_THROTTLED`" },
    503: { description: "`SMS_NOT_CONFIGURED`" },
  },
  handler: async ({ body: input }, ctx) => {
    const r = rules(ctx);
    const phone = unwrap(await ctx.transaction((tx) => setPhone(ctx.domain(tx), ctx.caller.userId, input.phone, r)));
    return { status: 200, body: body(phone) };
  },
});

route({
  name: "me-phone-verify",
  method: "POST",
  path: "/v1/me/phone/verify",
  access: authenticated,
  summary: "Verify your mobile number with the code sent to it",
  tags: ["me"],
  body: z.object({ code: z.string().max(16) }),
  responses: {
    200: { description: "Verified", body: phoneSchema },
    404: { description: "`PHONE_NOT_FOUND`" },
    409: { description: "`PHONE_ALREADY_VERIFIED`, `PHONE_CODE_EXPIRED`" },
    422: { description: "`PHONE_CODE_INVALID` (with `triesLeft`)" },
    429: { description: "`PHONE_CODE_ATTEMPTS_EXCEEDED`: ask for a new code" },
    503: { description: "`SMS_NOT_CONFIGURED`" },
  },
  handler: async ({ body: input }, ctx) => {
    const r = rules(ctx);
    const phone = unwrap(await ctx.transaction((tx) => verifyPhone(ctx.domain(tx), ctx.caller.userId, input.code, r)));
    return { status: 200, body: body(phone) };
  },
});

route({
  name: "me-phone-delete",
  method: "DELETE",
  path: "/v1/me/phone",
  access: authenticated,
  summary: "Remove your mobile number: no more SMS",
  tags: ["me"],
  responses: { 204: { description: "Removed" }, 404: { description: "`PHONE_NOT_FOUND`" } },
  handler: async (_input, ctx) => {
    if (!(await ctx.transaction((tx) => removePhone(ctx.domain(tx), ctx.caller.userId)))) throw new ProblemError("PHONE_NOT_FOUND");
    return { status: 204 };
  },
});
