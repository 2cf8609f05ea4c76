import type { BlobServiceClient } from "@azure/storage-blob";
import { openBlobService } from "./blob.js";
import { type DatabaseHandle, openDatabase } from "./database.js";
import { type Settings, settings } from "./settings.js";

/** The clients the app shares across invocations of one instance, built once on first use. */
export interface Platform {
  settings: Settings;
  database: DatabaseHandle;
  blob: BlobServiceClient;
  clock: () => Date;
}

let current: Platform | undefined;

export function platform(): Platform {
  if (!current) {
    const s = settings();
    current = { settings: s, database: openDatabase(s), blob: openBlobService(s), clock: () => new Date() };
  }
  return current;
}

export async function closePlatform(): Promise<void> {
  const open = current;
  current = undefined;
  await open?.database.close();
}
