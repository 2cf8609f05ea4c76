import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { importsInProgress, importsLeftQueued } from "../../domain/imports/import-requests.js";
import { instanceStatus } from "../platform/durable-status.js";
import { createLogger } from "../platform/log.js";
import { type Platform, platform } from "../platform/platform.js";
import { parseQueueMessage } from "../platform/service-bus.js";
import { importInstanceId, type ImportRunInput } from "./bulk-import.js";
import { IMPORTS_QUEUE, sendImportRun } from "./send-import-run.js";

export { IMPORTS_QUEUE, sendImportRun };

const messageSchema = z.object({ importId: z.uuid(), run: z.number().int().positive(), traceparent: z.string().nullable() });

/** Starts the run's orchestration unless it exists already (a redelivered or re-sent message starts nothing). */
app.serviceBusQueue("imports-on-queue", {
  connection: "ServiceBusConnection",
  queueName: IMPORTS_QUEUE,
  extraInputs: [df.input.durableClient()],
  handler: async (message: unknown, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { queue: IMPORTS_QUEUE } });
    const run = await parseQueueMessage(message, messageSchema, { queue: IMPORTS_QUEUE, what: "an import run", serviceBus: () => p.serviceBus(), context, log });
    if (!run) return;
    const client = df.getClient(context);
    const instanceId = importInstanceId(run.importId, run.run);
    const existing = await instanceStatus(client, instanceId);
    if (existing?.runtimeStatus) return;
    await client.startNew("bulkImport", { instanceId, input: run });
    log.info("import run started", { importId: run.importId, run: run.run, instanceId });
  },
});

// Runs whose message never reached the queue (the send after the start's commit failed) are sent again after a
// minute; one that did reach it is dropped as a duplicate, or finds its orchestration there.
const LEFT_QUEUED_MS = 60_000;

app.timer("imports-resend", {
  schedule: "%IMPORT_RESEND_SCHEDULE%",
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "imports-resend" } });
    const left = await importsLeftQueued(p.database.db, new Date(p.clock().getTime() - LEFT_QUEUED_MS));
    for (const run of left) {
      try {
        await sendImportRun(p, { importId: run.id, run: run.run, traceparent: null });
      } catch (err) {
        log.warn("import run not re-sent; tried again next minute", { importId: run.id, err });
      }
    }
    if (left.length) log.info("import runs re-sent", { count: left.length });
    await restartOrphanedRuns(p, df.getClient(context), log);
  },
});


/**
 * A run staging or applying whose orchestration is missing or failed (the runtime died between a step's commit and
 * Durable recording it, or its import-fail step failed every retry) would stay so forever: its orchestration is
 * started again, and resumes from the rows' outcomes (begin finds it staging or applying). A terminated instance
 * stays terminated (an operator stopped it on purpose), and a completed one ended its run itself (read between
 * the database and the status, it finished meanwhile).
 */
async function restartOrphanedRuns(p: Platform, client: df.DurableClient, log: ReturnType<typeof createLogger>): Promise<void> {
  const inProgress = await importsInProgress(p.database.db, new Date(p.clock().getTime() - LEFT_QUEUED_MS));
  for (const run of inProgress) {
    const instanceId = importInstanceId(run.id, run.run);
    try {
      const status = await instanceStatus(client, instanceId);
      if (status && status.runtimeStatus !== df.OrchestrationRuntimeStatus.Failed) continue;
      await client.startNew("bulkImport", { instanceId, input: { importId: run.id, run: run.run, traceparent: null } satisfies ImportRunInput });
      log.warn("import run had no orchestration running; started again", { importId: run.id, run: run.run, was: status?.runtimeStatus ?? "missing" });
    } catch (err) {
      log.warn("import run not checked; tried again next minute", { importId: run.id, err });
    }
  }
}
