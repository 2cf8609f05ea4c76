import { eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses } from "../db/schema/index.js";

/**
 * Every change to a course's seats or waitlist takes the course row lock first, so seat counts and
 * waitlist positions are computed one change at a time: no overbooking, no repeated positions.
 * Must run inside a transaction. `for no key update`: it excludes every other seat change, but not the key-share
 * lock a row that references the course takes (an invoice issued for an enrollment, which locks the enrollment
 * first): with `for update` the two would deadlock.
 */
export async function lockCourse(db: Executor, courseId: string) {
  const [row] = await db.select().from(courses).where(eq(courses.id, courseId)).for("no key update");
  return row ?? null;
}
