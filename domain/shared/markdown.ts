import MarkdownIt from "markdown-it";
import sanitizeHtml from "sanitize-html";

// Markdown from users (announcements, discussion posts) becomes HTML in two steps, so neither alone has to be
// perfect: markdown-it with raw HTML off (any `<script>` stays text) and its link check (no javascript:,
// vbscript:, file: or data: links), then sanitize-html with an allowlist of the tags Markdown makes. Links are
// marked as user content (`rel="ugc nofollow noopener noreferrer"`); images are not allowed (tracking pixels).
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

const allowed: sanitizeHtml.IOptions = {
  allowedTags: ["p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"],
  allowedAttributes: { a: ["href", "title", "rel"], ol: ["start"], th: ["style"], td: ["style"] },
  allowedStyles: { th: { "text-align": [/^(left|right|center)$/] }, td: { "text-align": [/^(left|right|center)$/] } },
  allowedSchemes: ["https", "http", "mailto"],
  allowProtocolRelative: false,
  transformTags: { a: sanitizeHtml.simpleTransform("a", { rel: "ugc nofollow noopener noreferrer" }) },
};

/** Sanitised HTML for user-written Markdown: safe to put into a page or an email as it is. */
export function renderMarkdown(source: string): string {
  return sanitizeHtml(markdown.render(source), allowed);
}

/** The Markdown as plain text (for search, previews, push and SMS): the rendered HTML's text, whitespace folded. */
export function markdownToText(source: string): string {
  const text = sanitizeHtml(markdown.render(source), { allowedTags: [], allowedAttributes: {} });
  return text
    .replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[name] as string)
    .replace(/\s+/g, " ")
    .trim();
}
