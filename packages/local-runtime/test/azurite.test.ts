import { BlobServiceClient } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { startAzurite } from "../src/services/azurite.js";
import { isProcessAlive, waitUntil } from "./runtime-harness.js";

describe("startAzurite", () => {
  it("serves Blob storage on free ports to the unmodified SDK and stops its processes", async () => {
    const azurite = await startAzurite({ location: "memory", blobPort: 0, queuePort: 0, tablePort: 0 });
    try {
      expect(azurite.blobEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
      const container = blobs.getContainerClient("local-runtime-test");
      await container.create();
      const blob = container.getBlockBlobClient("hello.txt");
      await blob.upload("hi there", 8);
      expect((await blob.downloadToBuffer()).toString()).toBe("hi there");
    } finally {
      await azurite.stop();
    }
    await waitUntil(() => azurite.pids.every((pid) => !isProcessAlive(pid)), 5000);
  });
});
