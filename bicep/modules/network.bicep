// Private networking (enablePrivateNetworking): one VNet with a subnet for each function app's
// VNet integration (the API app's and the import worker's: a plan integrates with a subnet no other plan
// uses), one for private endpoints and one delegated to PostgreSQL, plus the private DNS
// zones those endpoints register in.

@description('VNet name.')
param name string

@description('Region of the VNet.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Address space (a /16; subnets are /24s carved from it).')
param addressPrefix string

@description('Delegation of the app subnet: Microsoft.App/environments for Flex Consumption, Microsoft.Web/serverFarms for Elastic Premium.')
@allowed([
  'Microsoft.App/environments'
  'Microsoft.Web/serverFarms'
])
param functionSubnetDelegation string

@description('Private DNS zone of the VNet-injected PostgreSQL server (must end in .postgres.database.azure.com).')
param postgresDnsZoneName string

var subnetNames = {
  function: 'snet-func'
  importWorker: 'snet-func-imports'
  enrichmentWorker: 'snet-func-enrichment'
  generationWorker: 'snet-func-generation'
  privateEndpoints: 'snet-pe'
  postgres: 'snet-psql'
}

// Zones for the private endpoints; storage follows the cloud's suffix.
var dnsZoneNames = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  serviceBus: 'privatelink.servicebus.windows.net'
  cosmos: 'privatelink.documents.azure.com'
  keyVault: 'privatelink.vaultcore.azure.net'
}

// Default rules only: no inbound from the internet, and it satisfies "every subnet has an NSG" policies.
resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: subnetNames.function
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 0)
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'function-app'
              properties: {
                serviceName: functionSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: subnetNames.importWorker
        properties: {
          // After the three below, so their address ranges stay where they were.
          addressPrefix: cidrSubnet(addressPrefix, 24, 3)
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'function-app'
              properties: {
                serviceName: functionSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: subnetNames.enrichmentWorker
        properties: {
          // After the import worker's, so the ranges before it stay where they were.
          addressPrefix: cidrSubnet(addressPrefix, 24, 4)
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'function-app'
              properties: {
                serviceName: functionSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: subnetNames.generationWorker
        properties: {
          // After the enrichment worker's.
          addressPrefix: cidrSubnet(addressPrefix, 24, 5)
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'function-app'
              properties: {
                serviceName: functionSubnetDelegation
              }
            }
          ]
        }
      }
      {
        name: subnetNames.privateEndpoints
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 1)
          networkSecurityGroup: {
            id: nsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
      {
        name: subnetNames.postgres
        properties: {
          addressPrefix: cidrSubnet(addressPrefix, 24, 2)
          networkSecurityGroup: {
            id: nsg.id
          }
          delegations: [
            {
              name: 'postgres'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

resource privateLinkZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(dnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource privateLinkZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(dnsZoneNames): {
    parent: privateLinkZones[i]
    name: 'link-${name}'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource postgresZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: postgresDnsZoneName
  location: 'global'
  tags: tags
}

resource postgresZoneLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: postgresZone
  name: 'link-${name}'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnet.id
    }
  }
}

@description('Subnet of the function app\'s VNet integration.')
output functionSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.function)

@description('Subnet of the import worker app\'s VNet integration.')
output importWorkerSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.importWorker)

@description('Subnet of the enrichment worker app\'s VNet integration.')
output enrichmentWorkerSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.enrichmentWorker)

@description('Subnet of the generation worker app\'s VNet integration.')
output generationWorkerSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.generationWorker)

@description('Subnet of the private endpoints.')
output privateEndpointSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.privateEndpoints)

@description('Subnet delegated to PostgreSQL flexible server.')
output postgresSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, subnetNames.postgres)

@description('Private DNS zone of the PostgreSQL server.')
output postgresDnsZoneId string = postgresZone.id

@description('Private DNS zone ids by service: blob, queue, table, serviceBus, cosmos, keyVault.')
output dnsZoneIds object = toObject(items(dnsZoneNames), zone => zone.key, zone => resourceId('Microsoft.Network/privateDnsZones', zone.value))
