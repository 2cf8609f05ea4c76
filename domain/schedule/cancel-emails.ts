import { sql } from "drizzle-orm";
import { DateTime } from "luxon";
import type { Executor } from "../db/client.js";
import { classSessions, users } from "../db/schema/index.js";
import { learnerAttends } from "./attendees.js";

/** How many cancelled sessions an email lists by date; the rest are counted. */
const LISTED = 10;

export interface CancelledSession {
  startsAt: Date;
  timeZone: string;
  title: string;
  /** the reason given when they were cancelled (one cancel gives all its sessions the same) */
  cancelReason: string | null;
}

/** The cancelled sessions of an event, earliest first, with their reason (events leave it out: they reach webhooks). */
export async function cancelledSessions(db: Executor, sessionIds: readonly string[]): Promise<CancelledSession[]> {
  const rows = await db.execute<{ starts_at: string; time_zone: string; title: string; cancel_reason: string | null }>(sql`
    select starts_at, time_zone, title, cancel_reason from class_sessions where id = any(${sql.param([...sessionIds])}::uuid[]) order by starts_at, id`);
  return rows.map((r) => ({ startsAt: new Date(r.starts_at), timeZone: r.time_zone, title: r.title, cancelReason: r.cancel_reason }));
}

const more = { en: (n: number) => `and ${n} more`, es: (n: number) => `y ${n} más` } as const;

/** "Mon, Oct 27, 2025, 10:00 AM (Europe/Madrid); …" in the recipient's language, at each session's own zone. */
export function cancelledSessionsText(sessions: readonly CancelledSession[], locale: string): string {
  const lang = locale.startsWith("es") ? "es" : "en";
  const listed = sessions.slice(0, LISTED).map((s) => `${DateTime.fromJSDate(s.startsAt, { zone: s.timeZone }).setLocale(lang).toLocaleString(DateTime.DATETIME_MED_WITH_WEEKDAY)} (${s.timeZone})`);
  if (sessions.length > LISTED) listed.push(more[lang](sessions.length - LISTED));
  return listed.join("; ");
}

/** The learners expected at any of these sessions (active, section matching): one email each, whatever the count. */
export const expectedLearnersSql = (sessionIds: readonly string[]) =>
  sql`exists (select 1 from ${classSessions} where ${classSessions.id} = any(${sql.param([...sessionIds])}::uuid[]) and ${learnerAttends(users.id)})`;
