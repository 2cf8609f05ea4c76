// Key Vault for the app's secrets (JWT signing keys, bootstrap admin, SMTP URL). Access is Azure RBAC
// only; the app reads secrets through Key Vault references resolved with its identity.
// Bicep creates the vault, never the secret values: operators set them (see bicep/README.md).

@description('Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Region.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Purge protection: deleted secrets cannot be purged during the retention period. Cannot be turned off again.')
param enablePurgeProtection bool = false

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Deny public network access except operatorIpAddresses (private endpoint for the app).')
param restrictNetwork bool = false

@description('Operator IPs or CIDRs allowed when the network is restricted.')
param operatorIpAddresses array = []

@description('Log Analytics workspace for the audit log (who read which secret); empty = none.')
param logAnalyticsWorkspaceId string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // null rather than false: false is rejected once purge protection has been enabled.
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: restrictNetwork ? 'Deny' : 'Allow'
      ipRules: [
        for address in (restrictNetwork ? operatorIpAddresses : []): {
          value: address
        }
      ]
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Resource id.')
output id string = vault.id

@description('Vault name (AZURE_KEY_VAULT_NAME).')
output name string = vault.name

@description('Vault URI with a trailing slash, for secret URIs in Key Vault references.')
output vaultUri string = vault.properties.vaultUri
