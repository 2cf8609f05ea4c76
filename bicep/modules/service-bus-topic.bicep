// One topic of bicep/servicebus-entities.json and its subscriptions (called by service-bus.bicep).

@description('Namespace the topic belongs to.')
param namespaceName string

@description('The topic as written in the entity file: { name, requiresDuplicateDetection, duplicateDetectionHistoryTimeWindow, defaultMessageTimeToLive, subscriptions }.')
param topic object

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: namespaceName
}

resource serviceBusTopic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topic.name
  properties: {
    // The relay sends messageId = event id, so a re-sent event inside the window is dropped.
    requiresDuplicateDetection: topic.?requiresDuplicateDetection ?? false
    duplicateDetectionHistoryTimeWindow: topic.?duplicateDetectionHistoryTimeWindow
    defaultMessageTimeToLive: topic.?defaultMessageTimeToLive
  }
}

module subscriptions 'service-bus-subscription.bicep' = [
  for subscription in topic.subscriptions: {
    name: take('${deployment().name}-${subscription.name}', 64)
    params: {
      namespaceName: namespace.name
      topicName: serviceBusTopic.name
      subscription: subscription
    }
  }
]
