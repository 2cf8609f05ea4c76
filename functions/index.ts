import "./platform/telemetry.js";
import { app } from "@azure/functions";
import { bootstrapAdminFromSettings } from "./platform/bootstrap-admin.js";
import { createLogger } from "./platform/log.js";
import { closePlatform, platform } from "./platform/platform.js";
import { settings } from "./platform/settings.js";

// Fail fast: a bad setting stops the app at load, naming each problem, before any request arrives.
const { APP_ROLE: role } = settings();

// APP_ROLE says which functions this host registers: the main app, the import worker (its own app in Azure, scaled
// by the bulk-imports queue's depth), or both (tests, a single local host). Both loaders await this module.
if (role !== "import-worker") await import("./main-functions.js");
if (role !== "main") await import("./imports/worker-functions.js");

app.setup({ enableHttpStream: false });
app.hook.appStart(async () => {
  const p = platform();
  try {
    await p.files.ensureContainer();
  } catch (err) {
    // A Blob outage or a missing role at start must not stop the app; /api/ready reports Blob.
    createLogger({ level: p.settings.LOG_LEVEL, fields: { task: "ensure-container" } }).error("course files container not ensured", { err });
  }
  // The first administrator is made where the API is (one host does it, not every worker).
  if (role !== "import-worker") await bootstrapAdminFromSettings();
});
app.hook.appTerminate(async () => {
  await closePlatform();
});
