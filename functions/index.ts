import { app } from "@azure/functions";
import { closePlatform } from "./platform/platform.js";
import { settings } from "./platform/settings.js";
import "./http/system.js";
import "./http/ops.js";
import "./http/not-found.js";

// Fail fast: a bad setting stops the app at load, naming each problem, before any request arrives.
settings();

app.setup({ enableHttpStream: false });
app.hook.appTerminate(async () => {
  await closePlatform();
});
