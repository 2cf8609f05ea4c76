// The development mailbox under the admin prefix (see services/mail-sink.ts, sms-endpoint.ts, push-service.ts):
//   GET /admin/mailbox            → an HTML page of the stored mails, text messages and pushes, newest first
//   GET /admin/mailbox/messages   → the stored mails as JSON, newest first; DELETE clears them (204)
//   GET /admin/mailbox/sms        → the stored text messages as JSON, newest first; DELETE clears them (204)
//   GET /admin/mailbox/push       → the stored push messages (decrypted) as JSON, newest first; DELETE clears them (204)
//   POST /admin/push/subscriptions → acts as a browser subscribing: 201 with its PushSubscription JSON
//                                    (body optional: { "applicationServerKey": "<base64url VAPID public key>" })
//   POST /admin/push/subscriptions/{id}/expire → later pushes to it answer 410 Gone (204; 404 if unknown)
// Each path answers 404 when its service is not running (no setting asked for it); the page when none runs.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MailSink, StoredMail } from "./services/mail-sink.js";
import type { SmsEndpoint, StoredSms } from "./services/sms-endpoint.js";
import { readLimited } from "./services/loopback-http.js";
import type { PushService, StoredPush } from "./services/push-service.js";
import type { StripeEmulator } from "./services/stripe-emulator.js";
import { formatAmount } from "./services/stripe-checkout-page.js";
import { escapeHtml } from "./html.js";

export interface DevelopmentInboxes {
  mail: MailSink | undefined;
  sms?: SmsEndpoint | undefined;
  push?: PushService | undefined;
  /** Shown as a "Payments" section (Checkout Sessions and webhook deliveries); its routes are under /admin/stripe. */
  stripe?: StripeEmulator | undefined;
}

/** Handles the mailbox routes; false when the path is none of them (then it is not the mailbox's business). */
export async function handleMailboxRequest(inboxes: DevelopmentInboxes, pathname: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const { mail, sms, push, stripe } = inboxes;
  const page = /^\/admin\/mailbox\/?$/i.test(pathname);
  const lists = [
    { pattern: /^\/admin\/mailbox\/messages\/?$/i, store: mail },
    { pattern: /^\/admin\/mailbox\/sms\/?$/i, store: sms },
    { pattern: /^\/admin\/mailbox\/push\/?$/i, store: push },
  ];
  const list = lists.find((l) => l.pattern.test(pathname));
  const subscriptions = /^\/admin\/push\/subscriptions\/?$/i.test(pathname);
  const expire = /^\/admin\/push\/subscriptions\/([^/]+)\/expire\/?$/i.exec(pathname);
  if (!page && !list && !subscriptions && !expire) return false;
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-content-type-options", "nosniff");
  const running = page ? mail ?? sms ?? push ?? stripe : list ? list.store : push;
  if (!running) {
    res.statusCode = 404;
    res.end();
    return true;
  }
  if (page && (method === "GET" || method === "HEAD")) {
    const nonce = randomBytes(16).toString("base64");
    res.statusCode = 200;
    res.setHeader("content-type", "text/html; charset=utf-8");
    // Nothing is loaded from elsewhere: inline styles, one script with a nonce, mail HTML in sandboxed srcdoc frames
    // (which inherit this policy, so remote images in mails stay unloaded too).
    res.setHeader(
      "content-security-policy",
      `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'nonce-${nonce}'; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'`,
    );
    const html = renderMailboxPage(mail?.messages() ?? [], {
      ...(mail ? { smtpUrl: mail.url } : {}),
      ...(sms ? { sms: { endpoint: sms.endpoint, messages: sms.messages() } } : {}),
      ...(push ? { push: { origin: push.origin, messages: push.messages() } } : {}),
      ...(stripe ? { stripe } : {}),
      nonce,
    });
    res.end(method === "HEAD" ? undefined : html);
    return true;
  }
  if (list?.store && method === "GET") {
    sendJson(res, 200, list.store.messages());
    return true;
  }
  if (list?.store && method === "DELETE") {
    list.store.clear();
    res.statusCode = 204;
    res.end();
    return true;
  }
  if (subscriptions && push && method === "POST") {
    const body = await readLimited(req, 16 * 1024);
    let applicationServerKey: unknown;
    try {
      const text = body?.toString("utf8").trim() ?? "";
      applicationServerKey = text ? (JSON.parse(text) as { applicationServerKey?: unknown } | null)?.applicationServerKey : undefined;
    } catch {
      applicationServerKey = null;
    }
    if (!body || (applicationServerKey !== undefined && (typeof applicationServerKey !== "string" || !/^[A-Za-z0-9_-]{87}$/.test(applicationServerKey)))) {
      sendJson(res, 400, { error: 'The body is optional; when given it is { "applicationServerKey": "<base64url uncompressed P-256 key>" }.' });
      return true;
    }
    sendJson(res, 201, push.createSubscription(applicationServerKey === undefined ? {} : { applicationServerKey }));
    return true;
  }
  if (expire && push && method === "POST") {
    res.statusCode = push.expireSubscription(expire[1] as string) ? 204 : 404;
    res.end();
    return true;
  }
  res.statusCode = 405;
  res.setHeader("allow", page ? "GET, HEAD" : list ? "GET, DELETE" : "POST");
  res.end();
  return true;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify(body));
}

