// A function app: Flex Consumption (FC1, Linux, Node 22) by default, Elastic Premium when deployment
// slots are wanted. It runs as the one user-assigned identity: host storage, Service Bus, Blob, Cosmos DB,
// PostgreSQL, Key Vault references and telemetry all authenticate with it. main.bicep uses it twice, from
// the same package: the API app (APP_ROLE=main) and the workers (APP_ROLE=import-worker, enrichment-worker,
// generation-worker), each with its own plan, deployment container and Durable task hub.
//
// `appSettings` below is the app's whole configuration in Azure, one object whose keys are the
// app-setting names. tests/unit/infra/bicep-drift.test.ts reads its keys and holds them against the
// settings schema (functions/platform/settings.ts): keep it one literal with one key per line.

@description('Function app name (globally unique host name).')
param name string

@description('App Service plan name.')
param planName string

@description('APP_ROLE: which functions this app registers (functions/index.ts): main = all but the workers\', each worker role only its own.')
@allowed([
  'main'
  'import-worker'
  'enrichment-worker'
  'generation-worker'
])
param appRole string = 'main'

@description('languageWorkers__node__arguments: node flags the host starts the worker with (the import worker caps its heap); empty for none.')
param nodeArguments string = ''

@description('Tag azd-service-name: azd finds the app of a service in azure.yaml by it.')
param azdServiceName string = 'api'

@description('The app has HTTP triggers: the internet reaches its host and Elastic Premium probes /api/health. false (the import worker): every inbound request is refused except to the SCM site the deploy principal ships code through (Entra-authenticated), and nothing is probed.')
param servesHttp bool = true

@description('Region.')
param location string

@description('Resource tags.')
param tags object = {}

@description('FlexConsumption or ElasticPremium.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Maximum instances (Flex: 1-1000; Elastic Premium: capped at 100). main.bicep keeps the API app at 40 or more.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption always-ready instances for the HTTP trigger group (0 = scale to zero).')
@minValue(0)
param alwaysReadyHttpInstances int = 0

