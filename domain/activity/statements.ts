import { z } from "zod";

export const verbs = ["viewed", "started", "progressed", "completed", "answered", "attempted", "passed", "failed", "enrolled", "submitted", "graded", "certified"] as const;
export const objectTypes = ["course", "module", "lesson", "assessment", "submission", "certificate"] as const;

/** A learning-activity statement as clients send it (a small xAPI-like vocabulary); the server adds the actor. */
export const statementSchema = z.strictObject({
  id: z.string().trim().min(1).max(100).regex(/^[\w.:-]+$/, "letters, digits and . : _ - only").meta({ description: "Chosen by the client; resending it changes nothing" }),
  verb: z.enum(verbs),
  object: z.strictObject({ type: z.enum(objectTypes), id: z.uuid(), courseId: z.uuid().optional() }),
  result: z
    .strictObject({
      score: z.number().min(0).max(100).optional(),
      success: z.boolean().optional(),
      completion: z.boolean().optional(),
      durationSeconds: z.number().min(0).max(86_400 * 30).optional(),
      response: z.string().max(1000).optional(),
    })
    .optional(),
  context: z.strictObject({ courseId: z.uuid().optional(), platform: z.string().max(60).optional(), language: z.string().max(35).optional() }).optional(),
  timestamp: z.iso.datetime(),
});
export type Statement = z.infer<typeof statementSchema>;

/** As stored: the learner is the partition, and the document id is unique per learner. */
export interface StoredStatement extends Statement {
  learnerId: string;
  source: "client" | "server";
  storedAt: string;
}

/** Where statements live (Cosmos DB in Azure and locally); append is idempotent by statement id. */
export interface ActivityStore {
  append(learnerId: string, statements: StoredStatement[]): Promise<{ accepted: number; duplicates: number }>;
  /** Newest first; `continuation` comes from the previous page. */
  timeline(learnerId: string, page: { limit: number; continuation?: string }): Promise<{ items: StoredStatement[]; continuation: string | null }>;
  /** Deletes every statement of the learner (erasure); returns how many there were. */
  forget(learnerId: string): Promise<number>;
}
