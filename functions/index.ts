import "./platform/telemetry.js";
import { app } from "@azure/functions";
import { allowBrowserBlobAccess } from "./platform/blob-cors.js";
import { bootstrapAdminFromSettings } from "./platform/bootstrap-admin.js";
import { createLogger } from "./platform/log.js";
import { closePlatform, platform } from "./platform/platform.js";
import { type AppRole, settings } from "./platform/settings.js";

// Fail fast: a bad setting stops the app at load, naming each problem, before any request arrives.
const { APP_ROLE: roles } = settings();

// APP_ROLE lists the roles whose functions this host registers: the main app and the workers, each its own app in
// Azure scaled by its own queue (docs/architecture.md, "The workers"); several in one host locally, all in tests.
// Every loader awaits this module.
const roleFunctions: Record<AppRole, () => Promise<unknown>> = {
  main: () => import("./main-functions.js"),
  "import-worker": () => import("./imports/worker-functions.js"),
  "enrichment-worker": () => import("./enrichment-worker-functions.js"),
  "generation-worker": () => import("./generation-worker-functions.js"),
};
for (const role of roles) await roleFunctions[role]();

app.setup({ enableHttpStream: false });
app.hook.appStart(async () => {
  const p = platform();
  try {
    await p.files.ensureContainer();
  } catch (err) {
    // A Blob outage or a missing role at start must not stop the app; /api/ready reports Blob.
    createLogger({ level: p.settings.LOG_LEVEL, fields: { task: "ensure-container" } }).error("course files container not ensured", { err });
  }
  // The web app's uploads go from the browser straight to Blob: locally the emulator needs a CORS rule for them.
  if (roles.includes("main")) {
    await allowBrowserBlobAccess(p.blob, p.settings).catch((err: unknown) =>
      createLogger({ level: p.settings.LOG_LEVEL, fields: { task: "blob-cors" } }).error("Blob CORS rule not set", { err }),
    );
  }
  // The first administrator is made where the API is (one host does it, not every worker).
  if (roles.includes("main")) await bootstrapAdminFromSettings();
});
app.hook.appTerminate(async () => {
  await closePlatform();
});
