import { BlockBlobClient } from "@azure/storage-blob";
import { expect } from "vitest";
import type { z } from "zod";
import type { importSchema } from "../../functions/http/schemas/import.js";
import type { RunningApp } from "./app.js";
import { call } from "./identity.js";
import { recentErrors, waitFor } from "./wait-for.js";

// The bulk-import calls the end-to-end tests share: ask for an upload URL and upload, start, and wait for the end.

/** An import as GET /v1/imports/{id} answers it (the route's own schema). */
export type ImportBody = z.infer<typeof importSchema>;

/** What POST /v1/imports answers: the import and where to upload its file. */
export type CreatedImport = ImportBody & { upload: { url: string; method: string; headers: Record<string, string>; expiresAt: string } };

/** Asks for an upload URL (asserting 201) and answers the created import, nothing uploaded yet. */
export async function requestImport(app: RunningApp, token: string, file: { fileName: string; contentType: string; sizeBytes: number; courseId?: string }): Promise<CreatedImport> {
  const res = await call(app, "POST", "/v1/imports", { token, body: file });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as CreatedImport;
}

/** Asks for an upload URL and uploads the bytes with the Blob SDK, as a client would. Answers the import's id. */
export async function uploadImport(app: RunningApp, token: string, bytes: Buffer, file: { fileName: string; contentType: string; courseId?: string }): Promise<string> {
  const created = await requestImport(app, token, { ...file, sizeBytes: bytes.length });
  await new BlockBlobClient(created.upload.url).upload(bytes, bytes.length, { blobHTTPHeaders: { blobContentType: file.contentType } });
  return created.id;
}

export const startImport = (app: RunningApp, token: string, id: string, kind: string, dryRun: boolean) =>
  call(app, "POST", `/v1/imports/${id}/start`, { token, body: { kind, dryRun } });

export async function importStatus(app: RunningApp, token: string, id: string): Promise<ImportBody> {
  return (await (await call(app, "GET", `/v1/imports/${id}`, { token })).json()) as ImportBody;
}

/** Polls the import until it is completed, failed or cancelled. */
export const importEnded = (app: RunningApp, token: string, id: string, options: { timeoutMs?: number; what?: string } = {}) =>
  waitFor(options.what ?? `import ${id} to end`, async () => {
    const body = await importStatus(app, token, id);
    return ["completed", "failed", "cancelled"].includes(body.status) ? body : undefined;
  }, { timeoutMs: options.timeoutMs ?? 25_000, diagnostics: () => recentErrors(app) });

/** Starts the import (asserting 202) and waits for its end. */
export async function runImport(app: RunningApp, token: string, id: string, kind: string, dryRun: boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<ImportBody> {
  const started = await startImport(app, token, id, kind, dryRun);
  expect(started.status, await started.clone().text()).toBe(202);
  return importEnded(app, token, id, options);
}
