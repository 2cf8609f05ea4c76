import { DefaultAzureCredential } from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";
import type { Settings } from "./settings.js";

/** A connection string locally (Azurite), the managed identity in Azure. */
export function openBlobService(s: Settings): BlobServiceClient {
  if (s.BlobStorage) return BlobServiceClient.fromConnectionString(s.BlobStorage);
  if (!s.BlobStorage__serviceUri) throw new Error("BlobStorage settings were not validated");
  const credential = new DefaultAzureCredential(
    s.BlobStorage__clientId ? { managedIdentityClientId: s.BlobStorage__clientId } : {},
  );
  return new BlobServiceClient(s.BlobStorage__serviceUri, credential);
}