@description('Elastic Premium SKU.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string = 'EP1'

@description('Elastic Premium always-ready instances.')
@minValue(1)
param elasticPremiumMinimumInstances int = 1

@description('Elastic Premium: create a "staging" slot with its own Durable task hub.')
param enableStagingSlot bool = false

@description('Spread the plan over availability zones.')
param zoneRedundant bool = false

@description('Resource id of the user-assigned identity.')
param identityResourceId string

@description('Client id of the identity (the *__clientId settings).')
param identityClientId string

@description('Name of the identity: the PostgreSQL role in DATABASE_URL.')
param identityName string

@description('Object id of the deploy principal (the GitHub workflow\'s service principal); empty = none. It gets Website Contributor on this app only.')
param deployPrincipalId string = ''

@description('Host storage account (AzureWebJobsStorage__accountName).')
param hostStorageName string

@description('URL of the blob container Flex Consumption deploys the app package to.')
param deploymentContainerUrl string

@description('Blob endpoint of the files account (BlobStorage__serviceUri).')
param filesBlobEndpoint string

@description('Containers of the files account: { courseFiles, submissions, certificates } (BLOB_CONTAINER_*). The storage module creates them.')
param filesContainers object

@description('Service Bus host name (ServiceBusConnection__fullyQualifiedNamespace).')
param serviceBusFullyQualifiedNamespace string

@description('Topic the relay publishes to (SERVICEBUS_TOPIC).')
param serviceBusTopicName string

@description('Cosmos DB endpoint (CosmosConnection__accountEndpoint).')
param cosmosEndpoint string

@description('Cosmos DB database (COSMOS_DATABASE).')
param cosmosDatabaseName string

@description('PostgreSQL host name.')
param postgresHost string

@description('PostgreSQL database.')
param postgresDatabaseName string

@description('Key Vault URI with a trailing slash.')
param keyVaultUri string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Durable Functions task hub (DURABLE_TASK_HUB, read by host.json): letters and digits, 3-45 characters.')
@minLength(3)
@maxLength(45)
param durableTaskHubName string

@description('Durable Task Scheduler endpoint (https://...): Durable Functions\' backend, reached as the app identity.')
param durableTaskSchedulerEndpoint string

@description('PUBLIC_APP_URL: the learner-facing web app, for links in emails.')
param publicAppUrl string

@description('CORS_ALLOWED_ORIGINS: browser origins the app answers CORS for.')
param corsAllowedOrigins array = []

@description('API_DOCS_ENABLED.')
param apiDocsEnabled bool = true

@description('PUBLIC_API_URL; empty = https://<default host name>/api.')
param publicApiUrl string = ''

@description('EMAIL_TRANSPORT.')
@allowed([
  'acs'
  'smtp'
])
param emailTransport string = 'acs'

@description('EmailAcs__endpoint when emailTransport is acs.')
param acsEndpoint string = ''

@description('EMAIL_FROM_ADDRESS; empty = the app default.')
param emailFromAddress string = ''

@description('EMAIL_FROM_NAME.')
param emailFromName string = 'Ringlet'

@description('SmsAcs__endpoint: the Communication Services endpoint, when SMS is on.')
param smsEndpoint string = ''

@description('SMS_FROM: the ACS phone number (E.164); empty = SMS off.')
param smsFromNumber string = ''

@description('Read the VAPID key pair (Web Push) from Key Vault; false = Web Push off.')
param webPushFromKeyVault bool = false

@description('WEB_PUSH_SUBJECT; empty = the app default.')
param webPushSubject string = ''

@description('LOG_LEVEL.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('DATABASE_POOL_MAX.')
@minValue(1)
@maxValue(100)
param databasePoolMax int = 5

@description('Read AUTH_BOOTSTRAP_ADMIN_EMAIL / _PASSWORD from Key Vault.')
param bootstrapAdminFromKeyVault bool = true

@description('AUTH_TWO_FACTOR_REQUIRED.')
@allowed([
  'none'
  'admins'
  'staff'
])
param authTwoFactorRequired string = 'none'

@description('AUTH_SESSION_MAX_AGE_H.')
@minValue(1)
@maxValue(8760)
param authSessionMaxAgeHours int = 720

@description('Subnet for VNet integration; empty = none.')
param subnetId string = ''

@description('Azure OpenAI endpoint for question generation; empty = no model (the generation routes answer 503).')
param openAIEndpoint string = ''

@description('Azure OpenAI model deployment name; empty = no model.')
param openAIDeployment string = ''

var isFlex = hostingPlan == 'FlexConsumption'

// Key Vault references resolve with keyVaultReferenceIdentity (below). Versionless URIs follow rotation.
// Secret names are documented in bicep/README.md; operators set the values.
var secretUriPrefix = '${keyVaultUri}secrets/'

var appSettings = {
  // Read by the Functions host: identity-based host storage (deployment package, host locks, timers).
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Elastic Premium only; Flex Consumption takes runtime and package from functionAppConfig (filtered below).
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'node'
  WEBSITE_RUN_FROM_PACKAGE: '1'
  // Which functions this app registers; the two apps run the same package.
  APP_ROLE: appRole
  // The worker process's node flags (empty settings are left out below).
  languageWorkers__node__arguments: nodeArguments
  DURABLE_TASK_HUB: durableTaskHubName
  // host.json durableTask.storageProvider "azureManaged" reads its connection here (bench/durable-backend.md).
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'

  // PostgreSQL through the built-in PgBouncer, as the identity's Entra role (token as password).
  DATABASE_URL: 'postgres://${uriComponent(identityName)}@${postgresHost}:6432/${postgresDatabaseName}'
  DATABASE_AUTH: 'entra'
  DATABASE_ENTRA_CLIENT_ID: identityClientId
  DATABASE_SSL: 'require'
  DATABASE_PGBOUNCER: 'true'
  DATABASE_POOL_MAX: string(databasePoolMax)

  // Blob Storage (files account).
  BlobStorage__serviceUri: filesBlobEndpoint
  BlobStorage__clientId: identityClientId
  BlobStorage__credential: 'managedidentity'
  BLOB_CONTAINER_COURSE_FILES: filesContainers.courseFiles
  BLOB_CONTAINER_SUBMISSIONS: filesContainers.submissions
  BLOB_CONTAINER_CERTIFICATES: filesContainers.certificates
  BLOB_CONTAINER_PRIVACY_EXPORTS: filesContainers.privacyExports
  BLOB_CONTAINER_INVOICES: filesContainers.invoices
  INVOICE_LINK_TTL_MINUTES: '10'
  // A data export's download link lasts hours, its archive days (privacy requests).
  PRIVACY_EXPORT_LINK_TTL_H: '24'
  PRIVACY_EXPORT_RETENTION_DAYS: '7'
  // A OneRoster bundle inflating past this is refused (zip bomb).
  IMPORT_MAX_UNCOMPRESSED_BYTES: '524288000'
  // Bulk imports: upload, line and row limits, rows per batch, days an import's file and rows are kept.
  IMPORT_MAX_BYTES: '104857600'
  IMPORT_MAX_LINE_BYTES: '1048576'
  IMPORT_MAX_ROWS: '200000'
  IMPORT_BATCH_SIZE: '500'
  IMPORT_RETENTION_DAYS: '30'
  IMPORT_RESEND_SCHEDULE: '30 * * * * *'

  // Service Bus; the triggers' `connection: "ServiceBusConnection"` resolves these three.
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__clientId: identityClientId
  ServiceBusConnection__credential: 'managedidentity'
  SERVICEBUS_TOPIC: serviceBusTopicName

  // Cosmos DB.
  CosmosConnection__accountEndpoint: cosmosEndpoint
  CosmosConnection__clientId: identityClientId
  COSMOS_DATABASE: cosmosDatabaseName

  // Tokens: ES256 with a private JWK set from Key Vault (first key signs, all verify: rotation by kid).
  AUTH_JWT_ALGORITHM: 'ES256'
  AUTH_JWT_PRIVATE_JWKS: '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}auth-jwt-private-jwks)'
  AUTH_BOOTSTRAP_ADMIN_EMAIL: bootstrapAdminFromKeyVault ? '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}auth-bootstrap-admin-email)' : ''
  AUTH_BOOTSTRAP_ADMIN_PASSWORD: bootstrapAdminFromKeyVault ? '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}auth-bootstrap-admin-password)' : ''
  // Who must sign in with a second factor (TOTP).
  AUTH_TWO_FACTOR_REQUIRED: authTwoFactorRequired
  // A session ends this many hours after sign-in however often it is refreshed (ASVS 3.3.2).
  AUTH_SESSION_MAX_AGE_H: string(authSessionMaxAgeHours)
  // Unconfirmed addresses may sign in and browse, not enroll; the emailed links' lifetimes; reset throttles per hour.
  AUTH_UNVERIFIED_ACCESS: 'browse'
  AUTH_VERIFICATION_TTL_H: '24'
  AUTH_PASSWORD_RESET_TTL_MIN: '30'
  AUTH_INVITATION_TTL_H: '168'
  AUTH_PASSWORD_RESET_MAX_PER_ACCOUNT: '3'
  AUTH_PASSWORD_RESET_MAX_PER_ADDRESS: '20'

  // Email: ACS with the identity, or an SMTP URL (with its credentials) from Key Vault.
  EMAIL_TRANSPORT: emailTransport
  EmailAcs__endpoint: emailTransport == 'acs' ? acsEndpoint : ''
  EmailAcs__clientId: emailTransport == 'acs' ? identityClientId : ''
  EmailSmtp: emailTransport == 'smtp' ? '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}email-smtp-url)' : ''
  EMAIL_FROM_ADDRESS: emailFromAddress
  EMAIL_FROM_NAME: emailFromName
  // SMS through the same Communication Services resource with the identity (the number is bought by hand), and
  // Web Push with a VAPID key pair from Key Vault. Development push origins do not exist in Azure.
  SmsAcs__endpoint: empty(smsFromNumber) ? '' : smsEndpoint
  SmsAcs__clientId: empty(smsFromNumber) ? '' : identityClientId
  SMS_FROM: smsFromNumber
  WEB_PUSH_VAPID_PUBLIC_KEY: webPushFromKeyVault ? '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}web-push-vapid-public-key)' : ''
  WEB_PUSH_VAPID_PRIVATE_KEY: webPushFromKeyVault ? '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}web-push-vapid-private-key)' : ''
  WEB_PUSH_SUBJECT: webPushSubject
  PUBLIC_APP_URL: publicAppUrl
  // The Static Web Apps site serves the web app: no second copy on this host's origin (functions/http/web-app.ts).
  WEB_APP_ENABLED: 'false'
  PUBLIC_API_URL: empty(publicApiUrl) ? 'https://${name}.azurewebsites.net/api' : publicApiUrl
  CORS_ALLOWED_ORIGINS: join(corsAllowedOrigins, ',')
  API_DOCS_ENABLED: apiDocsEnabled ? 'true' : 'false'

  // Seats held for payment are released this long after they were taken (the seat-holds timer).
  PAYMENT_HOLD_HOURS: '48'
  // Stripe: STRIPE_API_URL stays unset (the SDK's own host, api.stripe.com); the secret key and the webhook signing
  // secret from Key Vault (see bicep/README.md: until both secrets are set, checkout and the webhook answer 503).
  STRIPE_SECRET_KEY: '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}stripe-secret-key)'
  STRIPE_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}stripe-webhook-secret)'
  STRIPE_WEBHOOK_TOLERANCE_S: '300'

  // AI question generation: the Azure OpenAI account and deployment when deployOpenAI, called with the identity
  // (no key); empty otherwise (no model: the generation routes answer 503).
  AZURE_OPENAI_ENDPOINT: openAIEndpoint
  AZURE_OPENAI_DEPLOYMENT: openAIDeployment
  AZURE_OPENAI_API_VERSION: '2024-10-21'
  AZURE_OPENAI_API_KEY: ''
  AZURE_OPENAI_CLIENT_ID: empty(openAIEndpoint) ? '' : identityClientId
  GENERATION_MAX_DOCUMENT_BYTES: '10485760'
  GENERATION_MAX_ITEMS: '20'
  GENERATION_RESEND_SCHEDULE: '45 * * * * *'

  // Timer schedules (6-field NCRONTAB, UTC). The host resolves %NAME% in the trigger registrations from
  // app settings, not from the schema's defaults, so each one must be set here.
  OUTBOX_SWEEP_SCHEDULE: '*/10 * * * * *'
  ATTEMPT_DEADLINES_SCHEDULE: '0 * * * * *'
  DUE_REMINDERS_SCHEDULE: '0 0 * * * *'
  FINANCE_REMINDERS_SCHEDULE: '0 0 * * * *'
  ATTENDANCE_ALERTS_SCHEDULE: '0 0 7 * * 1'
  EVALUATIONS_SCHEDULE: '0 */5 * * * *'
  WAITLIST_OFFERS_SCHEDULE: '0 */5 * * * *'
  SEAT_HOLDS_SCHEDULE: '0 */5 * * * *'
  ANNOUNCEMENTS_SCHEDULE: '0 * * * * *'
  HOUSEKEEPING_SCHEDULE: '0 30 3 * * *'
  WEBHOOK_RETRY_SCHEDULE: '0 * * * * *'
  EMAIL_RETRY_SCHEDULE: '0 * * * * *'
  CHANNEL_RETRY_SCHEDULE: '30 * * * * *'
  ANALYTICS_ROLLUP_SCHEDULE: '0 15 2 * * *'

  LOG_LEVEL: logLevel
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'false'
  // Self check-in codes rotate every this many seconds; a check-in this many minutes after the start is late.
  ATTENDANCE_CODE_PERIOD_SECONDS: '30'
  ATTENDANCE_LATE_AFTER_MINUTES: '10'
  // The most occurrences one weekly class rule may have.
  SCHEDULE_MAX_OCCURRENCES: '500'
  DISCUSSION_EDIT_WINDOW_MINUTES: '30'
  DISCUSSION_POSTS_PER_MINUTE: '10'
  DISCUSSION_DIGEST_SCHEDULE: '0 0 6 * * *'
  // Hours between a user's erasure request and the erasure (cancellable meanwhile).
  PRIVACY_ERASURE_GRACE_H: '72'
  // Invoice dunning: due-soon reminders this many days ahead; suspend enrollments this many days overdue (0: never).
  INVOICE_DUE_SOON_DAYS: '3'
  ENROLLMENT_SUSPEND_AFTER_DAYS: '0'
  // Leave applications: escalation and expiry of an undecided one (hours), how far back and how long a leave may be (days).
  LEAVE_ESCALATION_HOURS: '48'
  LEAVE_DECISION_HOURS: '168'
  LEAVE_MAX_PAST_DAYS: '7'
  LEAVE_MAX_DAYS: '90'
  // Keys that seal webhook signing secrets at rest (first seals, all open; rotate with POST /api/v1/ops/webhook-secrets/rotate).
  WEBHOOK_SECRET_KEYS: '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}webhook-secret-keys)'
  // Course evaluations: reminder lead (hours) and the answers needed before results show; the key of the anonymous
  // "answered" receipts (changing it forgets who answered open evaluations).
  EVALUATION_REMINDER_HOURS: '48'
  EVALUATION_MIN_RESPONSES: '5'
  EVALUATION_RECEIPT_KEY: '@Microsoft.KeyVault(SecretUri=${secretUriPrefix}evaluation-receipt-key)'
}

