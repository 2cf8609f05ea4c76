/**
 * A text lesson's Markdown, shown as text: headings and paragraphs only. The API sends the author's raw Markdown
 * (not sanitized HTML), so nothing here becomes markup: every piece is a text node, which Preact escapes.
 */
export function LessonText({ markdown }: { markdown: string }) {
  const blocks = markdown.split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
  return (
    <div class="lesson-text">
      {blocks.map((block, i) => {
        const heading = /^(#{1,6})\s+(.*)$/s.exec(block);
        // The page's h1 is the lesson title: Markdown headings start one level below it.
        if (heading) return heading[1]!.length <= 1 ? <h2 key={i}>{heading[2]}</h2> : <h3 key={i}>{heading[2]}</h3>;
        return <p key={i}>{block}</p>;
      })}
    </div>
  );
}
