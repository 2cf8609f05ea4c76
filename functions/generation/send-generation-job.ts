import type { Platform } from "../platform/platform.js";
import { sendToQueue } from "../platform/service-bus.js";

// Kept apart from generation-queue.ts (which registers the worker's trigger): the HTTP route sends jobs without
// loading the worker.

/** The generator's queue (bicep/servicebus-entities.json): its own, so slow model calls never delay other work. */
export const GENERATION_QUEUE = "question-generation";

export interface GenerationMessage {
  jobId: string;
  traceparent: string | null;
}

/**
 * Puts a job on the queue, now or at `notBefore` (a rate limit's Retry-After). The message id names the job and the
 * time, so the same send twice within the duplicate-detection window is dropped by Service Bus.
 */
export async function sendGenerationJob(p: Platform, message: GenerationMessage, notBefore?: Date): Promise<void> {
  await sendToQueue(p.serviceBus(), GENERATION_QUEUE, {
    messageId: notBefore ? `${message.jobId}@${notBefore.getTime()}` : message.jobId,
    subject: "generation.job",
    contentType: "application/json",
    body: message,
    ...(notBefore ? { scheduledEnqueueTimeUtc: notBefore } : {}),
  });
}