// Flex Consumption rejects these settings; an empty value means "not set" to the app, so it is left out.
var premiumOnlySettings = [
  'FUNCTIONS_EXTENSION_VERSION'
  'FUNCTIONS_WORKER_RUNTIME'
  'WEBSITE_RUN_FROM_PACKAGE'
]
var effectiveAppSettings = toObject(
  filter(items(appSettings), setting => !empty(setting.value) && (!isFlex || !contains(premiumOnlySettings, setting.key))),
  setting => setting.key,
  setting => setting.value
)

// Elastic Premium zone redundancy needs at least three always-ready instances (the plan's sku.capacity).
var premiumMinimumInstances = zoneRedundant ? max(3, elasticPremiumMinimumInstances) : elasticPremiumMinimumInstances

// Flex Consumption rejects the site-config properties that functionAppConfig replaced or that do not
// apply to it (BadRequest "... site configuration properties (Site.SiteConfig.FtpsState,
// Site.SiteConfig.LinuxFxVersion, Site.SiteConfig.FunctionAppScaleLimit, ...) for Flex Consumption sites is
// invalid"), even when sent as null: they are only added for Elastic Premium. FTP is off on Flex through the
// basic-publishing-credentials policy below.
var commonSiteConfig = {
  minTlsVersion: '1.2'
  scmMinTlsVersion: '1.2'
  http20Enabled: true
  // CORS is the app's (CORS_ALLOWED_ORIGINS, functions/platform/http/cors.ts), for every route and preflight.
  // The platform's CORS runs in front of the app and, once it lists any origin, answers preflights itself and
  // overwrites the app's Access-Control-* headers: two lists that could drift. An empty list switches it off.
  cors: {
    allowedOrigins: []
    supportCredentials: false
  }
}
var premiumSiteConfig = {
  ftpsState: 'Disabled'
  alwaysOn: false
  linuxFxVersion: 'Node|22'
  minimumElasticInstanceCount: premiumMinimumInstances
  functionAppScaleLimit: min(maximumInstanceCount, 100)
  healthCheckPath: servesHttp ? '/api/health' : null
}
// No HTTP triggers (the import worker): refuse every inbound request to the app's host. The SCM site keeps
// its own, open list so the deploy workflow can still ship code there (it authenticates with Entra ID).
var closedInboundSiteConfig = {
  ipSecurityRestrictionsDefaultAction: 'Deny'
  scmIpSecurityRestrictionsUseMain: false
  scmIpSecurityRestrictionsDefaultAction: 'Allow'
}
var siteConfig = union(commonSiteConfig, isFlex ? {} : premiumSiteConfig, servesHttp ? {} : closedInboundSiteConfig)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: elasticPremiumSku
    tier: 'ElasticPremium'
    capacity: premiumMinimumInstances
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
    maximumElasticWorkerCount: isFlex ? null : min(maximumInstanceCount, 100)
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the app of its service (azure.yaml: api, imports) by this tag.
  tags: union(tags, {
    'azd-service-name': azdServiceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityResourceId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    vnetRouteAllEnabled: isFlex ? null : !empty(subnetId)
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    } : null
    siteConfig: siteConfig
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: effectiveAppSettings
}