export interface MailboxPageOptions {
  /** Absent when no mail sink runs. */
  smtpUrl?: string;
  /** The development SMS endpoint's messages, newest first (absent when it does not run). */
  sms?: { endpoint: string; messages: readonly StoredSms[] };
  /** The development push service's messages, newest first (absent when it does not run). */
  push?: { origin: string; messages: readonly StoredPush[] };
  /** The Stripe emulator (absent when it does not run). */
  stripe?: Pick<StripeEmulator, "apiUrl" | "sessions" | "events">;
  /** CSP nonce of the page's one script (the clear button). */
  nonce?: string;
}

/** The mailbox page; `mails` newest first. Every value is escaped; HTML bodies go into sandboxed srcdoc frames. */
export function renderMailboxPage(mails: readonly StoredMail[], options: MailboxPageOptions): string {
  const items = mails.map(renderMail).join("\n");
  const nonceAttr = options.nonce ? ` nonce="${escapeHtml(options.nonce)}"` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mailbox (${mails.length})</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem; color: #222; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 1.4rem; margin: 0; }
.mail, .sms, .push, .payment { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .75rem 1rem; }
section > h2 { font-size: 1.2rem; margin: 1.5rem 0 .25rem; }
.mail h3 { font-size: 1.1rem; margin: 0 0 .4rem; word-break: break-word; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: 0 0 .5rem; color: #444; }
dt { font-weight: 600; } dd { margin: 0; word-break: break-word; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .5rem; margin: .5rem 0; }
iframe { width: 100%; height: 24rem; border: 1px solid #ddd; background: #fff; }
details summary { cursor: pointer; color: #555; }
.empty { color: #666; font-style: italic; }
</style></head>
<body>
<header><h1>Mailbox</h1><a href="/admin/mailbox">Refresh</a> <button type="button" id="clear">Clear all</button></header>
<section id="mail"><h2>Email</h2>
${options.smtpUrl === undefined ? '<p class="empty">No development mail sink runs (no setting is UseDevelopmentMailbox=true).</p>' : `<p>${mails.length} message(s), newest first; SMTP at <code>${escapeHtml(options.smtpUrl)}</code></p>
${mails.length === 0 ? '<p class="empty">No mail yet.</p>' : items}`}
</section>
${options.sms ? renderSmsSection(options.sms) : ""}
${options.push ? renderPushSection(options.push) : ""}
${options.stripe ? renderPaymentsSection(options.stripe) : ""}
<script${nonceAttr}>
document.getElementById('clear').addEventListener('click', function () {
  var lists = ${JSON.stringify([options.smtpUrl !== undefined ? "messages" : "", options.sms ? "sms" : "", options.push ? "push" : ""].filter(Boolean))};
  Promise.all(lists.map(function (l) { return fetch('/admin/mailbox/' + l, { method: 'DELETE' }); })).then(function () { location.reload(); });
});
</script>
</body></html>
`;
}

const row = (label: string, value: string): string => (value ? `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>` : "");
const timeRow = (iso: string): string => `<dt>Time</dt><dd><time datetime="${escapeHtml(iso)}">${escapeHtml(iso)}</time></dd>`;

function renderMail(mail: StoredMail): string {
  const attachments = mail.attachments.map((a) => `${a.filename ?? "(unnamed)"} (${a.mimeType}, ${a.size} bytes)`).join(", ");
  const headers = Object.entries(mail.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\n");
  return `<article class="mail" id="mail-${escapeHtml(mail.id)}">
<h3>${escapeHtml(mail.subject || "(no subject)")}</h3>
<dl>${row("From", mail.from)}${row("To", mail.to.join(", "))}${row("Cc", mail.cc.join(", "))}${row("Envelope to", mail.envelope.to.join(", "))}${timeRow(mail.receivedAt)}${row("Attachments", attachments)}${row("Size", `${mail.size} bytes`)}</dl>
${mail.text ? `<pre class="text">${escapeHtml(mail.text)}</pre>` : ""}
${mail.html ? `<iframe sandbox referrerpolicy="no-referrer" title="HTML body" srcdoc="${escapeHtml(mail.html)}"></iframe>` : ""}
<details><summary>Headers</summary><pre>${escapeHtml(headers)}</pre></details>
</article>`;
}


function renderSmsSection(sms: NonNullable<MailboxPageOptions["sms"]>): string {
  const items = sms.messages
    .map(
      (m) => `<article class="sms" id="sms-${escapeHtml(m.id)}">
<dl>${row("From", m.from)}${row("To", m.to)}${timeRow(m.receivedAt)}${row("Tag", m.tag ?? "")}${row("Delivery report", m.enableDeliveryReport ? "requested" : "")}${row("Message id", m.id)}</dl>
<pre class="text">${escapeHtml(m.message)}</pre>
</article>`,
    )
    .join("\n");
  return `<section id="sms"><h2>Text messages</h2>
<p>${sms.messages.length} message(s), newest first; ACS SMS endpoint at <code>${escapeHtml(sms.endpoint)}</code></p>
${sms.messages.length === 0 ? '<p class="empty">No text messages yet.</p>' : items}
</section>`;
}

function renderPushSection(push: NonNullable<MailboxPageOptions["push"]>): string {
  const items = push.messages
    .map(
      (m) => `<article class="push" id="push-${escapeHtml(m.id)}">
<dl>${row("Endpoint", m.endpoint)}${timeRow(m.receivedAt)}${row("Sender (VAPID sub)", m.vapidSubject)}${row("Urgency", m.urgency)}${row("TTL", `${m.ttl} s`)}${row("Topic", m.topic ?? "")}</dl>
${m.payload === null ? '<p class="empty">(no payload)</p>' : `<pre class="text">${escapeHtml(m.payload)}</pre>`}
</article>`,
    )
    .join("\n");
  return `<section id="push"><h2>Push notifications</h2>
<p>${push.messages.length} message(s), newest first; push service at <code>${escapeHtml(push.origin)}</code></p>
${push.messages.length === 0 ? '<p class="empty">No push messages yet.</p>' : items}
</section>`;
}

/** The newest Checkout Sessions (open ones link to the hosted page to pay) and events with their delivery statuses. */
function renderPaymentsSection(stripe: NonNullable<MailboxPageOptions["stripe"]>): string {
  const sessions = stripe.sessions().slice(0, 50);
  const events = stripe.events().slice(0, 50);
  const sessionItems = sessions
    .map(
      (s) => `<article class="payment" id="payment-${escapeHtml(s.id)}">
<dl>${row("Session", s.id)}${row("Amount", formatAmount(s.amount_total, s.currency))}${row("Status", `${s.status} (${s.payment_status})`)}${row("Customer", s.customer_email ?? "")}${row("Reference", s.client_reference_id ?? "")}${timeRow(new Date(s.created * 1000).toISOString())}</dl>
${s.status === "open" && s.url ? `<p><a href="${escapeHtml(s.url)}">Open the checkout page to pay</a></p>` : ""}
</article>`,
    )
    .join("\n");
  const eventRows = events
    .map((e) => {
      const statuses = e.deliveries.map((d) => `${d.resend ? "resend " : ""}${d.status ?? "failed"}`).join(", ");
      return `<tr><td><code>${escapeHtml(e.id)}</code></td><td>${escapeHtml(e.type)}</td><td>${escapeHtml(statuses || "not delivered")}${e.pendingDeliveries > 0 ? " (pending)" : ""}</td></tr>`;
    })
    .join("\n");
  return `<section id="payments"><h2>Payments</h2>
<p>Stripe emulator at <code>${escapeHtml(stripe.apiUrl)}</code>; newest first.</p>
${sessions.length === 0 ? '<p class="empty">No Checkout Sessions yet.</p>' : sessionItems}
${events.length === 0 ? "" : `<table><thead><tr><th>Event</th><th>Type</th><th>Deliveries (app's status)</th></tr></thead><tbody>${eventRows}</tbody></table>`}
</section>`;
}
