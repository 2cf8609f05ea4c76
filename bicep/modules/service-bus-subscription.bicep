// One subscription of bicep/servicebus-entities.json with its filter rules (called by service-bus-topic.bicep).

@description('Namespace of the topic.')
param namespaceName string

@description('Topic of the subscription.')
param topicName string

@description('The subscription as written in the entity file: { name, lockDuration, maxDeliveryCount, deadLetteringOnMessageExpiration, rules: [{ name, correlation: { subject } } | { name, true: true }] }.')
param subscription object

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: namespaceName

  resource topic 'topics' existing = {
    name: topicName
  }
}

resource serviceBusSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: namespace::topic
  name: subscription.name
  properties: {
    lockDuration: subscription.?lockDuration
    // After this many failed deliveries a message goes to the dead-letter queue (ops can replay it).
    maxDeliveryCount: subscription.?maxDeliveryCount
    deadLetteringOnMessageExpiration: subscription.?deadLetteringOnMessageExpiration ?? false
    deadLetteringOnFilterEvaluationExceptions: true
    requiresSession: false
  }
}

// Service Bus gives every new subscription a "$Default" rule with a true filter, and drops it when
// another rule is added. So a "$Default" true rule in the file is already there and is not re-declared;
// any other true rule becomes the SQL filter 1=1; a correlation rule matches the message subject
// (ARM calls the subject "label").
var declaredRules = filter(subscription.rules, rule => !(rule.name == '$Default' && (rule[?'true'] ?? false)))

resource rules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for rule in declaredRules: {
    parent: serviceBusSubscription
    name: rule.name
    properties: contains(rule, 'correlation') ? {
      filterType: 'CorrelationFilter'
      correlationFilter: {
        label: rule.correlation.subject
      }
    } : {
      filterType: 'SqlFilter'
      sqlFilter: {
        sqlExpression: (rule[?'true'] ?? false) ? '1=1' : '1=0'
      }
    }
  }
]
