import type { BlobServiceClient } from "@azure/storage-blob";
import { runsLocally, type Settings } from "./settings.js";

/**
 * Browsers upload straight to Blob (PUT to a SAS URL) and read files from it, so the storage account needs a CORS
 * rule for the web app. In Azure Bicep owns the rule (bicep/modules/storage.bicep, the site's origin); the app's
 * identity may not change service properties there. Locally it is set here at every start, for any origin: every
 * local app and test runtime (each on its own port, so its own origin) shares one Azurite, whose account key is
 * public anyway, so a per-origin list would only make concurrent starts overwrite each other's rule.
 */
export async function allowBrowserBlobAccess(blob: BlobServiceClient, s: Settings): Promise<void> {
  if (!runsLocally(s)) return;
  await blob.setProperties({
    cors: [
      {
        allowedOrigins: "*",
        allowedMethods: "GET,HEAD,PUT,OPTIONS",
        allowedHeaders: "content-type,x-ms-*",
        exposedHeaders: "etag,content-length,content-type,content-disposition,x-ms-*",
        maxAgeInSeconds: 3600,
      },
    ],
  });
}
