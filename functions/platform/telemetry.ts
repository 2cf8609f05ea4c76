import { createRequire, syncBuiltinESMExports } from "node:module";
import { appInsightsClientId, parseEnv, SettingsError, type TelemetrySettings, telemetrySettingsSchema } from "./settings.js";

// Imported first by functions/index.ts: with APPLICATIONINSIGHTS_CONNECTION_STRING set, OpenTelemetry starts
// before any other module of the app runs. Without it (local, tests) nothing below loads at all.
//
// The Functions host keeps its default telemetry mode (host.json has no "telemetryMode"): it records one
// request per invocation and forwards the app's log lines, with its sampling settings. The app adds what the
// host cannot see from outside the worker: dependencies (Azure SDK calls, HTTP, PostgreSQL transactions) and
// custom metrics. The distro continues each invocation's trace context (a preInvocation hook through
// @azure/functions-core, the same as @azure/functions-opentelemetry-instrumentation's), so every span is a
// child of the host's request. That package is not used: its log bridge would send each log line a second
// time while the host forwards them too.

let settings: TelemetrySettings | undefined;
try {
  settings = parseEnv(telemetrySettingsSchema, process.env);
} catch (err) {
  // index.ts parses every setting next and reports all problems at once, this one included.
  if (!(err instanceof SettingsError)) throw err;
}

if (settings?.APPLICATIONINSIGHTS_CONNECTION_STRING) {
  await startTelemetry(settings.APPLICATIONINSIGHTS_CONNECTION_STRING, settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
}

async function startTelemetry(connectionString: string, authentication: string | undefined): Promise<void> {
  const [{ useAzureMonitor, shutdownAzureMonitor }, { app }] = await Promise.all([import("@azure/monitor-opentelemetry"), import("@azure/functions")]);
  let credential;
  if (authentication) {
    // The resource has local authentication off, so the exporter signs in with the managed identity the
    // authentication string names, as the host does with the same setting.
    const { ManagedIdentityCredential } = await import("@azure/identity");
    const clientId = appInsightsClientId(authentication);
    credential = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  }
  // @opentelemetry/instrumentation-http's options (the distro types them as the base config only).
  const http = {
    enabled: true,
    // An Azure SDK call already records its HTTP request (and sends its traceparent): recording the
    // socket-level request too would list every Blob or Cosmos call twice. Incoming requests stay traced:
    // in Azure the worker serves none (the host does; enableHttpStream is off), and locally the runtime's
    // HTTP server shares the worker's process, so its requests stand in for the host's request telemetry.
    ignoreOutgoingRequestHook: (request: { headers?: Record<string, unknown> }) => Boolean(request.headers?.["traceparent"]),
  };
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString, ...(credential ? { credential } : {}) },
    // The host already streams Live Metrics for the app; a second stream from the worker only doubles it.
    enableLiveMetrics: false,
    // Every span of every invocation, like the host's requests (host.json keeps requests out of sampling):
    // the distro's default (5 traces/s, decided per span) drops some dependencies of a sampled request.
    // OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG still override this where volume calls for it.
    samplingRatio: 1,
    tracesPerSecond: 0,
    // Drivers the app does not use (postgres.js is not `pg`; database.ts traces its transactions itself).
    instrumentationOptions: {
      http,
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
    },
  });

  // The instrumentations patch modules as they are require()d, but this app and the ESM builds of the Azure
  // SDK import them. Requiring the two the SDK's calls go through lets the hooks patch them in place:
  // @azure/core-tracing keeps one state for its CommonJS and ESM builds (so every SDK client then emits
  // dependency spans), and syncBuiltinESMExports hands the patched node:http(s) functions to ESM importers.
  const require = createRequire(import.meta.url);
  require("@azure/core-tracing");
  require("node:http");
  require("node:https");
  syncBuiltinESMExports();

  // Spans and metrics are exported in batches: flush what is left before the worker goes away.
  app.hook.appTerminate(async () => {
    await shutdownAzureMonitor();
  });
}
