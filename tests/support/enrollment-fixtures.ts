import { v7 as uuidv7 } from "uuid";
import type postgres from "postgres";
import type { WaitlistMode } from "../../domain/db/schema/index.js";

/**
 * Learners written straight to the database, in batches: registering thousands through the API would spend
 * the run in the password KDF. Returns their ids in insertion order.
 */
export async function insertLearners(sql: postgres.Sql, count: number, label = "learner"): Promise<string[]> {
  const rows = Array.from({ length: count }, (_, i) => {
    const id = uuidv7();
    // Confirmed addresses, so they may enroll over HTTP (AUTH_UNVERIFIED_ACCESS=browse refuses unconfirmed ones).
    return { id, email: `${label}-${i}-${id.slice(-12)}@example.test`, display_name: `${label} ${i}`, email_verified_at: new Date().toISOString() };
  });
  for (let i = 0; i < rows.length; i += 1_000) {
    const batch = rows.slice(i, i + 1_000);
    await sql`insert into users ${sql(batch, "id", "email", "display_name", "email_verified_at")}`;
  }
  return rows.map((r) => r.id);
}

/** A published, self-enrollable course with a waitlist, written straight to the database. */
export async function insertPublishedCourse(
  sql: postgres.Sql,
  options: { capacity: number; waitlistMode?: WaitlistMode; offerTtlHours?: number; title?: string },
): Promise<string> {
  const id = uuidv7();
  await sql`
    insert into courses (id, title, status, capacity, waitlist_enabled, waitlist_mode, offer_ttl_hours, published_at)
    values (${id}, ${options.title ?? `Load course ${id.slice(-6)}`}, 'published', ${options.capacity}, true,
            ${options.waitlistMode ?? "auto"}, ${options.offerTtlHours ?? 48}, now())`;
  return id;
}

export interface EnrollmentRowState {
  id: string;
  userId: string;
  status: string;
  waitlistSeq: number;
  offerExpiresAt: Date | null;
  /** 1..n in waitlist_seq order among the course's waitlisted rows, computed here independently of the app. */
  position: number | null;
}

/** Every enrollment of the course with its waitlist position, computed from the table alone. */
export async function enrollmentState(sql: postgres.Sql, courseId: string): Promise<EnrollmentRowState[]> {
  const rows = await sql<{ id: string; user_id: string; status: string; waitlist_seq: string; offer_expires_at: string | null; position: string | null }[]>`
    select id, user_id, status, waitlist_seq, offer_expires_at,
           case when status = 'waitlisted' then row_number() over (partition by status = 'waitlisted' order by waitlist_seq) end as position
    from enrollments where course_id = ${courseId}
    order by waitlist_seq`;
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    status: r.status,
    waitlistSeq: Number(r.waitlist_seq),
    // drizzle hands timestamps to its own mapper, so through the shared client they arrive as text
    offerExpiresAt: r.offer_expires_at === null ? null : new Date(r.offer_expires_at),
    position: r.position === null ? null : Number(r.position),
  }));
}

export const countBy = <T>(items: T[], key: (item: T) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
};

/** The outbox events of one course, in commit (sequence) order. */
export async function courseEvents(sql: postgres.Sql, courseId: string) {
  const rows = await sql<{ id: string; type: string; aggregate_id: string; data: Record<string, unknown>; sequence: string }[]>`
    select id, type, aggregate_id, data, sequence from outbox where course_id = ${courseId} order by sequence`;
  return rows.map((r) => ({ id: r.id, type: r.type, aggregateId: r.aggregate_id, data: r.data, sequence: Number(r.sequence) }));
}
