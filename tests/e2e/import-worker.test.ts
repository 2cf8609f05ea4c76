import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { signUp, type TestUser, uniqueEmail } from "../support/identity.js";
import { requestImport, runImport } from "../support/imports.js";
import { waitForMail } from "../support/mailbox.js";
import { waitFor } from "../support/wait-for.js";

// The shape `npm start` runs: a main host (APP_ROLE=main) and the workers (import, enrichment, generation) as one
// second host process sharing the services. The main host answers the import routes and only sends the run's
// message; the worker applies it and sends the invitation; each host registers only its own functions.
const workerHost = "APP_ROLE=import-worker,enrichment-worker,generation-worker,languageWorkers__node__arguments=--max-old-space-size=256";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url }, runtimeArgs: ["--set", "APP_ROLE=main", "--with-host", workerHost] });
  admin = await signUp(app, db, { admin: true, label: "admin" });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

/** The functions a host listed at start (name and trigger): the main host's lines as they are, the worker's prefixed. */
function listing(prefix: string): Map<string, string> {
  const functions = new Map<string, string>();
  let inListing = false;
  for (const raw of app.output().split("\n")) {
    if (prefix ? !raw.startsWith(prefix) : raw.startsWith("[host ")) continue;
    const line = raw.slice(prefix.length);
    if (line === "Functions:") inListing = true;
    else if (inListing && /^\s{8}\S/.test(line)) {
      const [name, ...trigger] = line.trim().split(": ");
      functions.set(name as string, trigger.join(": "));
    } else if (inListing && line.startsWith("[")) inListing = false;
  }
  return functions;
}

describe("the workers as their own host", () => {
  it("registers the workers' functions (import, enrichment, generation) on the worker host only, and imports users through it", async () => {
    await waitFor("the import worker host to start", async () => (/\[host 2\] .*Host started/.test(app.output()) ? true : undefined), {
      timeoutMs: 30_000,
      diagnostics: () => app.output().slice(-3000),
    });
    const main = listing("");
    const worker = listing("[host 2] ");
    const workerFunctions = ["imports-on-queue", "imports-resend", "bulkImport", "import-begin", "import-stage", "import-batch", "import-finish", "import-fail", "update-item-analysis-on-grade-published", "generation-on-queue", "generation-resend"];
    for (const name of workerFunctions) {
      expect(worker.has(name), name).toBe(true);
      expect(main.has(name), name).toBe(false);
    }
    // The workers serve no HTTP route; the import and generation-job routes (and everything else) stay in the main host.
    expect([...worker.keys()].filter((name) => !/^(imports?-|bulkImport$)/.test(name) && !workerFunctions.includes(name))).toEqual([]);
    expect(readFileSync(join(repoRoot, "package.json"), "utf8"), "npm start runs this shape").toContain(`--set APP_ROLE=main --with-host ${workerHost}"`);
    expect([...worker.values()].some((trigger) => trigger.startsWith("["))).toBe(false);
    expect(main.get("imports-start")).toMatch(/^\[POST\] /);
    expect(main.has("outbox-sweep")).toBe(true);

    const newcomer = uniqueEmail("worker-newcomer");
    const bytes = Buffer.from(`email,name,locale\r\n${newcomer},Worker Newcomer,en\r\n`, "utf8");
    const { id, upload } = await requestImport(app, admin.accessToken, { fileName: "people.csv", contentType: "text/csv", sizeBytes: bytes.length });
    expect((await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes })).status).toBe(201);

    const done = await runImport(app, admin.accessToken, id, "users", false, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: "completed", rowsRead: 1, rowsApplied: 1, rowsFailed: 0 });
    expect(await db.sql`select display_name from users where email = ${newcomer}`).toEqual([{ display_name: "Worker Newcomer" }]);
    // The worker ran it: the orchestration's steps were executed in the second host's process.
    expect(app.output()).toMatch(/\[host 2\] .*Executed 'Functions\.import-batch' \(Succeeded/);
    expect(app.output()).not.toMatch(/^(?!\[host 2\]).*Executing 'Functions\.import-batch'/m);

    const mail = await waitForMail(app, newcomer, "You are invited");
    expect(mail.text).toMatch(/token=[A-Za-z0-9_-]+/);
  });
});
