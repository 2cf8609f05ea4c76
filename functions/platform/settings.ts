import { z } from "zod";
import { keyRingSchema } from "./webhook-secrets.js";

// Environment values are strings; these helpers turn them into typed settings with readable errors.
const flag = z
  .enum(["true", "false", "1", "0", ""])
  .transform((v) => v === "true" || v === "1");
const positiveInt = z.coerce.number().int().positive();

const ncrontab = z.string().regex(/^\S+( \S+){5}$/, "must be a 6-field NCRONTAB expression");
const containerName = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/, "must be a Blob container name (3–63 lower-case letters, digits, hyphens)");

/** The roles a host can take (functions/index.ts loads each role's module list). */
export const appRoleNames = ["main", "import-worker", "enrichment-worker", "generation-worker"] as const;
export type AppRole = (typeof appRoleNames)[number];
const appRoles = z
  .string()
  .refine((v) => v.trim() !== "", "names no role (one of all, main, import-worker, enrichment-worker, generation-worker, or several with commas)")
  .transform((v) => v.split(",").map((r) => r.trim()))
  .pipe(z.array(z.enum(["all", ...appRoleNames], { error: (i) => `unknown role "${String(i.input)}" (one of all, ${appRoleNames.join(", ")})` })))
  .transform((roles): AppRole[] => (roles.includes("all") ? [...appRoleNames] : appRoleNames.filter((r) => roles.includes(r))));

const postgresUrl = z
  .string({ error: "is required (a postgres:// connection URL)" })
  .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL");

/**
 * Every setting the app reads, under its Azure app-setting name. Parsed once at start;
 * nothing else reads process.env. local.settings.sample.json and the Bicep app module list
 * the same names (a test holds them together).
 */
export const databaseSettingsSchema = z.object({
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_MAX: positiveInt.max(100).default(5),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(15_000),
  DATABASE_IDLE_TIMEOUT_S: positiveInt.default(30),
  // Built-in PgBouncer runs in transaction mode: prepared statements must stay off.
  DATABASE_PGBOUNCER: flag.default(false),
  DATABASE_SSL: z.enum(["disable", "require", "verify-full"]).default("disable"),
  // "entra": the password is a Microsoft Entra access token of a managed identity (no secret stored anywhere);
  // the user in DATABASE_URL is then the identity's PostgreSQL role name.
  DATABASE_AUTH: z.enum(["password", "entra"]).default("password"),
  // The user-assigned identity's client id; unset lets DefaultAzureCredential choose (e.g. the az CLI login of a
  // deployment runner running `npm run db:migrate`).
  DATABASE_ENTRA_CLIENT_ID: z.string().optional(),
});
export type DatabaseSettings = z.infer<typeof databaseSettingsSchema>;

// "Authorization=AAD" (system-assigned identity) or "Authorization=AAD;ClientId=<id>" (user-assigned),
// the format the Functions host and Application Insights SDKs read from the same setting.
const appInsightsAuthentication = z
  .string()
  .regex(/^Authorization=AAD(;ClientId=[^;]+)?;?$/i, "must be Authorization=AAD or Authorization=AAD;ClientId=<client id>");

/** Telemetry is read before the rest of the settings, at the very start of the app (see telemetry.ts). */
export const telemetrySettingsSchema = z.object({
  // Unset (local, tests): no telemetry is initialised at all.
  APPLICATIONINSIGHTS_CONNECTION_STRING: z
    .string()
    .refine((v) => /(^|;)\s*InstrumentationKey=/i.test(v), "must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)")
    .optional(),
  // Application Insights has local authentication off: the exporter signs in with this managed identity.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: appInsightsAuthentication.optional(),
});
export type TelemetrySettings = z.infer<typeof telemetrySettingsSchema>;

/** "Authorization=AAD;ClientId=<id>" → the client id; "Authorization=AAD" → null (system-assigned identity). */
export function appInsightsClientId(authentication: string): string | null {
  return /;ClientId=([^;]+)/i.exec(authentication)?.[1] ?? null;
}

// Only where the app runs locally (refused elsewhere): anyone can read it here.
const DEVELOPMENT_RECEIPT_KEY = "local-development-evaluation-receipt-key-change-me";

