import type { z } from "zod";

/** A zod error's issues as data: each one's path (dot-joined; "" at the root) and message. */
export const zodIssueList = (error: z.ZodError, limit?: number): { path: string; message: string }[] =>
  error.issues.slice(0, limit).map((i) => ({ path: i.path.join("."), message: i.message }));

/** A zod error's issues as lines `path: message`, the root named `rootLabel` (join them for a problem's detail). */
export const zodIssueLines = (error: z.ZodError, rootLabel: string, limit?: number): string[] =>
  zodIssueList(error, limit).map((i) => `${i.path || rootLabel}: ${i.message}`);
