import { sql } from "drizzle-orm";
import type { LiveStatus } from "../db/schema/index.js";

/**
 * The live statuses that hold a seat (every one but `waitlisted`, as `courses.seats_taken` counts them): each also
 * takes a place in its section, is listed in the roster and can be placed in a section. Course access is another
 * matter (`isActiveLearner`: `active` only).
 */
const seatStatuses = ["active", "offered", "pending-payment", "suspended"] as const satisfies readonly LiveStatus[];
export const isSeatStatus = (status: string): boolean => (seatStatuses as readonly string[]).includes(status);
/** `seatStatuses` as an SQL list, for `status in ${SEAT_STATUSES}`. */
export const SEAT_STATUSES = sql.raw(`(${seatStatuses.map((s) => `'${s}'`).join(", ")})`);
