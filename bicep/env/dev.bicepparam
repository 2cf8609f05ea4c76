// dev: small and cheap. Scale to zero, serverless Cosmos DB, the smallest PostgreSQL that has PgBouncer,
// no high availability, public endpoints (Entra authentication everywhere, no keys).
using '../main.bicep'

param environmentName = 'dev'
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
// Empty: the Static Web Apps site's own URL.
param publicAppUrl = readEnvironmentVariable('RINGLET_PUBLIC_APP_URL', '')
param alertEmailAddress = readEnvironmentVariable('RINGLET_ALERT_EMAIL', 'ops@ringlet.example')
// GitHub Actions sets GITHUB_REPOSITORY (owner/name); elsewhere no federated credential is created.
param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY', '')
// Object id of the service principal the deploy workflow signs in as (vars.AZURE_CLIENT_ID there).
param deployPrincipalId = readEnvironmentVariable('AZURE_DEPLOY_PRINCIPAL_ID', '')
param githubEnvironments = [
  'dev'
]

param hostingPlan = 'FlexConsumption'
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
param alwaysReadyHttpInstances = 0
param functionAppZoneRedundant = false
param logLevel = 'debug'

param enablePrivateNetworking = false
param storageSku = 'Standard_LRS'
param serviceBusSku = 'Standard'
param cosmosServerless = true

param postgresSkuName = 'Standard_D2ds_v5'
param postgresSkuTier = 'GeneralPurpose'
param postgresStorageSizeGB = 32
param postgresBackupRetentionDays = 7
param postgresGeoRedundantBackup = false
param postgresHighAvailability = false

param keyVaultPurgeProtection = false
param logRetentionDays = 30

param emailTransport = 'acs'
param alertP95LatencyMs = 3000
