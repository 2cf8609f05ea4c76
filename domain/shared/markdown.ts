import { createRequire } from "node:module";
import type MarkdownIt from "markdown-it";
import type sanitizeHtml from "sanitize-html";

// Markdown from users (announcements, discussion posts) becomes HTML in two steps, so neither alone has to be
// perfect: markdown-it with raw HTML off (any `<script>` stays text) and its link check (no javascript:,
// vbscript:, file: or data: links), then sanitize-html with an allowlist of the tags Markdown makes. Links are
// marked as user content (`rel="ugc nofollow noopener noreferrer"`); images are not allowed (tracking pixels).
//
// Both load on the first text rendered, not with the app (with postcss and htmlparser2, over 100 modules): required,
// not imported, so that rendering stays synchronous for its many callers.
const require = createRequire(import.meta.url);
let loaded: { markdown: { render(source: string): string }; sanitize: typeof sanitizeHtml; allowed: sanitizeHtml.IOptions } | undefined;

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const MarkdownItClass = require("markdown-it") as typeof MarkdownIt;
  const sanitize = require("sanitize-html") as typeof sanitizeHtml;
  loaded = { markdown: new MarkdownItClass({ html: false, linkify: true, breaks: false }), sanitize, allowed: allowedWith(sanitize) };
  return loaded;
}

// A table column's alignment (markdown-it writes `style="text-align:right"`) becomes a class: the web app's CSP
// (`style-src 'self'`) refuses inline style attributes, and the class's rule lives in its stylesheet.
const alignClasses = ["align-left", "align-center", "align-right"];
function alignAsClass(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  const align = /(?:^|;)\s*text-align\s*:\s*(left|center|right)\s*(?:;|$)/i.exec(attribs.style ?? "")?.[1]?.toLowerCase();
  return { tagName, attribs: align ? { class: `align-${align}` } : {} };
}

const headingsOneLevelDown = (sanitize: typeof sanitizeHtml): Record<string, sanitizeHtml.Transformer> =>
  Object.fromEntries([1, 2, 3, 4, 5].map((level) => [`h${level}`, sanitize.simpleTransform(`h${level + 1}`, {})]));

const allowedWith = (sanitize: typeof sanitizeHtml): sanitizeHtml.IOptions => ({
  allowedTags: ["p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"],
  allowedAttributes: { a: ["href", "title", "rel"], ol: ["start"], th: ["class"], td: ["class"] },
  allowedClasses: { th: alignClasses, td: alignClasses },
  allowedSchemes: ["https", "http", "mailto"],
  allowProtocolRelative: false,
  // A page's own title is its h1: the text's headings start one level below it (h6 stays h6).
  transformTags: { a: sanitize.simpleTransform("a", { rel: "ugc nofollow noopener noreferrer" }), th: alignAsClass, td: alignAsClass, ...headingsOneLevelDown(sanitize) },
});

/** Sanitised HTML for user-written Markdown: safe to put into a page or an email as it is. */
export function renderMarkdown(source: string): string {
  const { markdown, sanitize, allowed } = load();
  return sanitize(markdown.render(source), allowed);
}

/** The Markdown as plain text (for search, previews, push and SMS): the rendered HTML's text, whitespace folded. */
export function markdownToText(source: string): string {
  const { markdown, sanitize } = load();
  const text = sanitize(markdown.render(source), { allowedTags: [], allowedAttributes: {} });
  return text
    .replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name] as string)
    .replace(/\s+/g, " ")
    .trim();
}
