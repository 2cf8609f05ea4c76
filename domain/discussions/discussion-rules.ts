import { retryAfterSeconds as windowRetryAfter } from "../identity/login-throttle.js";

/** The limits posting follows; the edit window and the posting rate come from settings. */
export interface DiscussionRules {
  editWindowMinutes: number;
  postsPerMinute: number;
}

export const TITLE_MAX = 200;
export const BODY_MAX = 20_000;
export const MENTIONS_MAX = 20;
export const SEARCH_QUERY_MAX = 200;
/** What a removed post shows instead of its body; the thread keeps its place. */
export const REMOVED_NOTICE = "This post was removed.";
export const RATE_WINDOW_SECONDS = 60;

/** Whether the author may still edit a post made at `createdAt` (the window's end itself is closed). */
export function withinEditWindow(createdAt: Date, now: Date, editWindowMinutes: number): boolean {
  return now.getTime() < createdAt.getTime() + editWindowMinutes * 60_000;
}

/** Seconds until a posting window that started at `windowStartedAt` ends (at least 1: the Retry-After value). */
export const retryAfterSeconds = (windowStartedAt: Date, now: Date): number => windowRetryAfter(windowStartedAt, RATE_WINDOW_SECONDS, now);
