import type { BlobServiceClient } from "@azure/storage-blob";
import { v7 as uuidv7 } from "uuid";
import type { ScryptParams } from "../../domain/identity/password-hash.js";
import type { ThrottlePolicy } from "../../domain/identity/login-throttle.js";
import { type AccessTokens, createAccessTokens } from "./auth/access-tokens.js";
import { openBlobService } from "./blob.js";
import { type BlobFileStore, createBlobFileStore } from "./file-store.js";
import { type DatabaseHandle, openDatabase } from "./database.js";
import { createOutboxRelay, type OutboxRelay } from "./outbox-relay.js";
import { type ClosableMailer, createMailer } from "./mailer.js";
import { cosmosActivityStore, cosmosContainer, openCosmos } from "./cosmos-activity.js";
import { cosmosAnalyticsStore } from "./cosmos-analytics.js";
import type { AnalyticsStore } from "../../domain/analytics/store.js";
import type { ActivityStore } from "../../domain/activity/statements.js";
import type { Container, CosmosClient } from "@azure/cosmos";
import type { Mailer } from "../../domain/notifications/email-deliveries.js";
import type { QuestionModel } from "../../domain/generation/question-model.js";
import { lazy } from "./lazy.js";
import { azureOpenAIModel } from "./openai-model.js";
import { openServiceBus } from "./service-bus.js";
import type { ServiceBusClient } from "@azure/service-bus";
import { type Settings, settings } from "./settings.js";

/** The clients the app shares across invocations of one instance, built once on first use. */
export interface Platform {
  settings: Settings;
  database: DatabaseHandle;
  blob: BlobServiceClient;
  /** Course files: SAS URLs for clients, metadata for the domain. One per instance, so the delegation-key cache lives on. */
  files: BlobFileStore;
  accessTokens: Promise<AccessTokens>;
  /** Opened on first use: instances that never publish or check readiness open no AMQP connection. */
  serviceBus(): ServiceBusClient;
  relay: OutboxRelay;
  /** Learning activity in Cosmos DB; the database and container are made sure of on first use. */
  activity: ActivityStore;
  /** The client, built on first use (the SDK is loaded then). */
  cosmos(): Promise<CosmosClient>;
  activityContainer(): Promise<Container>;
  /** Per-course analytics read models in Cosmos DB (learner records, active-day markers, day rollups). */
  analytics: AnalyticsStore;
  /** SMTP or Azure Communication Services, built on first use. */
  mailer(): Mailer;
  /** The AI generator's model (Azure OpenAI), built on first use; the worker checks it is configured first. */
  questionModel(): QuestionModel;
  closeServiceBus(): Promise<void>;
  /** Closes the SMTP pool's connections, if the mailer was built. */
  closeMailer(): void;
  kdf: ScryptParams;
  loginThrottle: ThrottlePolicy;
  clock: () => Date;
  /** UUIDv7: time-ordered ids, so keyset pagination by id follows creation order. */
  newId: () => string;
}

let current: Platform | undefined;

export function platform(): Platform {
  if (!current) {
    const s = settings();
    const accessTokens = createAccessTokens(s);
    // Surface a bad key at start in the log; requests then see the same rejection.
    accessTokens.catch(() => undefined);
    const blob = openBlobService(s);
    const clock = () => new Date();
    const database = openDatabase(s);
    let serviceBus: ServiceBusClient | undefined;
    let mailer: ClosableMailer | undefined;
    let questionModel: QuestionModel | undefined;
    const getCosmos = lazy(() => openCosmos(s));
    const getActivity = cosmosContainer(getCosmos, s, { id: "activity", partitionKey: "/learnerId" });
    const getAnalytics = cosmosContainer(getCosmos, s, { id: "analytics", partitionKey: "/courseId", ttl: true });
    const getServiceBus = () => (serviceBus ??= openServiceBus(s));
    current = {
      settings: s,
      database,
      serviceBus: getServiceBus,
      mailer: () => (mailer ??= createMailer(s)),
      questionModel: () => (questionModel ??= azureOpenAIModel(s)),
      cosmos: getCosmos,
      activityContainer: getActivity,
      activity: cosmosActivityStore(getActivity),
      analytics: cosmosAnalyticsStore(getAnalytics),
      closeServiceBus: async () => {
        await serviceBus?.close().catch(() => undefined);
      },
      closeMailer: () => mailer?.close(),
      relay: createOutboxRelay({ db: database.db, serviceBus: getServiceBus, topic: s.SERVICEBUS_TOPIC, batchSize: s.OUTBOX_BATCH_SIZE, clock }),
      blob,
      files: createBlobFileStore({
        blob,
        container: s.BLOB_CONTAINER_COURSE_FILES,
        // The prefixes the domain names these files with (answerFilePrefix, issueCertificate, exportArchiveName).
        containersByPrefix: {
          "submissions/": s.BLOB_CONTAINER_SUBMISSIONS,
          "certificates/": s.BLOB_CONTAINER_CERTIFICATES,
          "privacy-exports/": s.BLOB_CONTAINER_PRIVACY_EXPORTS,
          // invoice and credit-note PDFs (invoicePdfBlobName, creditNotePdfBlobName): one container for both
          "invoices/": s.BLOB_CONTAINER_INVOICES,
          "credit-notes/": s.BLOB_CONTAINER_INVOICES,
        },
        clock,
      }),
      accessTokens,
      kdf: { logN: s.AUTH_SCRYPT_LOG_N, r: 8, p: 1 },
      loginThrottle: {
        windowSeconds: s.AUTH_LOGIN_WINDOW_S,
        maxFailuresPerAccount: s.AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT,
        maxFailuresPerAddress: s.AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS,
        baseLockSeconds: s.AUTH_LOGIN_LOCK_S,
        maxLockSeconds: s.AUTH_LOGIN_MAX_LOCK_S,
        slowAfter: s.AUTH_LOGIN_SLOW_AFTER,
      },
      clock,
      newId: () => uuidv7(),
    };
  }
  return current;
}

export async function closePlatform(): Promise<void> {
  const open = current;
  current = undefined;
  if (!open) return;
  await open.relay.close();
  await open.closeServiceBus();
  open.closeMailer();
  await open.database.close();
}
