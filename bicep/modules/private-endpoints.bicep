// Private endpoints (enablePrivateNetworking), each registered in its private DNS zone so the
// public host names (account.blob.core.windows.net, ...) resolve to private addresses inside the VNet.

@description('Region of the endpoints (the VNet\'s).')
param location string

@description('Resource tags.')
param tags object = {}

@description('Subnet the endpoints get their addresses from.')
param subnetId string

@description('Endpoints: [{ name, targetId, groupId, dnsZoneId }].')
param endpoints array

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: endpoint.name
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.targetId
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: replace(last(split(endpoint.dnsZoneId, '/')), '.', '-')
          properties: {
            privateDnsZoneId: endpoint.dnsZoneId
          }
        }
      ]
    }
  }
]