// No FTP and no basic-auth publishing: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// Elastic Premium: a "staging" slot for swap-based releases. It gets its own task hub (a sticky setting),
// so orchestrations started in one slot are never replayed by the other's code.
resource stagingSlot 'Microsoft.Web/sites/slots@2024-04-01' = if (!isFlex && enableStagingSlot) {
  parent: site
  name: 'staging'
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identityResourceId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    vnetRouteAllEnabled: !empty(subnetId)
    siteConfig: siteConfig
  }
}

resource stagingSlotSettings 'Microsoft.Web/sites/slots/config@2024-04-01' = if (!isFlex && enableStagingSlot) {
  parent: stagingSlot
  name: 'appsettings'
  properties: union(effectiveAppSettings, {
    DURABLE_TASK_HUB: '${durableTaskHubName}staging'
  })
}

resource stickySettings 'Microsoft.Web/sites/config@2024-04-01' = if (!isFlex && enableStagingSlot) {
  parent: site
  name: 'slotConfigNames'
  properties: {
    appSettingNames: [
      'DURABLE_TASK_HUB'
    ]
  }
}

// The deploy workflow ships code as a separate deploy principal (the app identity only runs migrations):
// Website Contributor on this app, nothing wider.
var websiteContributor = 'de139f84-1756-47ae-9be6-808fbbe84772'

resource deployRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployPrincipalId)) {
  name: guid(site.id, deployPrincipalId, websiteContributor)
  scope: site
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', websiteContributor)
    principalId: deployPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Function app name.')
output name string = site.name

@description('Default host name.')
output defaultHostName string = site.properties.defaultHostName

@description('Base URL of the app (the API is under /api).')
output url string = 'https://${site.properties.defaultHostName}'

@description('Resource id.')
output id string = site.id
