// staging: production-shaped where behaviour differs (zone-redundant storage, purge protection,
// longer backups), production-sized only where it is cheap. Deploys from the GitHub "staging" environment.
using '../main.bicep'

param environmentName = 'staging'
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param publicAppUrl = readEnvironmentVariable('RINGLET_PUBLIC_APP_URL', 'https://staging.ringlet.example')
param alertEmailAddress = readEnvironmentVariable('RINGLET_ALERT_EMAIL', 'ops@ringlet.example')
param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY', '')
// Object id of the service principal the deploy workflow signs in as (vars.AZURE_CLIENT_ID there).
param deployPrincipalId = readEnvironmentVariable('AZURE_DEPLOY_PRINCIPAL_ID', '')
param githubEnvironments = [
  'staging'
]

param hostingPlan = 'FlexConsumption'
param instanceMemoryMB = 2048
param maximumInstanceCount = 100
param alwaysReadyHttpInstances = 0
param functionAppZoneRedundant = false
param logLevel = 'info'
// The browsable API docs and the OpenAPI document stay off in production-facing environments.
param apiDocsEnabled = false
// Admins and course staff sign in with a second factor (TOTP), as in production.
param authTwoFactorRequired = 'staff'
// ASVS 4 level 2 (3.3.2): sign in again at least every 12 hours.
param authSessionMaxAgeHours = 12

param enablePrivateNetworking = false
param storageSku = 'Standard_ZRS'
param serviceBusSku = 'Standard'
param cosmosServerless = true

param postgresSkuName = 'Standard_D2ds_v5'
param postgresSkuTier = 'GeneralPurpose'
param postgresStorageSizeGB = 64
param postgresBackupRetentionDays = 14
param postgresGeoRedundantBackup = false
param postgresHighAvailability = false

param keyVaultPurgeProtection = true
param logRetentionDays = 30

param emailTransport = 'acs'
