// Ringlet: one resource group per environment with everything the function app needs.
// Deploy:  az deployment sub create -l <region> -f bicep/main.bicep -p bicep/env/<env>.bicepparam
// or `azd up` (azure.yaml at the repo root, parameters from bicep/main.parameters.json).
// Every connection is identity-based: one user-assigned identity, no keys or connection strings.
targetScope = 'subscription'

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

@description('Environment name; also the suffix of the resource group rg-ringlet-<environmentName>.')
@allowed([
  'dev'
  'staging'
  'prod'
])
param environmentName string

@description('Azure region for every regional resource. Flex Consumption is available in a subset of regions.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Tags added to every resource.')
param tags object = {}

@description('The learner-facing web app\'s URL when it has a domain of its own (links in emails, CORS for the API and for direct browser uploads to Blob); the domain must be added to the Static Web Apps site. Empty: the site\'s own https URL.')
param publicAppUrl string = ''

@description('Region of the Static Web Apps site that serves the web app (the service runs in a few regions only; files are served from its global edge).')
@allowed([
  'westus2'
  'centralus'
  'eastus2'
  'westeurope'
  'eastasia'
])
param staticWebAppLocation string = 'westeurope'

@description('CORS_ALLOWED_ORIGINS beyond the web app\'s: further browser origins (scheme://host[:port]) allowed to call the API, answered by the app itself. The web app\'s origins (publicAppUrl\'s and the Static Web Apps site\'s own) are always allowed: the site calls the API cross-origin. Never \'*\' in staging or prod (a test checks their parameter files; the app refuses it outside local runs).')
param corsAllowedOrigins array = []

@description('API_DOCS_ENABLED: serve /api/docs and /api/openapi.json (off in staging and prod).')
param apiDocsEnabled bool = true

@description('PUBLIC_API_URL: the API\'s https base URL as callers see it, for links in emails to the API itself (one-click unsubscribe). Empty: the function app\'s default host name.')
param publicApiUrl string = ''

@description('Email address that receives alert notifications.')
param alertEmailAddress string

@description('GitHub repository "owner/name" whose deployment environments may sign in as the app identity (OIDC, to run migrations as the table owner). Empty: no federated credential.')
param githubRepository string = ''

@description('Object id of the deploy principal (the service principal the GitHub deploy workflow signs in as, vars.AZURE_CLIENT_ID there): Website Contributor on the function app, Contributor on the Static Web Apps site (its deployment token) and PostgreSQL firewall rules. Empty = none.')
param deployPrincipalId string = ''

@description('GitHub deployment environments trusted for this Azure environment (subject repo:<repo>:environment:<name>).')
param githubEnvironments array = [environmentName == 'prod' ? 'production' : environmentName]

// ---------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------

@description('FlexConsumption (FC1, scale to zero, no slots) or ElasticPremium (EP, pre-warmed, deployment slots).')
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

@description('Maximum instances the app scales out to (Flex: 40-1000; Elastic Premium caps it at 100).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Import worker (the second function app, APP_ROLE=import-worker, scaled by the bulk-imports queue): Flex Consumption instance memory in MB. An import holds one batch of rows at a time.')
@allowed([
  512
  2048
  4096
])
param importWorkerInstanceMemoryMB int = 512

@description('Import worker: maximum instances. Each instance keeps up to DATABASE_POOL_MAX PostgreSQL connections; a few instances already run several imports at once.')
@minValue(1)
@maxValue(100)
param importWorkerMaximumInstanceCount int = 10

@description('Enrichment worker (APP_ROLE=enrichment-worker, scaled by the item-analysis subscription): Flex Consumption instance memory in MB. A batch of grades is a few SQL statements.')
@allowed([
  512
  2048
  4096
])
param enrichmentWorkerInstanceMemoryMB int = 512

@description('Enrichment worker: maximum instances. Each keeps up to DATABASE_POOL_MAX PostgreSQL connections; the statistics rows of one assessment are locked per batch, so more instances mostly wait.')
@minValue(1)
@maxValue(100)
param enrichmentWorkerMaximumInstanceCount int = 10

@description('AI generator worker (APP_ROLE=generation-worker, scaled by the question-generation queue): Flex Consumption instance memory in MB. It holds an uploaded document\'s text and the model\'s answer.')
@allowed([
  512
  2048
  4096
])
param generationWorkerInstanceMemoryMB int = 2048

@description('AI generator worker: maximum instances. Each runs a job at a time against the model deployment\'s rate limit (429s put the job back), so a few instances suffice.')
@minValue(1)
@maxValue(100)
param generationWorkerMaximumInstanceCount int = 10

@description('Alert when a Service Bus queue (bulk-imports) never emptied over this window: a message has waited that long, so the import worker is not taking imports.')
@allowed([
  'PT15M'
  'PT30M'
  'PT1H'
])
param alertQueueWaitWindow string = 'PT30M'

