// The PostgreSQL text search configurations posts are indexed and searched with, by the course's language (its
// base tag: "es-MX" → "es"). A language without a stemmer here gets `simple` (words as written, lower-cased).
const configs: Record<string, string> = {
  en: "english",
  es: "spanish",
  fr: "french",
  de: "german",
  it: "italian",
  pt: "portuguese",
  nl: "dutch",
};

export type SearchConfig = "english" | "spanish" | "french" | "german" | "italian" | "portuguese" | "dutch" | "simple";

/** The configuration for a course language; only names from the map above ever reach SQL. */
export function searchConfigFor(language: string): SearchConfig {
  const base = language.trim().toLowerCase().split(/[-_]/)[0] ?? "";
  return (configs[base] ?? "simple") as SearchConfig;
}
