// Coverage of the runtime child processes the tests start, loaded into them with NODE_OPTIONS=--import (see
// vitest.config.ts). It replaces NODE_V8_COVERAGE, which wrote every script of the process (node_modules too)
// and a cache of every loaded source map (~14 MB a process, parsed at each module load): here V8's precise
// coverage is taken at exit and only the repository's own built scripts are written, in the same format, for
// tests/support/coverage-report.ts. A process killed with SIGKILL writes nothing, as with NODE_V8_COVERAGE.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";

const dir = process.env.RINGLET_CHILD_COVERAGE;
const repoUrl = new URL("../../", import.meta.url).href;
const vendorUrl = new URL("../../dist/vendor/", import.meta.url).href;

// Only processes whose main script is the repository's own (the runtime and the hosts it starts): other node programs
// the tests run (redocly, npm) would only run slower under the profiler, for nothing the report keeps.
const main = process.argv[1] ? pathToFileURL(process.argv[1]).href : "";
if (dir && main.startsWith(repoUrl) && !main.includes("/node_modules/")) {
  const session = new Session();
  session.connect();
  // Same-thread inspector sessions answer synchronously, so this also works inside the 'exit' handler.
  session.post("Profiler.enable");
  // Block coverage without counts (covered or not, which is all the report uses): cheaper for V8 to keep than
  // counts (tests/functions/http: ~18 s less CPU of ~50 s that child coverage cost).
  session.post("Profiler.startPreciseCoverage", { callCount: false, detailed: true });
  process.on("exit", () => {
    session.post("Profiler.takePreciseCoverage", (error, taken) => {
      if (error) return;
      // dist/vendor holds the packages the app imports, bundled (scripts/build-app.ts): not the repository's code.
      const result = taken.result.filter((s) => s.url.startsWith(repoUrl) && !s.url.includes("/node_modules/") && !s.url.startsWith(vendorUrl) && s.url !== import.meta.url);
      // Other node processes the tests start (redocly, npm) ran none of the repository's scripts: no file.
      if (result.length === 0) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `coverage-${process.pid}-${Date.now()}-${threadId}.json`), JSON.stringify({ result }));
    });
  });
}
