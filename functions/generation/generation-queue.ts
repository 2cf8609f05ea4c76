import { app, type InvocationContext, type Timer } from "@azure/functions";
import { z } from "zod";
import { generationJobsLeftQueued, runGenerationJob } from "../../domain/generation/run-generation.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { parseQueueMessage } from "../platform/service-bus.js";
import { generationConfigured } from "../platform/settings.js";
import { documentText } from "./document-text.js";
import { GENERATION_QUEUE, sendGenerationJob } from "./send-generation-job.js";

const messageSchema = z.object({ jobId: z.uuid(), traceparent: z.string().nullable() });

/**
 * The AI generator worker: one delivery runs one job (claimed by a conditional update, so a duplicate or redelivered
 * message does nothing twice). A rate limit puts the job's message back for the Retry-After time rather than
 * holding this worker; a fault is thrown, so Service Bus delivers the message again.
 */
app.serviceBusQueue("generation-on-queue", {
  connection: "ServiceBusConnection",
  queueName: GENERATION_QUEUE,
  handler: async (message: unknown, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { queue: GENERATION_QUEUE } });
    const job = await parseQueueMessage(message, messageSchema, { queue: GENERATION_QUEUE, what: "a generation job", serviceBus: () => p.serviceBus(), context, log });
    if (!job) return;
    // The setting was removed after the job was queued: a fault to retry (an operator may set it again).
    if (!generationConfigured(p.settings)) throw new Error("no model is configured (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT)");
    const { jobId, traceparent } = job;
    const outcome = await runGenerationJob({ db: p.database.db, now: p.clock, newId: p.newId, model: p.questionModel(), documentText: (source) => documentText(p.files, source) }, jobId);
    if (outcome.kind === "later") {
      await sendGenerationJob(p, { jobId, traceparent }, outcome.notBefore);
      log.info("generation job rescheduled", { jobId, notBefore: outcome.notBefore.toISOString() });
    } else if (outcome.kind === "skipped") log.info("generation message skipped", { jobId, reason: outcome.reason });
    else log.info("generation job finished", { jobId, status: outcome.status });
  },
});

// A job left queued a minute past its time has no message on its way: it is sent again (a claim makes a duplicate
// harmless, and the same message id within the duplicate-detection window is dropped by Service Bus).
const LEFT_QUEUED_MS = 60_000;

app.timer("generation-resend", {
  schedule: "%GENERATION_RESEND_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "generation-resend" } });
    const left = await generationJobsLeftQueued(p.database.db, new Date(p.clock().getTime() - LEFT_QUEUED_MS));
    for (const job of left) {
      try {
        await sendGenerationJob(p, { jobId: job.id, traceparent: null }, job.notBefore ?? undefined);
      } catch (err) {
        log.warn("generation job not re-sent; tried again next time", { jobId: job.id, err });
      }
    }
    if (left.length) log.info("generation jobs re-sent", { count: left.length });
  },
});
