import { type Template, type TemplateKey, templates } from "./templates.js";

export interface ComposedEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  template: TemplateKey;
  locale: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

function fill(text: string, values: Record<string, string>, escape: (value: string, name: string) => string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => escape(values[name] ?? "", name));
}

// In links every value is a path or query part, except the application's base URL itself.
const urlPart = (value: string, name: string) =>
  name === "appUrl" ? value.replace(/\/+$/, "") : name === "downloadUrl" ? value : encodeURIComponent(value);

/** The template in the recipient's language (its base language, else English), with the values filled in. */
export function composeEmail(key: TemplateKey, locale: string, to: string, values: Record<string, string>): ComposedEmail {
  const byLocale = templates[key] as Record<string, Template>;
  const chosen = byLocale[locale] ? locale : byLocale[locale.split("-")[0] ?? ""] ? (locale.split("-")[0] as string) : "en";
  const t = byLocale[chosen] as Template;
  const plain = (s: string) => s;
  const subject = fill(t.subject, values, plain).replace(/[\r\n]+/g, " ");
  const actionUrl = t.action ? fill(t.action.url, values, urlPart) : undefined;
  const text = [...t.paragraphs.map((p) => fill(p, values, plain)), ...(t.action && actionUrl ? [`${t.action.label}: ${actionUrl}`] : [])].join("\n\n");
  const html = [
    `<!doctype html><html lang="${escapeHtml(chosen)}"><body style="font-family:sans-serif;line-height:1.5">`,
    ...t.paragraphs.map((p) => `<p>${fill(p, values, escapeHtml)}</p>`),
    ...(t.action && actionUrl ? [`<p><a href="${escapeHtml(actionUrl)}">${escapeHtml(t.action.label)}</a></p>`] : []),
    "</body></html>",
  ].join("\n");
  return { to, subject, text, html, template: key, locale: chosen };
}