export const settingsSchema = databaseSettingsSchema
  .extend(telemetrySettingsSchema.shape)
  .extend({
    // Blob Storage: a connection string locally, or the service URI with a managed identity in Azure.
    BlobStorage: z.string().optional(),
    BlobStorage__serviceUri: z.url().optional(),
    BlobStorage__clientId: z.string().optional(),
    BLOB_CONTAINER_COURSE_FILES: containerName.default("course-files"),
    // Learners' answer files and the certificates the app issues live in containers of their own.
    BLOB_CONTAINER_SUBMISSIONS: containerName.default("submissions"),
    BLOB_CONTAINER_CERTIFICATES: containerName.default("certificates"),
    // Data-export archives (privacy requests), deleted after PRIVACY_EXPORT_RETENTION_DAYS by housekeeping.
    BLOB_CONTAINER_PRIVACY_EXPORTS: containerName.default("privacy-exports"),
    // Invoice and credit-note PDFs (financial records: kept, never erased), read through short-lived links.
    BLOB_CONTAINER_INVOICES: containerName.default("invoices"),
    // How long a link to an invoice or credit-note PDF stays valid (the API's answer and the email link's redirect).
    INVOICE_LINK_TTL_MINUTES: positiveInt.max(24 * 60).default(10),

    // Service Bus: a connection string locally (the local broker), the namespace with a managed identity in Azure.
    // The trigger bindings name the same setting (`connection: "ServiceBusConnection"`).
    ServiceBusConnection: z.string().optional(),
    ServiceBusConnection__fullyQualifiedNamespace: z.string().optional(),
    ServiceBusConnection__clientId: z.string().optional(),
    SERVICEBUS_TOPIC: z.string().min(1).default("lms-events"),
    OUTBOX_SWEEP_SCHEDULE: ncrontab.default("*/10 * * * * *"),
    OUTBOX_BATCH_SIZE: positiveInt.max(500).default(100),

    WEBHOOK_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
    WEBHOOK_MAX_ATTEMPTS: positiveInt.max(50).default(8),
    WEBHOOK_RETRY_BASE_S: positiveInt.default(30),
    WEBHOOK_RETRY_SCHEDULE: ncrontab.default("0 * * * * *"),
    // Development only: lets webhooks target loopback/private addresses and plain http (local receivers).
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: flag.default(false),
    // An endpoint is disabled after this many failed attempts in a row that also span at least this long.
    WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt.max(10_000).default(20),
    WEBHOOK_DISABLE_FAILING_FOR_S: positiveInt.default(86_400),
    // Keys that seal webhook signing secrets at rest (`id:base64 32-byte key`, comma-separated; from Key Vault in
    // Azure): the first seals, every one opens.
    WEBHOOK_SECRET_KEYS: keyRingSchema,

    // Self check-in codes rotate this often (a code is accepted in its period and the one before); a learner checking
    // in this many minutes after the session starts is marked late.
    ATTENDANCE_CODE_PERIOD_SECONDS: positiveInt.min(5).max(600).default(30),
    ATTENDANCE_LATE_AFTER_MINUTES: z.coerce.number().int().min(0).max(24 * 60).default(10),
    // The most occurrences one weekly class rule may have (a rule must end; it also spans at most about two years).
    SCHEDULE_MAX_OCCURRENCES: positiveInt.max(5000).default(500),
    // Discussions: authors may edit a post for this many minutes; a user may post at most this many topics and
    // replies a minute; daily, users who chose the digest get their held discussion emails as one.
    DISCUSSION_EDIT_WINDOW_MINUTES: positiveInt.max(7 * 24 * 60).default(30),
    DISCUSSION_POSTS_PER_MINUTE: positiveInt.max(1000).default(10),
    DISCUSSION_DIGEST_SCHEDULE: ncrontab.default("0 0 6 * * *"),
    // Leave applications: an undecided one escalates to the administrators LEAVE_ESCALATION_HOURS after it was made
    // and expires LEAVE_DECISION_HOURS after (durable timers; fractions allowed); a leave may start at most
    // LEAVE_MAX_PAST_DAYS back and last at most LEAVE_MAX_DAYS.
    LEAVE_ESCALATION_HOURS: z.coerce.number().positive().max(24 * 60).default(48),
    LEAVE_DECISION_HOURS: z.coerce.number().positive().max(24 * 120).default(168),
    LEAVE_MAX_PAST_DAYS: z.coerce.number().int().min(0).max(365).default(7),
    LEAVE_MAX_DAYS: positiveInt.max(366).default(90),
    // Hours graders have for manual items before the orchestration reminds them (and every day after).
    GRADING_SLA_HOURS: positiveInt.max(24 * 60).default(72),
    // Hours between a user's erasure request and the erasure (held by a durable timer, cancellable meanwhile);
    // fractions allowed (tests use seconds), at most 30 days.
    PRIVACY_ERASURE_GRACE_H: z.coerce.number().positive().max(24 * 30).default(72),
    DUE_REMINDERS_SCHEDULE: ncrontab.default("0 0 * * * *"),
    // Hourly: invoice reminders and dunning (due-soon reminders INVOICE_DUE_SOON_DAYS ahead, overdue notices, late fees,
    // and, when ENROLLMENT_SUSPEND_AFTER_DAYS > 0, suspension of enrollments that many days overdue; 0 never suspends).
    FINANCE_REMINDERS_SCHEDULE: ncrontab.default("0 0 * * * *"),
    INVOICE_DUE_SOON_DAYS: z.coerce.number().int().min(0).max(60).default(3),
    ENROLLMENT_SUSPEND_AFTER_DAYS: z.coerce.number().int().min(0).max(365).default(0),
    // Course evaluations: the timer opens, reminds (once, EVALUATION_REMINDER_HOURS before the close) and closes them;
    // results are shown once closed with at least EVALUATION_MIN_RESPONSES answers. The receipt key turns (evaluation,
    // learner) into the anonymous "answered" receipt (from Key Vault in Azure; changing it forgets who answered).
    EVALUATIONS_SCHEDULE: ncrontab.default("0 */5 * * * *"),
    EVALUATION_REMINDER_HOURS: z.coerce.number().positive().max(24 * 60).default(48),
    EVALUATION_MIN_RESPONSES: positiveInt.max(1000).default(5),
    EVALUATION_RECEIPT_KEY: z.string().min(32, "must be at least 32 characters").default(DEVELOPMENT_RECEIPT_KEY),
    // Weekly: learners below their course's low-attendance threshold, and its instructors, are emailed once per ISO week.
    ATTENDANCE_ALERTS_SCHEDULE: ncrontab.default("0 0 7 * * 1"),
    ATTEMPT_DEADLINES_SCHEDULE: ncrontab.default("0 * * * * *"),
    HOUSEKEEPING_SCHEDULE: ncrontab.default("0 30 3 * * *"),
    EVENT_RETENTION_DAYS: positiveInt.default(30),
    TOKEN_RETENTION_DAYS: positiveInt.default(30),
    // A data export's emailed download link lasts this many hours (a user-delegation SAS cannot outlive 7 days);
    // its archive is kept this many days, then deleted by housekeeping.
    PRIVACY_EXPORT_LINK_TTL_H: positiveInt.max(24 * 7).default(24),
    PRIVACY_EXPORT_RETENTION_DAYS: positiveInt.max(365).default(7),
    // A OneRoster bundle is refused when its files would inflate to more than this (a zip bomb), checked while inflating.
    IMPORT_MAX_UNCOMPRESSED_BYTES: positiveInt.default(500 * 1024 * 1024),
    // Bulk imports: the largest upload, the longest CSV line and the most rows a file may have (refused past them,
    // before any row is applied); rows applied per batch (one transaction each); an import's file and rows are
    // deleted by housekeeping after IMPORT_RETENTION_DAYS.
    IMPORT_MAX_BYTES: positiveInt.max(1024 ** 3).default(100 * 1024 ** 2),
    IMPORT_MAX_LINE_BYTES: positiveInt.max(64 * 1024 ** 2).default(1024 ** 2),
    IMPORT_MAX_ROWS: positiveInt.max(5_000_000).default(200_000),
    IMPORT_BATCH_SIZE: positiveInt.max(5_000).default(500),
    IMPORT_RETENTION_DAYS: positiveInt.max(3_650).default(30),
    // When the imports-resend timer looks for runs left queued a minute after their start (their message lost).
    IMPORT_RESEND_SCHEDULE: ncrontab.default("30 * * * * *"),
    // Which functions this host registers: a comma-separated list of roles (functions/index.ts): `main` (the API,
    // events, timers), `import-worker`, `enrichment-worker`, `generation-worker` (each its own app in Azure), or
    // `all` (every role in one host: tests). Answers the roles, each once.
    APP_ROLE: appRoles.prefault("all"),

    // Email: SMTP locally (the runtime's development mailbox) or Azure Communication Services in Azure.
    EMAIL_TRANSPORT: z.enum(["smtp", "acs"]).default("smtp"),
    EmailSmtp: z.string().regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL").optional(),
    EmailAcs: z.string().optional(),
    EmailAcs__endpoint: z.url().optional(),
    EmailAcs__clientId: z.string().optional(),
    EMAIL_FROM_ADDRESS: z.email().default("no-reply@ringlet.local"),
    EMAIL_FROM_NAME: z.string().default("Ringlet"),
    // Emails are recorded with their event and sent after commit; what could not be sent is retried by the
    // email-retries timer with exponential backoff (EMAIL_RETRY_BASE_S, doubling, at most 6 h) and given up
    // (status failed) after EMAIL_MAX_ATTEMPTS.
    EMAIL_RETRY_SCHEDULE: ncrontab.default("0 * * * * *"),
    EMAIL_MAX_ATTEMPTS: positiveInt.max(50).default(8),
    EMAIL_RETRY_BASE_S: positiveInt.default(30),
    // How long a sender holds the emails it claimed before another may take them over; the SMTP timeouts are a
    // quarter of it, so a hung server cannot keep a send past its lease.
    EMAIL_LEASE_S: z.coerce.number().int().min(4).max(3_600).default(120),
    // Sends in flight at once per sender, and the SMTP pool's connections.
    EMAIL_SEND_CONCURRENCY: positiveInt.max(50).default(4),
    // SMS (Azure Communication Services): a connection string locally (the runtime's development endpoint), the
    // resource's endpoint with the managed identity in Azure. SMS is off without SMS_FROM (the ACS number, E.164:
    // Bicep cannot buy one), and the phone routes answer 503 then.
    SmsAcs: z.string().optional(),
    SmsAcs__endpoint: z.url().optional(),
    SmsAcs__clientId: z.string().optional(),
    SMS_FROM: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number (+ and 7 to 15 digits)").optional(),
    // Web Push (VAPID, RFC 8292): the key pair the app signs pushes with (the private key from Key Vault in Azure)
    // and the contact push services may write to (mailto: or https:). Push is off without the keys.
    WEB_PUSH_VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{87}$/, "must be a base64url P-256 public key (65 bytes)").optional(),
    WEB_PUSH_VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url P-256 private key (32 bytes)").optional(),
    WEB_PUSH_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)\S+$/, "must be a mailto: or https: URL").default("mailto:no-reply@ringlet.local"),
    // Development only: push endpoints under this origin (the local runtime's push service) are allowed although
    // http and loopback. Empty in Azure.
    WEB_PUSH_DEVELOPMENT_ORIGIN: z.url().optional(),
    // SMS and push messages are sent after commit; what could not be sent (or waited for quiet hours to end) is
    // sent by the channel-retries timer, with the email backoff, given up after CHANNEL_MAX_ATTEMPTS.
    CHANNEL_RETRY_SCHEDULE: ncrontab.default("30 * * * * *"),
    CHANNEL_MAX_ATTEMPTS: positiveInt.max(50).default(6),
    // Phone verification: a code lasts this long and allows this many wrong tries; at most PHONE_CODE_MAX_SENDS
    // codes per user per hour.
    PHONE_CODE_TTL_MINUTES: positiveInt.max(60).default(10),
    PHONE_CODE_MAX_ATTEMPTS: positiveInt.max(20).default(5),
    PHONE_CODE_MAX_SENDS: positiveInt.max(100).default(5),
    // The learner-facing web app, for links in emails: locally the function app serves it at its root
    // (functions/http/web-app.ts); in Azure, the Static Web Apps site (Bicep sets its URL).
    PUBLIC_APP_URL: z.url().default("http://localhost:7071"),
    // The built web app (`npm run build` writes it to dist/web) the static-files function serves; a relative
    // path is under the project root.
    WEB_APP_DIR: z.string().min(1).default("dist/web"),
    // Whether this host serves that build at its root (locally, and in the tests). Bicep: false, the Static Web
    // Apps site serves the app in Azure, and a copy on the function app's origin would be a second app.
    WEB_APP_ENABLED: flag.default(true),
    // This API's own base URL as its callers see it (https in Azure), for links in emails that lead to the API
    // itself: RFC 8058 one-click unsubscribe.
    PUBLIC_API_URL: z.url().default("http://localhost:7071/api"),
    // Payments through Stripe. STRIPE_API_URL: where the SDK sends its calls (empty: api.stripe.com; locally the
    // runtime's Stripe emulator, named by `UseDevelopmentStripe=true`). The secret key and the webhook signing
    // secret come from Key Vault in Azure; while either is empty or an unresolved Key Vault reference, payments
    // are off (checkout and webhook answer 503), the rest of the app runs.
    STRIPE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
    STRIPE_SECRET_KEY: z.string().optional(),
    STRIPE_WEBHOOK_SECRET: z.string().optional(),
    // A webhook signed longer ago than this is a replay and refused (Stripe's own default).
    STRIPE_WEBHOOK_TOLERANCE_S: positiveInt.max(3_600).default(300),
    // AI question generation (Azure OpenAI). Empty endpoint = no model: the generation route answers 503. Locally,
    // `UseDevelopmentOpenAI=true` becomes the runtime's stand-in's URL. An empty key = the managed identity.
    AZURE_OPENAI_ENDPOINT: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
    AZURE_OPENAI_DEPLOYMENT: z.string().default(""),
    // A GA version with structured outputs (json_schema response formats).
    AZURE_OPENAI_API_VERSION: z.string().min(1).default("2024-10-21"),
    AZURE_OPENAI_API_KEY: z.string().default(""),
    // The user-assigned identity that holds "Cognitive Services OpenAI User" (used when the key is empty).
    AZURE_OPENAI_CLIENT_ID: z.string().default(""),
    // The largest document to generate from, and the most items one job may ask for.
    GENERATION_MAX_DOCUMENT_BYTES: positiveInt.max(100 * 1024 ** 2).default(10 * 1024 ** 2),
    GENERATION_MAX_ITEMS: positiveInt.max(100).default(20),
    // When the generation-resend timer sends again the jobs left queued a minute past their time (their message
    // lost: the send after the start's commit failed, or it was dead-lettered after faults).
    GENERATION_RESEND_SCHEDULE: ncrontab.default("45 * * * * *"),
    // Browser origins allowed to call the API (comma-separated, e.g. https://app.example.org); empty = none. The
    // app answers CORS itself, preflights included. A URL counts as its origin (a browser's Origin never has a
    // path, so https://app.example.org/ or .../app would match nothing). `*` only where the app runs locally
    // (see `runsLocally`); the staging and prod parameter files never list it besides.
    CORS_ALLOWED_ORIGINS: z
      .string()
      .default("")
      .transform((v) => v.split(",").map((o) => o.trim()).filter(Boolean))
      .pipe(z.array(z.union([z.literal("*"), z.url({ protocol: /^https?$/, error: "must be an http(s) origin or URL, or *" }).transform((o) => new URL(o).origin)]))),
    // The browsable documentation page (/api/docs and its assets) and the OpenAPI document; off = 404.
    API_DOCS_ENABLED: flag.default(true),

    // Cosmos DB (learning activity): a connection string locally (the runtime's endpoint), the account with a managed identity in Azure.
    CosmosConnection: z.string().optional(),
    CosmosConnection__accountEndpoint: z.url().optional(),
    CosmosConnection__clientId: z.string().optional(),
    COSMOS_DATABASE: z.string().min(1).default("ringlet"),
    // Nightly analytics rollup: figures per course and day, recomputed for the last ANALYTICS_ROLLUP_DAYS days
    // so statements that arrive late (offline clients) are still counted.
    ANALYTICS_ROLLUP_SCHEDULE: ncrontab.default("0 15 2 * * *"),
    ANALYTICS_ROLLUP_DAYS: positiveInt.max(90).default(7),

    HTTP_MAX_BODY_BYTES: positiveInt.default(1_048_576),
    // Proxies in front of the app that append the caller's address to X-Forwarded-For: Azure's front end is one.
    // The address is read that many entries from the right; entries further left are the client's own words.
    TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
    IDEMPOTENCY_TTL_HOURS: positiveInt.default(24),
    READY_CHECK_TIMEOUT_MS: positiveInt.default(2_000),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    // Timer schedules (6-field NCRONTAB, UTC), read by the host through %NAME% in the registrations.
    WAITLIST_OFFERS_SCHEDULE: ncrontab.default("0 */5 * * * *"),
    // Seats held for payment (courses whose fee must be paid first) are released this long after they were taken.
    PAYMENT_HOLD_HOURS: positiveInt.max(24 * 90).default(48),
    // Every 5 minutes: holds past their payment due time are released and the seats go to the next in line.
    SEAT_HOLDS_SCHEDULE: ncrontab.default("0 */5 * * * *"),
    // Every minute: scheduled announcements are published within a minute of their time.
    ANNOUNCEMENTS_SCHEDULE: ncrontab.default("0 * * * * *"),

    // Access tokens. HS256 with a shared secret, or ES256/RS256 with a private JWK set whose first key
    // signs and whose every key verifies (rotation by `kid`).
    AUTH_JWT_ALGORITHM: z.enum(["HS256", "ES256", "RS256"]).default("HS256"),
    AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    AUTH_JWT_PRIVATE_JWKS: z.string().optional(),
    AUTH_JWT_ISSUER: z.string().min(1).default("ringlet"),
    AUTH_JWT_AUDIENCE: z.string().min(1).default("ringlet-api"),
    AUTH_ACCESS_TOKEN_TTL_S: positiveInt.max(86_400).default(900),
    AUTH_REFRESH_TOKEN_TTL_DAYS: positiveInt.max(365).default(30),
    // A session ends this many hours after its sign-in however often it is refreshed (ASVS 3.3.2 asks 12 at level 2).
    AUTH_SESSION_MAX_AGE_H: positiveInt.max(8760).default(720),
    AUTH_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(30),
    // scrypt cost as log2(N); 15 = 32 MiB per hash. Raising it re-hashes passwords at their next sign-in.
    AUTH_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15),
    AUTH_LOGIN_WINDOW_S: positiveInt.default(900),
    AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: positiveInt.default(5),
    AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: positiveInt.default(20),
    AUTH_LOGIN_LOCK_S: positiveInt.default(30),
    AUTH_LOGIN_MAX_LOCK_S: positiveInt.default(900),
    AUTH_LOGIN_SLOW_AFTER: positiveInt.default(3),
    // Who must sign in with a second factor (TOTP): nobody, admins, or admins and course staff. Until such a user
    // enrolls and signs in with it, only /v1/me (GET), /v1/me/two-factor* and /v1/auth/* answer them.
    AUTH_TWO_FACTOR_REQUIRED: z.enum(["none", "admins", "staff"]).default("none"),
    // What an account whose email address is not confirmed may do: browse (sign in and look, not enroll), full, or
    // none (no sign-in until confirmed).
    AUTH_UNVERIFIED_ACCESS: z.enum(["browse", "full", "none"]).default("browse"),
    // Lifetimes of the emailed single-use links.
    AUTH_VERIFICATION_TTL_H: positiveInt.max(24 * 30).default(24),
    AUTH_PASSWORD_RESET_TTL_MIN: positiveInt.max(24 * 60).default(30),
    AUTH_INVITATION_TTL_H: positiveInt.max(24 * 90).default(168),
    // Password reset requests per hour: past the account's limit nothing more is sent (the answer stays 202);
    // past the client address's limit the answer is 429.
    AUTH_PASSWORD_RESET_MAX_PER_ACCOUNT: positiveInt.max(100).default(3),
    AUTH_PASSWORD_RESET_MAX_PER_ADDRESS: positiveInt.max(10_000).default(20),
    // Optional external OpenID Connect issuer (e.g. Microsoft Entra External ID): all three or none.
    AUTH_OIDC_ISSUER: z.url().optional(),
    AUTH_OIDC_JWKS_URL: z.url().optional(),
    AUTH_OIDC_AUDIENCE: z.string().optional(),
    // The first admin, created at start when no admin exists (from Key Vault in Azure).
    AUTH_BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
    AUTH_BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional(),
  })
  // `when` runs the check even when other settings failed, so one start reports every problem.
  .refine((s) => Boolean(s.BlobStorage || s.BlobStorage__serviceUri), {
    path: ["BlobStorage"],
    message: "set BlobStorage (connection string) or BlobStorage__serviceUri (managed identity)",
    when: () => true,
  })
  .refine((s) => Boolean(s.ServiceBusConnection || s.ServiceBusConnection__fullyQualifiedNamespace), {
    path: ["ServiceBusConnection"],
    message: "set ServiceBusConnection (connection string) or ServiceBusConnection__fullyQualifiedNamespace (managed identity)",
    when: () => true,
  })
  .refine((s) => (s.EMAIL_TRANSPORT === "smtp" ? Boolean(s.EmailSmtp) : Boolean(s.EmailAcs || s.EmailAcs__endpoint)), {
    path: ["EmailSmtp"],
    message: "set EmailSmtp for EMAIL_TRANSPORT=smtp, or EmailAcs / EmailAcs__endpoint for EMAIL_TRANSPORT=acs",
    when: () => true,
  })
  .refine((s) => Boolean(s.CosmosConnection || s.CosmosConnection__accountEndpoint), {
    path: ["CosmosConnection"],
    message: "set CosmosConnection (connection string) or CosmosConnection__accountEndpoint (managed identity)",
    when: () => true,
  })
  .refine((s) => s.AUTH_JWT_ALGORITHM !== "HS256" || Boolean(s.AUTH_JWT_SECRET), {
    path: ["AUTH_JWT_SECRET"],
    message: "is required when AUTH_JWT_ALGORITHM is HS256",
    when: () => true,
  })
  .refine((s) => s.AUTH_JWT_ALGORITHM === "HS256" || Boolean(s.AUTH_JWT_PRIVATE_JWKS), {
    path: ["AUTH_JWT_PRIVATE_JWKS"],
    message: "is required when AUTH_JWT_ALGORITHM is ES256 or RS256 (a JSON JWK set of private keys with kid)",
    when: () => true,
  })
  .refine((s) => [s.AUTH_OIDC_ISSUER, s.AUTH_OIDC_JWKS_URL, s.AUTH_OIDC_AUDIENCE].every((v) => v === undefined) || [s.AUTH_OIDC_ISSUER, s.AUTH_OIDC_JWKS_URL, s.AUTH_OIDC_AUDIENCE].every(Boolean), {
    path: ["AUTH_OIDC_ISSUER"],
    message: "set AUTH_OIDC_ISSUER, AUTH_OIDC_JWKS_URL and AUTH_OIDC_AUDIENCE together, or none of them",
    when: () => true,
  })
  .refine((s) => s.EVALUATION_RECEIPT_KEY !== DEVELOPMENT_RECEIPT_KEY || runsLocally(s), {
    path: ["EVALUATION_RECEIPT_KEY"],
    message: "must be set (a random secret of at least 32 characters) where the app does not run locally",
    when: () => true,
  })
  .refine((s) => !s.WEB_PUSH_DEVELOPMENT_ORIGIN || runsLocally(s), {
    path: ["WEB_PUSH_DEVELOPMENT_ORIGIN"],
    message: "may be set only when the app runs locally (it lets push endpoints be plain http on loopback)",
    when: () => true,
  })
  .refine((s) => !(/^[sr]k_live_/.test(s.STRIPE_SECRET_KEY ?? "") && isLocalUrl(s.STRIPE_API_URL)), {
    path: ["STRIPE_SECRET_KEY"],
    message: "is a live key but STRIPE_API_URL points at this machine (the development Stripe emulator): use a test key",
    when: () => true,
  })
  .refine((s) => runsLocally(s) || !(isLocalUrl(s.STRIPE_API_URL) || s.STRIPE_SECRET_KEY === DEVELOPMENT_STRIPE_KEY || (s.STRIPE_WEBHOOK_SECRET ?? "").startsWith("UseDevelopmentStripe")), {
    path: ["STRIPE_API_URL"],
    message: "the development Stripe emulator and the sample key may be used only where the app runs locally (leave STRIPE_API_URL empty in Azure)",
    when: () => true,
  })
  .refine((s) => !(Array.isArray(s.CORS_ALLOWED_ORIGINS) && s.CORS_ALLOWED_ORIGINS.includes("*")) || runsLocally(s), {
    path: ["CORS_ALLOWED_ORIGINS"],
    message: "may be * only when the app runs locally (BlobStorage is the local emulator); list the origins instead",
    when: () => true,
  });

