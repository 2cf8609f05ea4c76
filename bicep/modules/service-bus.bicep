// Service Bus namespace and every entity of bicep/servicebus-entities.json, the same file the local
// broker creates its entities from: one source of names and settings (a test holds the mapping).
// Local auth (SAS keys) is off: senders and receivers authenticate with Entra ID.

@description('Namespace name.')
param name string

@description('Region of the namespace.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Standard, or Premium (isolated capacity, private endpoints, availability zones).')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Premium messaging units.')
@allowed([
  1
  2
  4
  8
  16
])
param premiumCapacity int = 1

@description('Enabled, or Disabled when only private endpoints may reach the namespace (Premium).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

var entities = loadJsonContent('../servicebus-entities.json')

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: skuName == 'Premium' ? premiumCapacity : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: publicNetworkAccess
  }
}

// Subscriptions and rules nest two levels below a topic; a module per topic (and per subscription)
// keeps each level a plain loop over the entity file.
module topics 'service-bus-topic.bicep' = [
  for topic in entities.topics: {
    name: take('${deployment().name}-topic-${topic.name}', 64)
    params: {
      namespaceName: namespace.name
      topic: topic
    }
  }
]

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in any(entities.queues): {
    parent: namespace
    name: queue.name
    properties: {
      lockDuration: queue.?lockDuration
      maxDeliveryCount: queue.?maxDeliveryCount
      deadLetteringOnMessageExpiration: queue.?deadLetteringOnMessageExpiration ?? false
      requiresDuplicateDetection: queue.?requiresDuplicateDetection ?? false
      duplicateDetectionHistoryTimeWindow: queue.?duplicateDetectionHistoryTimeWindow
      defaultMessageTimeToLive: queue.?defaultMessageTimeToLive
    }
  }
]

@description('Resource id.')
output id string = namespace.id

@description('Namespace name.')
output name string = namespace.name

@description('Host name of the namespace (ServiceBusConnection__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]

@description('Names of the queues (bulk-imports): the alerts watch each one.')
output queueNames array = [for queue in any(entities.queues): queue.name]

@description('The topic the app publishes to (SERVICEBUS_TOPIC).')
output topicName string = entities.topics[0].name
