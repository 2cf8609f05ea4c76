// Cosmos DB (NoSQL) for high-volume, append-mostly data: learning activity statements and the
// per-course analytics read models. Keys are off (disableLocalAuth): the app uses Entra data-plane RBAC,
// which cannot create databases or containers, so they are created here, with the names and partition
// keys the app's createIfNotExists calls use locally (a test holds the two together).

@description('Account name (lowercase, globally unique).')
param name string

@description('Primary region.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Database name (setting COSMOS_DATABASE).')
param databaseName string = 'ringlet'

@description('Serverless (single region, pay per request) or provisioned autoscale throughput.')
param serverless bool = true

@description('Provisioned mode: autoscale maximum RU/s shared by the database\'s containers.')
@minValue(1000)
param autoscaleMaxThroughput int = 4000

@description('Provisioned mode: zone-redundant replicas in each region.')
param zoneRedundant bool = false

@description('Provisioned mode: secondary region with automatic failover; empty = none.')
param secondaryLocation string = ''

@description('Enabled, or Disabled when only private endpoints may reach the account.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

// defaultTtl -1: TTL on, nothing expires unless a document sets its own ttl (per-day activity markers
// in analytics expire after ~400 days that way). null: TTL off.
var containers = [
  {
    name: 'activity'
    partitionKeyPath: '/learnerId'
    defaultTtl: null
  }
  {
    name: 'analytics'
    partitionKeyPath: '/courseId'
    defaultTtl: -1
  }
]

var primaryRegion = {
  locationName: location
  failoverPriority: 0
  isZoneRedundant: !serverless && zoneRedundant
}
var secondaryRegion = {
  locationName: secondaryLocation
  failoverPriority: 1
  isZoneRedundant: zoneRedundant
}
// Serverless accounts are single-region.
var regions = (serverless || empty(secondaryLocation)) ? [primaryRegion] : [primaryRegion, secondaryRegion]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: regions
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    enableAutomaticFailover: !serverless && !empty(secondaryLocation)
    disableLocalAuth: true
    // Schema changes go through ARM (this file), never through data-plane keys.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    backupPolicy: serverless ? {
      type: 'Periodic'
      periodicModeProperties: {
        backupIntervalInMinutes: 240
        backupRetentionIntervalInHours: 8
        backupStorageRedundancy: 'Local'
      }
    } : {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    // Provisioned: one autoscale budget shared by the containers. Serverless takes no throughput.
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [
            container.partitionKeyPath
          ]
          kind: 'Hash'
          version: 2
        }
        defaultTtl: container.defaultTtl
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [
            {
              path: '/*'
            }
          ]
          excludedPaths: [
            {
              path: '/"_etag"/?'
            }
          ]
        }
      }
      options: {}
    }
  }
]

@description('Resource id.')
output id string = account.id

@description('Account name.')
output name string = account.name

@description('Document endpoint (CosmosConnection__accountEndpoint).')
output endpoint string = account.properties.documentEndpoint

@description('Database name (COSMOS_DATABASE).')
output databaseName string = database.name