@description('Flex Consumption always-ready instances for HTTP triggers (0 = scale to zero; cold starts possible).')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 0

@description('Elastic Premium SKU when hostingPlan is ElasticPremium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string = 'EP1'

@description('Elastic Premium: always-ready instances (at least 3 when zone redundant).')
@minValue(1)
@maxValue(20)
param elasticPremiumMinimumInstances int = 1

@description('Elastic Premium: create a "staging" deployment slot (swap-based releases).')
param enableStagingSlot bool = false

@description('Spread the app plan over availability zones (region must support it for the chosen plan).')
param functionAppZoneRedundant bool = false

@description('LOG_LEVEL of the app.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('DATABASE_POOL_MAX: PostgreSQL connections per function instance (instances × pool must stay below PgBouncer max_client_conn).')
@minValue(1)
@maxValue(100)
param databasePoolMax int = 5

@description('Create the first admin from the Key Vault secrets auth-bootstrap-admin-email / -password (they must exist before the app starts).')
param bootstrapAdminFromKeyVault bool = true

@description('AUTH_TWO_FACTOR_REQUIRED: who must sign in with a second factor (none, admins, or admins and course staff).')
@allowed([
  'none'
  'admins'
  'staff'
])
param authTwoFactorRequired string = 'none'

@description('AUTH_SESSION_MAX_AGE_H: hours after sign-in when a session ends however often it is refreshed (ASVS 3.3.2 level 2: 12).')
@minValue(1)
@maxValue(8760)
param authSessionMaxAgeHours int = 720

// ---------------------------------------------------------------------------
// Networking
// ---------------------------------------------------------------------------

@description('VNet integration for the app, private endpoints for Storage, Service Bus, Cosmos DB and Key Vault, and a VNet-injected PostgreSQL server. Forces Service Bus Premium.')
param enablePrivateNetworking bool = false

@description('Address space of the VNet when enablePrivateNetworking is true (a /16; subnets are carved from it).')
param vnetAddressPrefix string = '10.40.0.0/16'

@description('Operator public IPs (CIDR or single address) allowed through the Key Vault and PostgreSQL firewalls, e.g. for setting secrets and running migrations from outside Azure.')
param operatorIpAddresses array = []

// ---------------------------------------------------------------------------
// Data and messaging
// ---------------------------------------------------------------------------

@description('Storage redundancy for the host and the files accounts.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_LRS'

@description('Service Bus tier (topics need Standard or Premium; private endpoints need Premium).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Service Bus Premium messaging units.')
@allowed([
  1
  2
  4
  8
  16
])
param serviceBusPremiumCapacity int = 1

@description('Durable Task Scheduler SKU (Durable Functions backend; see bench/durable-backend.md): Consumption bills per action up to 500 actions/s, Dedicated reserves capacity units of 2,000 actions/s each.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Durable Task Scheduler capacity units (Dedicated SKU only; 3 for high availability).')
@minValue(1)
@maxValue(3)
param durableTaskSchedulerCapacity int = 1

@description('COSMOS_DATABASE: the Cosmos DB database of the activity and analytics containers.')
param cosmosDatabaseName string = 'ringlet'

@description('Cosmos DB serverless (pay per request, single region) instead of provisioned autoscale throughput.')
param cosmosServerless bool = true

@description('Provisioned mode: autoscale maximum RU/s shared by the database\'s containers.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 4000

@description('Provisioned mode: zone-redundant Cosmos DB replicas in the primary region.')
param cosmosZoneRedundant bool = false

@description('Provisioned mode: a secondary read region with automatic failover (empty = none).')
param cosmosSecondaryLocation string = ''

@description('PostgreSQL major version.')
@allowed([
  '16'
  '17'
])
param postgresVersion string = '17'

@description('PostgreSQL compute. Built-in PgBouncer needs General Purpose or Memory Optimized, so Burstable is not offered.')
param postgresSkuName string = 'Standard_D2ds_v5'

@description('PostgreSQL compute tier matching postgresSkuName.')
@allowed([
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'GeneralPurpose'

@description('PostgreSQL storage in GB (grows automatically).')
@allowed([
  32
  64
  128
  256
  512
  1024
])
param postgresStorageSizeGB int = 32

@description('PostgreSQL backup retention in days.')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('PostgreSQL geo-redundant backups (paired region).')
param postgresGeoRedundantBackup bool = false

@description('PostgreSQL zone-redundant high availability (standby in another zone).')
param postgresHighAvailability bool = false

@description('More Entra administrators of the PostgreSQL server (people or groups): [{ objectId, name, type: User|Group|ServicePrincipal }].')
param postgresAdditionalAdmins array = []

@description('Key Vault purge protection (cannot be turned off once on).')
param keyVaultPurgeProtection bool = false

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

// ---------------------------------------------------------------------------
// AI question generation
// ---------------------------------------------------------------------------

@description('Provision Azure OpenAI for the AI generator (an account, a model deployment, the apps\' identity as Cognitive Services OpenAI User). Off: no model, and the generation routes answer 503.')
param deployOpenAI bool = false

@description('Azure OpenAI model for question generation (it must support structured outputs).')
param openAIModelName string = 'gpt-4o'

@description('Version of openAIModelName.')
param openAIModelVersion string = '2024-08-06'

@description('Azure OpenAI deployment capacity, in thousands of tokens per minute.')
@minValue(1)
param openAICapacity int = 30

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

@description('EMAIL_TRANSPORT: acs provisions Azure Communication Services Email (Azure-managed domain); smtp reads the SMTP URL from the Key Vault secret email-smtp-url.')
@allowed([
  'acs'
  'smtp'
])
param emailTransport string = 'acs'

@description('SMS_FROM: the Communication Services phone number SMS go from (E.164). Numbers cannot be bought by Bicep: buy one in the portal (see README), then set it here; empty = SMS off (the phone routes answer 503).')
param smsFromNumber string = ''

@description('Read WEB_PUSH_VAPID_PUBLIC_KEY / _PRIVATE_KEY from Key Vault (secrets web-push-vapid-public-key and web-push-vapid-private-key); false = Web Push off.')
param webPushFromKeyVault bool = false

@description('WEB_PUSH_SUBJECT: the contact push services may write to (mailto: or https:); empty = the app default.')
param webPushSubject string = ''

// The Communication Services resource serves ACS email and SMS alike.
var acsDeployed = emailTransport == 'acs' || !empty(smsFromNumber)

@description('ACS data location.')
@allowed([
  'Africa'
  'Asia Pacific'
  'Australia'
  'Brazil'
  'Canada'
  'Europe'
  'France'
  'Germany'
  'India'
  'Japan'
  'Korea'
  'Norway'
  'Switzerland'
  'UAE'
  'UK'
  'United States'
])
param acsDataLocation string = 'Europe'

@description('EMAIL_FROM_ADDRESS; empty with ACS = DoNotReply@<the Azure-managed domain>.')
param emailFromAddress string = ''

@description('EMAIL_FROM_NAME.')
param emailFromName string = 'Ringlet'

// ---------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------

@description('Alert when more than this percentage of requests answer 5xx over 5 minutes.')
@minValue(1)
@maxValue(100)
param alertHttp5xxPercent int = 5

@description('Alert when the p95 request duration over 5 minutes exceeds this many milliseconds.')
@minValue(100)
param alertP95LatencyMs int = 2000

@description('Alert when the oldest unpublished outbox row is older than this many seconds.')
@minValue(30)
param alertOutboxAgeSeconds int = 300

// ---------------------------------------------------------------------------
// Names (AVM abbreviations + a token unique per subscription, environment and region)
// ---------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var envShort = {
  dev: 'dev'
  staging: 'stg'
  prod: 'prd'
}[environmentName]
var allTags = union(tags, {
  'azd-env-name': environmentName
  application: 'ringlet'
})
var isFlex = hostingPlan == 'FlexConsumption'
// Private endpoints for Service Bus exist only on Premium, so private networking decides the tier.
var effectiveServiceBusSku = enablePrivateNetworking ? 'Premium' : serviceBusSku
var names = {
  identity: 'id-ringlet-${environmentName}'
  functionApp: 'func-ringlet-${environmentName}-${resourceToken}'
  staticWebApp: 'stapp-ringlet-${environmentName}-${resourceToken}'
  plan: 'asp-ringlet-${environmentName}'
  // The host id is the first 32 characters of the app name, and both apps share the host storage
  // account: "-imports" comes before the token so the two ids differ.
  importWorkerApp: 'func-ringlet-${environmentName}-imports-${resourceToken}'
  importWorkerPlan: 'asp-ringlet-${environmentName}-imports'
  enrichmentWorkerApp: 'func-ringlet-${environmentName}-enrich-${resourceToken}'
  enrichmentWorkerPlan: 'asp-ringlet-${environmentName}-enrich'
  generationWorkerApp: 'func-ringlet-${environmentName}-generate-${resourceToken}'
  generationWorkerPlan: 'asp-ringlet-${environmentName}-generate'
  hostStorage: 'stfunc${resourceToken}'
  filesStorage: 'stfiles${resourceToken}'
  serviceBus: 'sbns-ringlet-${environmentName}-${resourceToken}'
  cosmos: 'cosmos-ringlet-${environmentName}-${resourceToken}'
  postgres: 'psql-ringlet-${environmentName}-${resourceToken}'
  keyVault: 'kv-${envShort}-${resourceToken}'
  logAnalytics: 'log-ringlet-${environmentName}'
  appInsights: 'appi-ringlet-${environmentName}'
  actionGroup: 'ag-ringlet-${environmentName}'
  vnet: 'vnet-ringlet-${environmentName}'
  communication: 'acs-ringlet-${environmentName}-${resourceToken}'
  emailService: 'ecs-ringlet-${environmentName}-${resourceToken}'
  durableTaskScheduler: 'dts-ringlet-${environmentName}-${resourceToken}'
  openAI: 'oai-ringlet-${environmentName}-${resourceToken}'
  durableTaskHub: 'ringlet${environmentName}'
  importWorkerTaskHub: 'ringlet${environmentName}imports'
  enrichmentWorkerTaskHub: 'ringlet${environmentName}enrichment'
  generationWorkerTaskHub: 'ringlet${environmentName}generation'
}
var postgresDatabaseName = 'ringlet'
// Flex Consumption pulls each app's package from its own container with the identity.
var deploymentContainerName = 'app-package'
var importWorkerDeploymentContainerName = 'app-package-imports'
var enrichmentWorkerDeploymentContainerName = 'app-package-enrichment'
var generationWorkerDeploymentContainerName = 'app-package-generation'
// Where the web app is: its own domain when given, else the Static Web Apps site's URL.
var webAppUrl = empty(publicAppUrl) ? staticWebApp.outputs.url : publicAppUrl
// The web app's origin (scheme://host[:port]): what browsers send as Origin, for Blob Storage's CORS rule.
var publicAppOrigin = join(take(split(webAppUrl, '/'), 3), '/')
// Containers of the files account, created by the storage module and passed to the app as
// BLOB_CONTAINER_COURSE_FILES / _SUBMISSIONS / _CERTIFICATES / _PRIVACY_EXPORTS (the settings schema's defaults).
var filesContainers = {
  courseFiles: 'course-files'
  submissions: 'submissions'
  certificates: 'certificates'
  privacyExports: 'privacy-exports'
  invoices: 'invoices'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-ringlet-${environmentName}'
  location: location
  tags: allTags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
    githubRepository: githubRepository
    githubEnvironments: githubEnvironments
  }
}

module network 'modules/network.bicep' = if (enablePrivateNetworking) {
  scope: rg
  name: 'network'
  params: {
    name: names.vnet
    location: location
    tags: allTags
    addressPrefix: vnetAddressPrefix
    functionSubnetDelegation: isFlex ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'
    postgresDnsZoneName: '${names.postgres}.private.postgres.database.azure.com'
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: allTags
    retentionInDays: logRetentionDays
  }
}

module hostStorage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage-host'
  params: {
    name: names.hostStorage
    location: location
    tags: allTags
    skuName: storageSku
    containers: [
      deploymentContainerName
      importWorkerDeploymentContainerName
      enrichmentWorkerDeploymentContainerName
      generationWorkerDeploymentContainerName
    ]
    corsAllowedOrigins: []
    // The host, Durable Functions and the deployment all reach it through the VNet when private.
    publicNetworkAccess: enablePrivateNetworking ? 'Disabled' : 'Enabled'
  }
}

// The web app, served by Static Web Apps (docs/architecture.md, "The web app"); it depends on nothing, so the
// function app and the files account can take its URL.
module staticWebApp 'modules/static-web-app.bicep' = {
  scope: rg
  name: 'static-web-app'
  params: {
    name: names.staticWebApp
    location: staticWebAppLocation
    tags: allTags
    deployPrincipalId: deployPrincipalId
  }
}

module filesStorage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage-files'
  params: {
    name: names.filesStorage
    location: location
    tags: allTags
    skuName: storageSku
    containers: [
      filesContainers.courseFiles
      filesContainers.submissions
      filesContainers.certificates
      filesContainers.privacyExports
      filesContainers.invoices
    ]
    // The site's own URL keeps working beside a custom domain: both may upload.
    corsAllowedOrigins: union([publicAppOrigin], [staticWebApp.outputs.url])
    // Browsers upload and download with short-lived user-delegation SAS URLs, so this account stays
    // reachable from the internet even with private networking (the app itself uses the private endpoint).
    publicNetworkAccess: 'Enabled'
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  scope: rg
  name: 'service-bus'
  params: {
    name: names.serviceBus
    location: location
    tags: allTags
    skuName: effectiveServiceBusSku
    premiumCapacity: serviceBusPremiumCapacity
    publicNetworkAccess: enablePrivateNetworking ? 'Disabled' : 'Enabled'
  }
}

module cosmos 'modules/cosmos.bicep' = {
  scope: rg
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: allTags
    databaseName: cosmosDatabaseName
    serverless: cosmosServerless
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    zoneRedundant: cosmosZoneRedundant
    secondaryLocation: cosmosSecondaryLocation
    publicNetworkAccess: enablePrivateNetworking ? 'Disabled' : 'Enabled'
  }
}

module keyVault 'modules/key-vault.bicep' = {
  scope: rg
  name: 'key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    enablePurgeProtection: keyVaultPurgeProtection
    restrictNetwork: enablePrivateNetworking
    operatorIpAddresses: operatorIpAddresses
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module postgres 'modules/postgres.bicep' = {
  scope: rg
  name: 'postgres'
  params: {
    name: names.postgres
    location: location
    tags: allTags
    version: postgresVersion
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    highAvailability: postgresHighAvailability
    databaseName: postgresDatabaseName
    appPrincipal: {
      objectId: identity.outputs.principalId
      name: identity.outputs.name
      type: 'ServicePrincipal'
    }
    additionalAdmins: postgresAdditionalAdmins
    delegatedSubnetId: enablePrivateNetworking ? network!.outputs.postgresSubnetId : ''
    privateDnsZoneId: enablePrivateNetworking ? network!.outputs.postgresDnsZoneId : ''
    operatorIpAddresses: operatorIpAddresses
    deployPrincipalId: deployPrincipalId
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module communication 'modules/communication.bicep' = if (acsDeployed) {
  scope: rg
  name: 'communication'
  params: {
    communicationServiceName: names.communication
    emailServiceName: names.emailService
    tags: allTags
    dataLocation: acsDataLocation
  }
}

module openAI 'modules/openai.bicep' = if (deployOpenAI) {
  scope: rg
  name: 'openai'
  params: {
    name: names.openAI
    location: location
    tags: allTags
    deploymentName: 'question-generation'
    modelName: openAIModelName
    modelVersion: openAIModelVersion
    capacity: openAICapacity
    principalId: identity.outputs.principalId
  }
}

module privateEndpoints 'modules/private-endpoints.bicep' = if (enablePrivateNetworking) {
  scope: rg
  name: 'private-endpoints'
  params: {
    location: location
    tags: allTags
    subnetId: network!.outputs.privateEndpointSubnetId
    endpoints: [
      {
        name: 'pe-${names.hostStorage}-blob'
        targetId: hostStorage.outputs.id
        groupId: 'blob'
        dnsZoneId: network!.outputs.dnsZoneIds.blob
      }
      {
        name: 'pe-${names.hostStorage}-queue'
        targetId: hostStorage.outputs.id
        groupId: 'queue'
        dnsZoneId: network!.outputs.dnsZoneIds.queue
      }
      {
        name: 'pe-${names.hostStorage}-table'
        targetId: hostStorage.outputs.id
        groupId: 'table'
        dnsZoneId: network!.outputs.dnsZoneIds.table
      }
      {
        name: 'pe-${names.filesStorage}-blob'
        targetId: filesStorage.outputs.id
        groupId: 'blob'
        dnsZoneId: network!.outputs.dnsZoneIds.blob
      }
      {
        name: 'pe-${names.serviceBus}'
        targetId: serviceBus.outputs.id
        groupId: 'namespace'
        dnsZoneId: network!.outputs.dnsZoneIds.serviceBus
      }
      {
        name: 'pe-${names.cosmos}'
        targetId: cosmos.outputs.id
        groupId: 'Sql'
        dnsZoneId: network!.outputs.dnsZoneIds.cosmos
      }
      {
        name: 'pe-${names.keyVault}'
        targetId: keyVault.outputs.id
        groupId: 'vault'
        dnsZoneId: network!.outputs.dnsZoneIds.keyVault
      }
    ]
  }
}

module durableTaskScheduler 'modules/durable-task-scheduler.bicep' = {
  scope: rg
  name: 'durable-task-scheduler'
  params: {
    name: names.durableTaskScheduler
    location: location
    tags: allTags
    taskHubName: names.durableTaskHub
    importWorkerTaskHubName: names.importWorkerTaskHub
    enrichmentWorkerTaskHubName: names.enrichmentWorkerTaskHub
    generationWorkerTaskHubName: names.generationWorkerTaskHub
    sku: durableTaskSchedulerSku
    capacity: durableTaskSchedulerCapacity
    principalId: identity.outputs.principalId
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  scope: rg
  name: 'role-assignments'
  params: {
    principalId: identity.outputs.principalId
    hostStorageName: hostStorage.outputs.name
    filesStorageName: filesStorage.outputs.name
    serviceBusName: serviceBus.outputs.name
    cosmosAccountName: cosmos.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    communicationServiceName: acsDeployed ? communication!.outputs.name : ''
  }
}

module functionApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app'
  // The host starts as soon as the site exists: give it its data-plane roles first (the Durable Task
  // Scheduler's comes with its module, which the endpoint below already waits for).
  dependsOn: [
    roleAssignments
    privateEndpoints
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: allTags
    appRole: 'main'
    hostingPlan: hostingPlan
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    elasticPremiumSku: elasticPremiumSku
    elasticPremiumMinimumInstances: elasticPremiumMinimumInstances
    enableStagingSlot: enableStagingSlot
    zoneRedundant: functionAppZoneRedundant
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityName: identity.outputs.name
    deployPrincipalId: deployPrincipalId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerUrl: '${hostStorage.outputs.blobEndpoint}${deploymentContainerName}'
    filesBlobEndpoint: filesStorage.outputs.blobEndpoint
    filesContainers: filesContainers
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopicName: serviceBus.outputs.topicName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    postgresHost: postgres.outputs.fqdn
    postgresDatabaseName: postgres.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    durableTaskHubName: durableTaskScheduler.outputs.taskHubName
    durableTaskSchedulerEndpoint: durableTaskScheduler.outputs.endpoint
    publicAppUrl: webAppUrl
    // The web app calls the API from the site's origin (and from its custom domain's): no linked backend.
    corsAllowedOrigins: union([publicAppOrigin], [staticWebApp.outputs.url], corsAllowedOrigins)
    apiDocsEnabled: apiDocsEnabled
    publicApiUrl: publicApiUrl
    emailTransport: emailTransport
    acsEndpoint: emailTransport == 'acs' ? communication!.outputs.endpoint : ''
    emailFromAddress: !empty(emailFromAddress) ? emailFromAddress : (emailTransport == 'acs' ? communication!.outputs.senderAddress : '')
    emailFromName: emailFromName
    smsEndpoint: !empty(smsFromNumber) ? communication!.outputs.endpoint : ''
    smsFromNumber: smsFromNumber
    webPushFromKeyVault: webPushFromKeyVault
    webPushSubject: webPushSubject
    logLevel: logLevel
    databasePoolMax: databasePoolMax
    bootstrapAdminFromKeyVault: bootstrapAdminFromKeyVault
    authTwoFactorRequired: authTwoFactorRequired
    authSessionMaxAgeHours: authSessionMaxAgeHours
    subnetId: enablePrivateNetworking ? network!.outputs.functionSubnetId : ''
    openAIEndpoint: deployOpenAI ? openAI!.outputs.endpoint : ''
    openAIDeployment: deployOpenAI ? openAI!.outputs.deploymentName : ''
  }
}

// The bulk-import worker: the same package with APP_ROLE=import-worker, so it registers only the
// bulk-imports queue trigger, the resend timer and the import orchestration with its activities. Its own
// plan scales it by the queue's depth apart from the API; its own task hub keeps the two apps'
// orchestrations apart. Same identity (so the same data-plane roles), same settings otherwise; no HTTP.
module importWorkerApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app-imports'
  dependsOn: [
    roleAssignments
    privateEndpoints
  ]
  params: {
    name: names.importWorkerApp
    planName: names.importWorkerPlan
    location: location
    tags: allTags
    appRole: 'import-worker'
    // A batch holds a few hundred rows: a 128 MB heap keeps the worker near 170 MB (bench/imports.ts), where V8
    // otherwise let garbage grow it past 350 MB; so it fits the 512 MB instances.
    nodeArguments: '--max-old-space-size=128'
    azdServiceName: 'imports'
    servesHttp: false
    hostingPlan: hostingPlan
    instanceMemoryMB: importWorkerInstanceMemoryMB
    maximumInstanceCount: importWorkerMaximumInstanceCount
    // Queue-triggered: nothing to keep warm for requests.
    alwaysReadyHttpInstances: 0
    elasticPremiumSku: elasticPremiumSku
    elasticPremiumMinimumInstances: 1
    enableStagingSlot: enableStagingSlot
    zoneRedundant: functionAppZoneRedundant
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityName: identity.outputs.name
    deployPrincipalId: deployPrincipalId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerUrl: '${hostStorage.outputs.blobEndpoint}${importWorkerDeploymentContainerName}'
    filesBlobEndpoint: filesStorage.outputs.blobEndpoint
    filesContainers: filesContainers
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopicName: serviceBus.outputs.topicName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    postgresHost: postgres.outputs.fqdn
    postgresDatabaseName: postgres.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    durableTaskHubName: durableTaskScheduler.outputs.importWorkerTaskHubName
    durableTaskSchedulerEndpoint: durableTaskScheduler.outputs.endpoint
    publicAppUrl: webAppUrl
    // No HTTP triggers: no CORS and no API documents.
    corsAllowedOrigins: []
    apiDocsEnabled: false
    // Links in the emails it sends (invitations, the import summary) point at the API app, not at itself.
    publicApiUrl: empty(publicApiUrl) ? '${functionApp.outputs.url}/api' : publicApiUrl
    emailTransport: emailTransport
    acsEndpoint: emailTransport == 'acs' ? communication!.outputs.endpoint : ''
    emailFromAddress: !empty(emailFromAddress) ? emailFromAddress : (emailTransport == 'acs' ? communication!.outputs.senderAddress : '')
    emailFromName: emailFromName
    smsEndpoint: !empty(smsFromNumber) ? communication!.outputs.endpoint : ''
    smsFromNumber: smsFromNumber
    webPushFromKeyVault: webPushFromKeyVault
    webPushSubject: webPushSubject
    logLevel: logLevel
    databasePoolMax: databasePoolMax
    bootstrapAdminFromKeyVault: bootstrapAdminFromKeyVault
    authTwoFactorRequired: authTwoFactorRequired
    authSessionMaxAgeHours: authSessionMaxAgeHours
    subnetId: enablePrivateNetworking ? network!.outputs.importWorkerSubnetId : ''
    // The model is the generation worker's alone.
    openAIEndpoint: ''
    openAIDeployment: ''
  }
}

// The enrichment worker: the same package with APP_ROLE=enrichment-worker, so it registers only the item-analysis
// subscription: a burst of published grades (a whole course graded at once) is applied here, scaled by that
// subscription's depth, and never shares a process with the API. Its own plan, task hub and subnet like the
// import worker's; no HTTP; no model.
module enrichmentWorkerApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app-enrichment'
  dependsOn: [
    roleAssignments
    privateEndpoints
  ]
  params: {
    name: names.enrichmentWorkerApp
    planName: names.enrichmentWorkerPlan
    location: location
    tags: allTags
    appRole: 'enrichment-worker'
    azdServiceName: 'enrichment'
    servesHttp: false
    hostingPlan: hostingPlan
    instanceMemoryMB: enrichmentWorkerInstanceMemoryMB
    maximumInstanceCount: enrichmentWorkerMaximumInstanceCount
    // Queue-triggered: nothing to keep warm for requests.
    alwaysReadyHttpInstances: 0
    elasticPremiumSku: elasticPremiumSku
    elasticPremiumMinimumInstances: 1
    enableStagingSlot: enableStagingSlot
    zoneRedundant: functionAppZoneRedundant
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityName: identity.outputs.name
    deployPrincipalId: deployPrincipalId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerUrl: '${hostStorage.outputs.blobEndpoint}${enrichmentWorkerDeploymentContainerName}'
    filesBlobEndpoint: filesStorage.outputs.blobEndpoint
    filesContainers: filesContainers
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopicName: serviceBus.outputs.topicName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    postgresHost: postgres.outputs.fqdn
    postgresDatabaseName: postgres.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    durableTaskHubName: durableTaskScheduler.outputs.enrichmentWorkerTaskHubName
    durableTaskSchedulerEndpoint: durableTaskScheduler.outputs.endpoint
    publicAppUrl: webAppUrl
    // No HTTP triggers: no CORS and no API documents.
    corsAllowedOrigins: []
    apiDocsEnabled: false
    // Links in the emails its events lead to point at the API app, not at itself.
    publicApiUrl: empty(publicApiUrl) ? '${functionApp.outputs.url}/api' : publicApiUrl
    emailTransport: emailTransport
    acsEndpoint: emailTransport == 'acs' ? communication!.outputs.endpoint : ''
    emailFromAddress: !empty(emailFromAddress) ? emailFromAddress : (emailTransport == 'acs' ? communication!.outputs.senderAddress : '')
    emailFromName: emailFromName
    smsEndpoint: !empty(smsFromNumber) ? communication!.outputs.endpoint : ''
    smsFromNumber: smsFromNumber
    webPushFromKeyVault: webPushFromKeyVault
    webPushSubject: webPushSubject
    logLevel: logLevel
    databasePoolMax: databasePoolMax
    bootstrapAdminFromKeyVault: bootstrapAdminFromKeyVault
    authTwoFactorRequired: authTwoFactorRequired
    authSessionMaxAgeHours: authSessionMaxAgeHours
    subnetId: enablePrivateNetworking ? network!.outputs.enrichmentWorkerSubnetId : ''
    // The model is the generation worker's alone.
    openAIEndpoint: ''
    openAIDeployment: ''
  }
}

// The AI generator worker: the same package with APP_ROLE=generation-worker, so it registers only the
// question-generation queue trigger and its generation-resend timer: a model call that takes a minute holds one of
// its instances, never the API's, and the queue's depth alone scales it. The only app that calls the model.
module generationWorkerApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app-generation'
  dependsOn: [
    roleAssignments
    privateEndpoints
  ]
  params: {
    name: names.generationWorkerApp
    planName: names.generationWorkerPlan
    location: location
    tags: allTags
    appRole: 'generation-worker'
    azdServiceName: 'generation'
    servesHttp: false
    hostingPlan: hostingPlan
    instanceMemoryMB: generationWorkerInstanceMemoryMB
    maximumInstanceCount: generationWorkerMaximumInstanceCount
    // Queue-triggered: nothing to keep warm for requests.
    alwaysReadyHttpInstances: 0
    elasticPremiumSku: elasticPremiumSku
    elasticPremiumMinimumInstances: 1
    enableStagingSlot: enableStagingSlot
    zoneRedundant: functionAppZoneRedundant
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityName: identity.outputs.name
    deployPrincipalId: deployPrincipalId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerUrl: '${hostStorage.outputs.blobEndpoint}${generationWorkerDeploymentContainerName}'
    filesBlobEndpoint: filesStorage.outputs.blobEndpoint
    filesContainers: filesContainers
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    serviceBusTopicName: serviceBus.outputs.topicName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    postgresHost: postgres.outputs.fqdn
    postgresDatabaseName: postgres.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    durableTaskHubName: durableTaskScheduler.outputs.generationWorkerTaskHubName
    durableTaskSchedulerEndpoint: durableTaskScheduler.outputs.endpoint
    publicAppUrl: webAppUrl
    // No HTTP triggers: no CORS and no API documents.
    corsAllowedOrigins: []
    apiDocsEnabled: false
    // Links in the emails its events lead to point at the API app, not at itself.
    publicApiUrl: empty(publicApiUrl) ? '${functionApp.outputs.url}/api' : publicApiUrl
    emailTransport: emailTransport
    acsEndpoint: emailTransport == 'acs' ? communication!.outputs.endpoint : ''
    emailFromAddress: !empty(emailFromAddress) ? emailFromAddress : (emailTransport == 'acs' ? communication!.outputs.senderAddress : '')
    emailFromName: emailFromName
    smsEndpoint: !empty(smsFromNumber) ? communication!.outputs.endpoint : ''
    smsFromNumber: smsFromNumber
    webPushFromKeyVault: webPushFromKeyVault
    webPushSubject: webPushSubject
    logLevel: logLevel
    databasePoolMax: databasePoolMax
    bootstrapAdminFromKeyVault: bootstrapAdminFromKeyVault
    authTwoFactorRequired: authTwoFactorRequired
    authSessionMaxAgeHours: authSessionMaxAgeHours
    subnetId: enablePrivateNetworking ? network!.outputs.generationWorkerSubnetId : ''
    // The model is called from here alone (the API app has the settings too: without them its routes answer 503).
    openAIEndpoint: deployOpenAI ? openAI!.outputs.endpoint : ''
    openAIDeployment: deployOpenAI ? openAI!.outputs.deploymentName : ''
  }
}

module alerts 'modules/alerts.bicep' = {
  scope: rg
  name: 'alerts'
  params: {
    environmentName: environmentName
    location: location
    tags: allTags
    actionGroupName: names.actionGroup
    alertEmailAddress: alertEmailAddress
    appInsightsId: monitoring.outputs.appInsightsId
    serviceBusId: serviceBus.outputs.id
    queueNames: serviceBus.outputs.queueNames
    queueWaitWindow: alertQueueWaitWindow
    importWorkerAppName: importWorkerApp.outputs.name
    enrichmentWorkerAppName: enrichmentWorkerApp.outputs.name
    generationWorkerAppName: generationWorkerApp.outputs.name
    http5xxPercent: alertHttp5xxPercent
    p95LatencyMs: alertP95LatencyMs
    outboxAgeSeconds: alertOutboxAgeSeconds
  }
}

module workbook 'modules/workbook.bicep' = {
  scope: rg
  name: 'workbook'
  params: {
    environmentName: environmentName
    location: location
    tags: allTags
    appInsightsId: monitoring.outputs.appInsightsId
  }
}

// ---------------------------------------------------------------------------
// Outputs: azd and the deploy workflow read these; the ones named like app settings carry the same value.
// ---------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_STATIC_WEB_APP_NAME string = staticWebApp.outputs.name
output AZURE_STATIC_WEB_APP_URL string = staticWebApp.outputs.url
output PUBLIC_APP_URL string = webAppUrl
output AZURE_IMPORT_WORKER_APP_NAME string = importWorkerApp.outputs.name
output AZURE_ENRICHMENT_WORKER_APP_NAME string = enrichmentWorkerApp.outputs.name
output AZURE_GENERATION_WORKER_APP_NAME string = generationWorkerApp.outputs.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_POSTGRES_HOST string = postgres.outputs.fqdn
output AZURE_POSTGRES_DATABASE string = postgres.outputs.databaseName
output AZURE_POSTGRES_USER string = identity.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output ServiceBusConnection__fullyQualifiedNamespace string = serviceBus.outputs.fullyQualifiedNamespace
output CosmosConnection__accountEndpoint string = cosmos.outputs.endpoint
output BlobStorage__serviceUri string = filesStorage.outputs.blobEndpoint
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.appInsightsConnectionString
