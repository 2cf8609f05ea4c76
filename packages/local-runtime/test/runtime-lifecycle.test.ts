import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, copyFixture, isProcessAlive, startRuntime, waitUntil } from "./runtime-harness.js";

describe("local runtime lifecycle", () => {
  it("discovers a function added in a new module matched by the main glob", async () => {
    const appRoot = copyFixture();
    writeFileSync(
      path.join(appRoot, "functions/added-later.js"),
      "import functions from '@azure/functions';\nfunctions.app.http('added-later', { methods: ['GET'], route: 'added/{id:int}', handler: (req) => ({ body: `added ${req.params.id}` }) });\n",
    );
    const runtime = await startRuntime({ appRoot });
    try {
      const res = await fetch(`${runtime.baseUrl}/api/added/5`);
      expect(await res.text()).toBe("added 5");
    } finally {
      await runtime.stop();
    }
  });

  it("runs --before commands with the settings in the environment before loading the app", async () => {
    const appRoot = copyFixture();
    const command = `node -e "require('fs').writeFileSync('before.txt', process.env.FIXTURE_SETTING)"`;
    const runtime = await startRuntime({ appRoot, args: ["--before", command] });
    await runtime.stop();
    expect(readFileSync(path.join(appRoot, "before.txt"), "utf8")).toBe("from-sample-file");
  });

  it("aborts start-up when a --before command fails", () => {
    const appRoot = copyFixture();
    const result = spawnSync(process.execPath, [cliPath, "start", "--before", 'node -e "process.exit(3)"'], {
      cwd: appRoot,
      env: { ...process.env, PORT: "0" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/The --before command failed with exit code 3/);
  });

  it("on SIGTERM lets an in-flight request finish, runs appTerminate hooks and exits 0", async () => {
    const runtime = await startRuntime({ appRoot: copyFixture() });
    const pending = fetch(`${runtime.baseUrl}/api/slow?ms=800`);
    await runtime.waitForOutput(/Executing 'Functions\.slow'/);
    const exitCode = runtime.stop("SIGTERM");
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("slow done");
    expect(await exitCode).toBe(0);
    expect(runtime.output()).toMatch(/appStart hook ran/);
    expect(runtime.output()).toMatch(/appTerminate hook ran/);
    expect(runtime.output()).toMatch(/Host stopped/);
  });

  it("stops by itself once nobody reads its output (its parent died), instead of spinning on failed writes", async () => {
    const runtime = await startRuntime({ appRoot: copyFixture() });
    const pid = runtime.child.pid as number;
    // What a dead parent leaves behind: the read ends of the host's stdout and stderr are closed.
    runtime.child.stdout?.destroy();
    runtime.child.stderr?.destroy();
    // An invocation writes its Executing/Executed lines, which now fail with EPIPE.
    await fetch(`${runtime.baseUrl}/api/slow?ms=10`).catch(() => undefined);
    await waitUntil(() => !isProcessAlive(pid), 15_000);
    expect(isProcessAlive(pid)).toBe(false);
  });

  it("exec runs a one-off command with the app settings and passes its exit code through", () => {
    const appRoot = copyFixture();
    const result = spawnSync(
      process.execPath,
      [cliPath, "exec", "--", process.execPath, "-e", "process.exit(process.env.FIXTURE_SETTING === 'from-sample-file' ? 7 : 1)"],
      { cwd: appRoot, encoding: "utf8", timeout: 20_000 },
    );
    expect(result.status).toBe(7);
    expect(existsSync(path.join(appRoot, ".local-data/postgres"))).toBe(false);
  });
});
