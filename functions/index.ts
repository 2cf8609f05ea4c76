import { app } from "@azure/functions";
import { bootstrapAdminFromSettings } from "./platform/bootstrap-admin.js";
import { closePlatform } from "./platform/platform.js";
import { settings } from "./platform/settings.js";
import "./http/system.js";
import "./http/auth.js";
import "./http/me.js";
import "./http/users.js";
import "./http/audit-log.js";
import "./http/ops.js";
import "./http/not-found.js";

// Fail fast: a bad setting stops the app at load, naming each problem, before any request arrives.
settings();

app.setup({ enableHttpStream: false });
app.hook.appStart(async () => {
  await bootstrapAdminFromSettings();
});
app.hook.appTerminate(async () => {
  await closePlatform();
});
