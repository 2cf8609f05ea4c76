import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientSchemaFile, generateClientSchema } from "../../../scripts/client-schema.js";
import { repoRoot } from "../../support/app.js";

describe("the typed client", () => {
  it("is generated from the document the app serves now (run `npm run client:generate` when this fails)", { timeout: 60_000 }, async () => {
    const committed = await readFile(join(repoRoot, clientSchemaFile), "utf8");
    const fresh = await generateClientSchema();
    // Compare line counts first: a readable failure when a route was added or removed.
    expect(committed.split("\n").length).toBe(fresh.split("\n").length);
    expect(committed === fresh, `${clientSchemaFile} is stale: run npm run client:generate`).toBe(true);
  });
});
