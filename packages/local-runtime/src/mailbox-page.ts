// The development mailbox under the admin prefix (see services/mail-sink.ts):
//   GET /admin/mailbox            → an HTML page of the stored mails, newest first
//   GET /admin/mailbox/messages   → the stored mails as JSON, newest first
//   DELETE /admin/mailbox/messages → clears them (204)
// Without a running sink (no setting is `UseDevelopmentMailbox=true`) these paths answer 404.
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { MailSink, StoredMail } from "./services/mail-sink.js";

/** Handles the mailbox routes; false when the path is none of them (then it is not the mailbox's business). */
export function handleMailboxRequest(sink: MailSink | undefined, pathname: string, method: string, res: ServerResponse): boolean {
  const page = /^\/admin\/mailbox\/?$/i.test(pathname);
  const messages = /^\/admin\/mailbox\/messages\/?$/i.test(pathname);
  if (!page && !messages) return false;
  if (!sink) {
    res.statusCode = 404;
    res.end();
    return true;
  }
  res.setHeader("cache-control", "no-store");
  res.setHeader("x-content-type-options", "nosniff");
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
    res.end(method === "HEAD" ? undefined : renderMailboxPage(sink.messages(), { smtpUrl: sink.url, nonce }));
    return true;
  }
  if (messages && method === "GET") {
    res.statusCode = 200;
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.end(JSON.stringify(sink.messages()));
    return true;
  }
  if (messages && method === "DELETE") {
    sink.clear();
    res.statusCode = 204;
    res.end();
    return true;
  }
  res.statusCode = 405;
  res.setHeader("allow", page ? "GET, HEAD" : "GET, DELETE");
  res.end();
  return true;
}

/** Escapes text for HTML content and for quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface MailboxPageOptions {
  smtpUrl: string;
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
.mail { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .75rem 1rem; }
.mail h2 { font-size: 1.1rem; margin: 0 0 .4rem; word-break: break-word; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: 0 0 .5rem; color: #444; }
dt { font-weight: 600; } dd { margin: 0; word-break: break-word; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: .5rem; margin: .5rem 0; }
iframe { width: 100%; height: 24rem; border: 1px solid #ddd; background: #fff; }
details summary { cursor: pointer; color: #555; }
.empty { color: #666; font-style: italic; }
</style></head>
<body>
<header><h1>Mailbox</h1><span>${mails.length} message(s), newest first; SMTP at <code>${escapeHtml(options.smtpUrl)}</code></span>
<a href="/admin/mailbox">Refresh</a> <button type="button" id="clear">Clear</button></header>
${mails.length === 0 ? '<p class="empty">No mail yet.</p>' : items}
<script${nonceAttr}>
document.getElementById('clear').addEventListener('click', function () {
  fetch('/admin/mailbox/messages', { method: 'DELETE' }).then(function () { location.reload(); });
});
</script>
</body></html>
`;
}

function renderMail(mail: StoredMail): string {
  const row = (label: string, value: string): string => (value ? `<dt>${label}</dt><dd>${escapeHtml(value)}</dd>` : "");
  const attachments = mail.attachments.map((a) => `${a.filename ?? "(unnamed)"} (${a.mimeType}, ${a.size} bytes)`).join(", ");
  const headers = Object.entries(mail.headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\n");
  return `<article class="mail" id="mail-${escapeHtml(mail.id)}">
<h2>${escapeHtml(mail.subject || "(no subject)")}</h2>
<dl>${row("From", mail.from)}${row("To", mail.to.join(", "))}${row("Cc", mail.cc.join(", "))}${row("Envelope to", mail.envelope.to.join(", "))}<dt>Time</dt><dd><time datetime="${escapeHtml(mail.receivedAt)}">${escapeHtml(mail.receivedAt)}</time></dd>${row("Attachments", attachments)}${row("Size", `${mail.size} bytes`)}</dl>
${mail.text ? `<pre class="text">${escapeHtml(mail.text)}</pre>` : ""}
${mail.html ? `<iframe sandbox referrerpolicy="no-referrer" title="HTML body" srcdoc="${escapeHtml(mail.html)}"></iframe>` : ""}
<details><summary>Headers</summary><pre>${escapeHtml(headers)}</pre></details>
</article>`;
}
