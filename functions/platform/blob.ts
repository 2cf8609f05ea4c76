import { BlobServiceClient, type StoragePipelineOptions } from "@azure/storage-blob";
import { defaultAzureCredential } from "./azure-credential.js";
import type { Settings } from "./settings.js";

/**
 * The SDK's default retries wait 4 s, then 12 s (16 s in all) before a refused connection fails: a request
 * would hang that long before its 503. The app's blob calls are small (metadata, certificates, delegation
 * keys), so a short burst (about 1 s) is enough; a worker that still fails is retried with its message.
 */
const pipeline: StoragePipelineOptions = { retryOptions: { maxTries: 4, retryDelayInMs: 250, maxRetryDelayInMs: 2_000 } };

/** A connection string locally (Azurite), the managed identity in Azure. */
export function openBlobService(s: Settings): BlobServiceClient {
  if (s.BlobStorage) return BlobServiceClient.fromConnectionString(s.BlobStorage, pipeline);
  if (!s.BlobStorage__serviceUri) throw new Error("BlobStorage settings were not validated");
  const credential = defaultAzureCredential(s.BlobStorage__clientId);
  return new BlobServiceClient(s.BlobStorage__serviceUri, credential, pipeline);
}
