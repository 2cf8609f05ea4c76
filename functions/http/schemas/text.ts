import { z } from "zod";

/**
 * One line a person typed: trimmed, not empty, at most `max` characters, no NUL or other control characters (names,
 * titles and reasons end up in emails, CSV files, calendar files and invoices).
 */
/** Free text a person typed (a title, a description): trimmed, at most `max` characters. */
export const plain = (max: number) => z.string().trim().max(max);

export const line = (max: number) => z.string().trim().min(1).max(max).regex(/^[^\p{Cc}]+$/u, "no control characters");
