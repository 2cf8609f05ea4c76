import { sql } from "drizzle-orm";
import { type CourseViewer, seesAsStaff } from "../catalog/viewer.js";
import type { Executor } from "../db/client.js";
import { markdownToText } from "../shared/markdown.js";
import { fail, ok, type Result } from "../shared/result.js";
import { SEARCH_QUERY_MAX } from "./discussion-rules.js";
import { courseLanguage } from "./post-discussions.js";
import { searchConfigFor } from "./search-config.js";

export interface SearchHit {
  postId: string;
  topicId: string;
  topicTitle: string;
  rank: number;
  /** The post's plain text (its Markdown rendered to text: not HTML) around the matches, each between `**` marks. */
  snippet: string;
  createdAt: Date;
}

/**
 * Full-text search over the course's posts, in the course language's configuration (the one their vectors were
 * written with), best first. Learners search what they can see: no hidden topic or post; removed posts have no
 * vector, so nobody finds them.
 */
export async function searchPosts(
  db: Executor,
  courseId: string,
  viewer: CourseViewer,
  input: { q: string; limit: number },
): Promise<Result<SearchHit[], "DISCUSSION_SEARCH_INVALID" | "COURSE_NOT_FOUND">> {
  const q = input.q.trim();
  if (q.length === 0 || q.length > SEARCH_QUERY_MAX) return fail("DISCUSSION_SEARCH_INVALID", `q must have 1 to ${SEARCH_QUERY_MAX} characters.`);
  const language = await courseLanguage(db, courseId);
  if (language === null) return fail("COURSE_NOT_FOUND");
  const config = searchConfigFor(language);
  const staff = await seesAsStaff(viewer, courseId);
  const rows = await db.execute<{ post_id: string; topic_id: string; title: string; rank: number; body: string; created_at: string }>(sql`
    select p.id as post_id, p.topic_id, t.title, ts_rank(p.search, query) as rank, p.created_at, p.body_markdown as body
    from discussion_posts p
    join discussion_topics t on t.id = p.topic_id,
      websearch_to_tsquery(${config}::regconfig, ${q}) as query
    where p.course_id = ${courseId} and p.search @@ query and p.deleted_at is null and t.deleted_at is null
      ${staff ? sql`` : sql`and not p.hidden and not t.hidden`}
    order by rank desc, p.id
    limit ${input.limit}`);
  if (rows.length === 0) return ok([]);
  // The snippets come from the posts' plain text (what their vectors were made of), in one query: over the Markdown
  // they carried its syntax, link targets and any HTML-looking text, and its own `**` looked like match marks.
  const snippets = await db.execute<{ snippet: string }>(sql`
    select ts_headline(${config}::regconfig, x.text, websearch_to_tsquery(${config}::regconfig, ${q}), 'StartSel=**, StopSel=**, MaxWords=30, MinWords=10, MaxFragments=2') as snippet
    from unnest(${sql.param(rows.map((r) => markdownToText(r.body)))}::text[]) with ordinality as x(text, n)
    order by x.n`);
  return ok(
    rows.map((r, i) => ({ postId: r.post_id, topicId: r.topic_id, topicTitle: r.title, rank: Number(r.rank), snippet: snippets[i]?.snippet ?? "", createdAt: new Date(r.created_at) })),
  );
}
