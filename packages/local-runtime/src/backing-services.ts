// Starts the backing services the settings ask for, in parallel, and exports their settings to the app.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { hostLog } from "./log.js";
import { startEmbeddedPostgres } from "./services/postgres.js";
import { startAzurite } from "./services/azurite.js";
import { isPortOpen } from "./services/ports.js";
import { usesDevelopmentStorage } from "./settings.js";
// --- Service Bus (servicebus/) ---
import { startServiceBusBroker } from "./servicebus/broker.js";
import { emulatorEndpoints } from "./servicebus/settings.js";
// --- end Service Bus ---
// --- Mail (services/mail-sink.ts) ---
import { developmentMailboxSettings, setActiveMailSink, startMailSink } from "./services/mail-sink.js";
// --- end Mail ---
// --- Cosmos (services/cosmos.ts) ---
import { developmentCosmosSettings, startCosmosEndpoint } from "./services/cosmos.js";
// --- end Cosmos ---
// --- SMS and push (services/sms-endpoint.ts, services/push-service.ts) ---
import { developmentSmsSettings, setActiveSmsEndpoint, startSmsEndpoint } from "./services/sms-endpoint.js";
import { developmentPushSettings, setActivePushService, startPushService } from "./services/push-service.js";
// --- end SMS and push ---
// --- Stripe (services/stripe-emulator.ts) ---
import { developmentStripeSettings, developmentStripeWebhookSettings, setActiveStripeEmulator, startStripeEmulator } from "./services/stripe-emulator.js";
// --- end Stripe ---
// --- OpenAI (services/openai-standin.ts) ---
import { developmentOpenAISettings, setActiveOpenAIStandIn, startOpenAIStandIn } from "./services/openai-standin.js";
// --- end OpenAI ---

export interface RunningServices {
  stop(): Promise<void>;
}

