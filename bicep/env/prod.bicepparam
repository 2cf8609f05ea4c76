// prod: highly available. Always-ready instances (no cold start on the API), zones for the app plan,
// storage, Cosmos DB and PostgreSQL (hot standby), geo-redundant backups, Service Bus Premium,
// provisioned Cosmos DB with continuous backup. Deploys from the GitHub "production" environment.
//
// Private networking is off here on purpose: with it on, PostgreSQL is reachable only inside the VNet,
// so the deploy workflow's `npm run db:migrate` needs a runner in that VNet (see bicep/README.md).
// Set enablePrivateNetworking = true once such a runner exists.
using '../main.bicep'

param environmentName = 'prod'
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param publicAppUrl = readEnvironmentVariable('RINGLET_PUBLIC_APP_URL', 'https://app.ringlet.example')
param alertEmailAddress = readEnvironmentVariable('RINGLET_ALERT_EMAIL', 'ops@ringlet.example')
param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY', '')
// Object id of the service principal the deploy workflow signs in as (vars.AZURE_CLIENT_ID there).
param deployPrincipalId = readEnvironmentVariable('AZURE_DEPLOY_PRINCIPAL_ID', '')
param githubEnvironments = [
  'production'
]

param hostingPlan = 'FlexConsumption'
param instanceMemoryMB = 4096
param maximumInstanceCount = 200
param alwaysReadyHttpInstances = 2
param functionAppZoneRedundant = true
param logLevel = 'info'
// The browsable API docs and the OpenAPI document stay off in production-facing environments.
param apiDocsEnabled = false
param databasePoolMax = 5
// Admins and course staff sign in with a second factor (TOTP).
param authTwoFactorRequired = 'staff'
// ASVS 4 level 2 (3.3.2): sign in again at least every 12 hours.
param authSessionMaxAgeHours = 12

param enablePrivateNetworking = false
param storageSku = 'Standard_GZRS'
param serviceBusSku = 'Premium'
param serviceBusPremiumCapacity = 1

param cosmosServerless = false
param cosmosAutoscaleMaxThroughput = 4000
param cosmosZoneRedundant = true
param cosmosSecondaryLocation = readEnvironmentVariable('RINGLET_COSMOS_SECONDARY_LOCATION', '')

param postgresSkuName = 'Standard_D4ds_v5'
param postgresSkuTier = 'GeneralPurpose'
param postgresStorageSizeGB = 128
param postgresBackupRetentionDays = 35
param postgresGeoRedundantBackup = true
param postgresHighAvailability = true

param keyVaultPurgeProtection = true
param logRetentionDays = 90

param emailTransport = 'acs'
param alertHttp5xxPercent = 2
param alertP95LatencyMs = 1500
param alertOutboxAgeSeconds = 120
