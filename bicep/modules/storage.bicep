// One StorageV2 account, keyless: shared-key access off (so no connection strings and no account SAS;
// user-delegation SAS still works), no anonymous blob access, TLS 1.2, Entra by default in the portal.
// Used twice: the host's account (Functions runtime, timers, Durable Functions on the Azure Storage
// provider, Flex deployment package) and the files account (course files, submissions, certificates).

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the account.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_LRS'

@description('Private blob containers to create.')
param containers array = []

@description('Origins allowed to call the blob service from a browser (direct uploads/downloads with SAS). Empty = no CORS.')
param corsAllowedOrigins array = []

@description('Enabled, or Disabled when only private endpoints may reach the account.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Days a deleted blob or container can be restored.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: deleteRetentionDays
    }
    cors: {
      corsRules: [
        for origin in (empty(corsAllowedOrigins) ? [] : [corsAllowedOrigins]): {
          allowedOrigins: origin
          allowedMethods: [
            'GET'
            'HEAD'
            'PUT'
            'OPTIONS'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
            'x-ms-blob-content-type'
            'x-ms-version'
            'x-ms-date'
          ]
          exposedHeaders: [
            'etag'
            'content-length'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

@description('Resource id.')
output id string = account.id

@description('Account name (AzureWebJobsStorage__accountName).')
output name string = account.name

@description('Blob endpoint with a trailing slash (BlobStorage__serviceUri).')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Queue endpoint.')
output queueEndpoint string = account.properties.primaryEndpoints.queue

@description('Table endpoint.')
output tableEndpoint string = account.properties.primaryEndpoints.table