/** Data that must survive restarts lives here; parents stay traversable so the "postgres" OS user can reach it. */
export function localDataDir(appRoot: string): string {
  const dir = path.join(appRoot, ".local-data");
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

const azuritePorts = { blobPort: 10000, queuePort: 10001, tablePort: 10002 };

export interface BackingServiceOptions {
  /** The runtime's HTTP port (webhooks from the Stripe emulator go there); PORT or 7071 when not given. */
  httpPort?: number;
}

export async function startBackingServices(
  appRoot: string,
  databaseName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: BackingServiceOptions = {},
): Promise<RunningServices> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  };
  // Services on ports the settings name bind first; those that take any free port start after them, so the
  // OS cannot hand one of them a port that a named service is about to bind (seen as EADDRINUSE at start-up).
  const named: (() => Promise<void>)[] = [];
  const anyPort: (() => Promise<void>)[] = [];

  if (!env.DATABASE_URL) {
    anyPort.push(
      async () => {
        const pg = await startEmbeddedPostgres({ dataDir: path.join(localDataDir(appRoot), "postgres"), database: databaseName });
        stops.push(pg.stop);
        env.DATABASE_URL = pg.url;
        hostLog(`PostgreSQL ${pg.reused ? "already running, reused" : "started"}: ${pg.url.replace(/:[^:@/]*@/, ":***@")}`);
      },
    );
  }

  if (usesDevelopmentStorage(env)) {
    named.push(
      async () => {
        // UseDevelopmentStorage=true means the fixed ports 10000-10002; a developer's own Azurite there is reused.
        if (await isPortOpen(azuritePorts.blobPort)) {
          hostLog("Azurite already listening on 127.0.0.1:10000, reused.");
          return;
        }
        const azurite = await startAzurite({ location: path.join(localDataDir(appRoot), "azurite"), ...azuritePorts });
        stops.push(azurite.stop);
        hostLog(`Azurite started: ${azurite.blobEndpoint}, ${azurite.queueEndpoint}, ${azurite.tableEndpoint}`);
      },
    );
  }

  // --- Service Bus (servicebus/): a broker for each emulator connection string on this machine ---
  for (const endpoint of emulatorEndpoints(env)) {
    named.push(
      async () => {
        // A broker (or the official emulator) already listening there is reused, as with Azurite.
        if (await isPortOpen(endpoint.port)) {
          hostLog(`Service Bus: 127.0.0.1:${endpoint.port} already listening, reused (${endpoint.settings.join(", ")}).`);
          return;
        }
        const setting = env.LOCAL_SERVICEBUS_ENTITIES;
        const entitiesFile = setting ? path.resolve(appRoot, setting) : undefined;
        if (!entitiesFile) hostLog("Service Bus: LOCAL_SERVICEBUS_ENTITIES is not set; the broker starts without queues or topics.");
        // LOCAL_SERVICEBUS_DATA: "memory" (tests, benchmarks) or a folder; by default under .local-data.
        const dataSetting = env.LOCAL_SERVICEBUS_DATA;
        const dataDir =
          dataSetting === "memory"
            ? "memory"
            : dataSetting
              ? path.resolve(appRoot, dataSetting)
              : path.join(localDataDir(appRoot), endpoint.port === 5672 ? "servicebus" : `servicebus-${endpoint.port}`);
        const broker = await startServiceBusBroker({ port: endpoint.port, entities: entitiesFile ?? {}, dataDir, onLog: hostLog });
        stops.push(broker.stop);
        hostLog(`Service Bus broker started: amqp://127.0.0.1:${broker.port} (${endpoint.settings.join(", ")}${entitiesFile ? `; entities from ${setting}` : ""})`);
      },
    );
  }
  // --- end Service Bus ---

  // --- Mail (services/mail-sink.ts): settings that are exactly UseDevelopmentMailbox=true get a local SMTP sink ---
  const mailSettings = developmentMailboxSettings(env);
  if (mailSettings.length > 0) {
    (env.LOCAL_MAILBOX_SMTP_PORT?.trim() ? named : anyPort).push(
      async () => {
        const portSetting = env.LOCAL_MAILBOX_SMTP_PORT?.trim();
        const port = portSetting ? Number(portSetting) : 0;
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`LOCAL_MAILBOX_SMTP_PORT is not a port: ${portSetting}`);
        const sink = await startMailSink({ port }).catch((error: unknown) => {
          const detail = error instanceof Error ? error.message : String(error);
          throw new Error(`The development mailbox could not listen on 127.0.0.1:${port} (LOCAL_MAILBOX_SMTP_PORT): ${detail}`);
        });
        stops.push(async () => {
          setActiveMailSink(undefined);
          await sink.stop();
        });
        setActiveMailSink(sink);
        // The app sees plain SMTP: the setting's value becomes the sink's URL.
        for (const name of mailSettings) env[name] = sink.url;
        hostLog(`Development mailbox started: ${sink.url} (${mailSettings.join(", ")}); mails are shown at /admin/mailbox.`);
      },
    );
  }
  // --- end Mail ---

  // --- Cosmos (services/cosmos.ts): settings that are exactly UseDevelopmentCosmos=true get one local endpoint ---
  const cosmosSettings = developmentCosmosSettings(env);
  if (cosmosSettings.length > 0) {
    (env.LOCAL_COSMOS_PORT?.trim() ? named : anyPort).push(
      async () => {
        const portSetting = env.LOCAL_COSMOS_PORT?.trim();
        const port = portSetting ? Number(portSetting) : 0;
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`LOCAL_COSMOS_PORT is not a port: ${portSetting}`);
        const cosmos = await startCosmosEndpoint({ port }).catch((error: unknown) => {
          const detail = error instanceof Error ? error.message : String(error);
          throw new Error(`The development Cosmos DB endpoint could not listen on 127.0.0.1:${port} (LOCAL_COSMOS_PORT): ${detail}`);
        });
        stops.push(cosmos.stop);
        // The setting's value becomes the endpoint's connection string. TLS stays on: the app accepts the
        // self-signed certificate for this endpoint only (see README, Cosmos DB).
        for (const name of cosmosSettings) env[name] = cosmos.connectionString;
        hostLog(`Cosmos DB endpoint started: ${cosmos.endpoint} (${cosmosSettings.join(", ")}; in memory, self-signed certificate).`);
      },
    );
  }
  // --- end Cosmos ---

  // --- SMS and push: settings exactly UseDevelopmentSms=true / UseDevelopmentPush=true get local endpoints ---
  const smsSettings = developmentSmsSettings(env);
  if (smsSettings.length > 0) {
    anyPort.push(async () => {
      const sms = await startSmsEndpoint();
      stops.push(async () => {
        setActiveSmsEndpoint(undefined);
        await sms.stop();
      });
      setActiveSmsEndpoint(sms);
      // The app sees an ACS connection string (a fresh access key each start); the SDK signs with it, the endpoint checks.
      for (const name of smsSettings) env[name] = sms.connectionString;
      hostLog(`Development SMS endpoint started: ${sms.endpoint} (${smsSettings.join(", ")}); messages are shown at /admin/mailbox.`);
    });
  }
  const pushSettings = developmentPushSettings(env);
  if (pushSettings.length > 0) {
    anyPort.push(async () => {
      const push = await startPushService();
      stops.push(async () => {
        setActivePushService(undefined);
        await push.stop();
      });
      setActivePushService(push);
      // The app sees the push service's origin: subscriptions made by POST /admin/push/subscriptions live under it.
      for (const name of pushSettings) env[name] = push.origin;
      hostLog(`Development push service started: ${push.origin} (${pushSettings.join(", ")}); messages are shown at /admin/mailbox.`);
    });
  }
  // --- end SMS and push ---

  // --- Stripe: UseDevelopmentStripe=true → the emulator's API URL; UseDevelopmentStripeWebhook=<path> → its whsec_
  // secret, and its events are delivered to this runtime's HTTP port at <path> ---
  const stripeSettings = developmentStripeSettings(env);
  const stripeWebhooks = developmentStripeWebhookSettings(env);
  if (stripeSettings.length > 0 || stripeWebhooks.length > 0) {
    const httpPort = options.httpPort ?? (Number(env.PORT) || 7071);
    const webhookUrls = [...new Set(stripeWebhooks.map((w) => `http://127.0.0.1:${httpPort}${w.path}`))];
    anyPort.push(async () => {
      const stripe = await startStripeEmulator({ webhookUrls: () => webhookUrls });
      stops.push(async () => {
        setActiveStripeEmulator(undefined);
        await stripe.stop();
      });
      setActiveStripeEmulator(stripe);
      for (const name of stripeSettings) env[name] = stripe.apiUrl;
      for (const { name } of stripeWebhooks) env[name] = stripe.webhookSecret;
      const names = [...stripeSettings, ...stripeWebhooks.map((w) => w.name)].join(", ");
      hostLog(`Development Stripe started: ${stripe.apiUrl} (${names}); events go to ${webhookUrls.join(", ") || "nowhere (no UseDevelopmentStripeWebhook=<path>)"}; admin at /admin/stripe.`);
    });
  }
  // --- end Stripe ---

  // --- OpenAI: UseDevelopmentOpenAI=true → the stand-in's endpoint (Azure OpenAI chat completions) ---
  const openAISettings = developmentOpenAISettings(env);
  if (openAISettings.length > 0) {
    anyPort.push(async () => {
      const standIn = await startOpenAIStandIn();
      stops.push(async () => {
        setActiveOpenAIStandIn(undefined);
        await standIn.stop();
      });
      setActiveOpenAIStandIn(standIn);
      for (const name of openAISettings) env[name] = standIn.endpoint;
      hostLog(`Development OpenAI stand-in started: ${standIn.endpoint} (${openAISettings.join(", ")}); scripted at /admin/openai.`);
    });
  }
  // --- end OpenAI ---

  for (const phase of [named, anyPort]) {
    const results = await Promise.allSettled(phase.map((start) => start()));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      await stop();
      throw failure.reason;
    }
  }
  return { stop };
}