export type Settings = z.infer<typeof settingsSchema>;

/** The sample's Stripe key (local.settings.sample.json): the runtime's emulator takes any sk_test_ key. */
const DEVELOPMENT_STRIPE_KEY = "sk_test_local_development";

const isLocalUrl = (url: string | undefined): boolean => url !== undefined && URL.canParse(url) && isLoopbackHost(new URL(url).hostname);

/** Online payments work: a Stripe secret key is set (not empty, not a Key Vault reference left unresolved). */
export const paymentsConfigured = (s: Pick<Settings, "STRIPE_SECRET_KEY">): boolean => /^[sr]k_(test|live)_\S+$/.test(s.STRIPE_SECRET_KEY ?? "");

/** A model is configured for question generation: an endpoint and a deployment. */
export const generationConfigured = (s: Pick<Settings, "AZURE_OPENAI_ENDPOINT" | "AZURE_OPENAI_DEPLOYMENT">): boolean => s.AZURE_OPENAI_ENDPOINT !== "" && s.AZURE_OPENAI_DEPLOYMENT.trim() !== "";

/** The Stripe webhook can be verified: a signing secret is set (resolved). */
export const paymentWebhookConfigured = (s: Pick<Settings, "STRIPE_SECRET_KEY" | "STRIPE_WEBHOOK_SECRET">): boolean =>
  paymentsConfigured(s) && /^whsec_\S+$/.test(s.STRIPE_WEBHOOK_SECRET ?? "");

