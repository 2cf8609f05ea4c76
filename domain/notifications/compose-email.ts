import { type Template, type TemplateKey, templates, unsubscribeLine } from "./templates.js";

export interface ComposedEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  template: TemplateKey;
  locale: string;
  /** Extra message headers: RFC 8058 one-click unsubscribe on optional emails. */
  headers?: Record<string, string>;
  /** The paragraphs after the greeting, as plain text: the inbox entry's body. */
  summary: string;
  /** The email's one link (its action), if any: where the inbox entry leads. */
  actionUrl: string | null;
}

/**
 * Whether an address is a placeholder under the reserved `.invalid` domain (an external user without a known
 * address, an erased user's pseudonym): nobody to email, though the inbox still has their notifications.
 */
export const isPlaceholderEmail = (address: string): boolean => address.endsWith("@users.invalid");

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

function fill(text: string, values: Record<string, string>, escape: (value: string, name: string) => string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => escape(values[name] ?? "", name));
}

// In links every value is a path or query part, except the application's base URL itself.
const urlPart = (value: string, name: string) =>
  name === "appUrl" ? value.replace(/\/+$/, "") : name === "downloadUrl" ? value : encodeURIComponent(value);

/**
 * The template in the recipient's language (its base language, else English), with the values filled in. With
 * `unsubscribeUrl` (optional emails) the email ends with that link and carries the RFC 8058 one-click headers.
 */
export function composeEmail(key: TemplateKey, locale: string, to: string, values: Record<string, string>, unsubscribeUrl?: string): ComposedEmail {
  const byLocale = templates[key] as Record<string, Template>;
  const chosen = byLocale[locale] ? locale : byLocale[locale.split("-")[0] ?? ""] ? (locale.split("-")[0] as string) : "en";
  const t = byLocale[chosen] as Template;
  const plain = (s: string) => s;
  const subject = fill(t.subject, values, plain).replace(/[\r\n]+/g, " ");
  const actionUrl = t.action ? fill(t.action.url, values, urlPart) : undefined;
  const footer = unsubscribeLine[chosen] ?? unsubscribeLine.en;
  const text = [...t.paragraphs.map((p) => fill(p, values, plain)), ...(t.action && actionUrl ? [`${t.action.label}: ${actionUrl}`] : [])].join("\n\n");
  const html = [
    `<!doctype html><html lang="${escapeHtml(chosen)}"><body style="font-family:sans-serif;line-height:1.5">`,
    ...t.paragraphs.map((p) => `<p>${fill(p, values, escapeHtml)}</p>`),
    ...(t.action && actionUrl ? [`<p><a href="${escapeHtml(actionUrl)}">${escapeHtml(t.action.label)}</a></p>`] : []),
    ...(unsubscribeUrl ? [`<p style="font-size:small;color:#666">${escapeHtml(footer)}: <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(unsubscribeUrl)}</a></p>`] : []),
    "</body></html>",
  ].join("\n");
  // The first paragraph greets the recipient by name; the inbox shows what follows.
  const summary = t.paragraphs.slice(t.paragraphs.length > 1 ? 1 : 0).map((p) => fill(p, values, plain)).join(" ");
  const composed = { to, subject, text, html, template: key, locale: chosen, summary, actionUrl: actionUrl ?? null };
  if (!unsubscribeUrl) return composed;
  // RFC 8058: the link alone must unsubscribe when POSTed "List-Unsubscribe=One-Click"; the URL is https in Azure.
  const headers = { "List-Unsubscribe": `<${unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
  return { ...composed, text: `${text}\n\n${footer}: ${unsubscribeUrl}`, headers };
}
