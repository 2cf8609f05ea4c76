import type { Platform } from "../platform/platform.js";
import { sendToQueue } from "../platform/service-bus.js";
import type { ImportRunInput } from "./bulk-import.js";

// Kept apart from import-queue.ts (which registers the worker's trigger and timer): the main app's HTTP routes
// send runs without registering the import worker's functions.

/** The queue of import runs (bicep/servicebus-entities.json): its own, so bulk work never delays events. */
export const IMPORTS_QUEUE = "bulk-imports";

/**
 * Puts a started run on the queue. The message id names the run, so a re-send (the housekeeping of runs left
 * queued) within the duplicate-detection window is dropped by Service Bus.
 */
export async function sendImportRun(p: Platform, run: ImportRunInput): Promise<void> {
  await sendToQueue(p.serviceBus(), IMPORTS_QUEUE, { messageId: `${run.importId}.${run.run}`, subject: "import.run", contentType: "application/json", body: run });
}