/**
 * Whether the app runs on a developer's machine (or in tests): its Blob Storage is the local emulator, named by
 * `UseDevelopmentStorage=true` or reached at a loopback address. An app in Azure cannot work so (its storage is
 * an account reached by its service URI), so a deployment cannot claim to be local without losing its files.
 */
export function runsLocally(s: { BlobStorage?: string | undefined }): boolean {
  const connection = s.BlobStorage ?? "";
  if (/(^|;)\s*UseDevelopmentStorage\s*=\s*true\s*(;|$)/i.test(connection)) return true;
  const endpoint = /(?:^|;)\s*BlobEndpoint\s*=\s*([^;]+)/i.exec(connection)?.[1]?.trim();
  if (!endpoint || !URL.canParse(endpoint)) return false;
  return isLoopbackHost(new URL(endpoint).hostname);
}

/** Whether a URL's hostname names this machine (localhost, IPv6 ::1, or 127.x.x.x). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

/** Parses the environment with `schema` and fails fast, naming each missing or malformed setting. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  // Empty strings mean "not set" so optional settings fall back to their defaults.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new SettingsError(
    result.error.issues.map((i) => `${i.path.join(".") || "(settings)"}: ${i.message}`),
  );
}

export const parseSettings = (env: Record<string, string | undefined>): Settings => parseEnv(settingsSchema, env);

let cached: Settings | undefined;

export function settings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}

/**
 * WEB_APP_ENABLED alone, for functions/http/web-app.ts when it registers: registering must not need the whole
 * settings (the client's generation loads every module without them).
 */
export function webAppEnabled(): boolean {
  return cached?.WEB_APP_ENABLED ?? settingsSchema.shape.WEB_APP_ENABLED.parse(process.env.WEB_APP_ENABLED || undefined);
}
