// Alerts that page someone: 5xx rate, p95 latency, dead-lettered messages, outbox backlog age, failed
// grading orchestrations, and for the import worker: a queue message dead-lettered or left waiting, and
// failed executions of the worker app. All notify one action group (an email receiver).
// Log alerts query Application Insights (requests, traces, customMetrics); the app writes one JSON object
// per log line, so trace fields are read with parse_json(message).

@description('Environment name, shown in alert names.')
param environmentName string

@description('Region of the log alert rules (the component\'s).')
param location string

@description('Resource tags.')
param tags object = {}

@description('Action group name.')
param actionGroupName string

@description('Email address notified by the action group.')
param alertEmailAddress string

@description('Application Insights component (scope of the log alerts).')
param appInsightsId string

@description('Service Bus namespace (scope of the dead-letter metric alert).')
param serviceBusId string

@description('Service Bus queues (bulk-imports), each watched for dead letters and for messages left waiting.')
param queueNames array = []

@description('A queue whose active message count never reached zero over this window alerts (ISO 8601: PT15M, PT30M, PT1H).')
param queueWaitWindow string = 'PT30M'

@description('The import worker function app (its telemetry\'s cloud_RoleName).')
param importWorkerAppName string

@description('The enrichment worker function app (its telemetry\'s cloud_RoleName).')
param enrichmentWorkerAppName string

@description('The AI generator worker function app (its telemetry\'s cloud_RoleName).')
param generationWorkerAppName string

@description('Alert above this percentage of 5xx responses.')
param http5xxPercent int = 5

@description('Alert above this p95 request duration in milliseconds.')
param p95LatencyMs int = 2000

@description('Alert when the oldest unpublished outbox row is older than this many seconds.')
param outboxAgeSeconds int = 300

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('ringlet-${environmentName}', 12)
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// Too few requests make a rate meaningless: the HTTP rules need at least 20 in the window.
var logAlerts = [
  {
    name: 'http-5xx-rate'
    description: 'More than ${http5xxPercent}% of requests answered 5xx in the last 5 minutes.'
    severity: 1
    query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total >= 20 | extend failedPercent = 100.0 * failed / total'
    measure: 'failedPercent'
    threshold: http5xxPercent
    frequency: 'PT5M'
    window: 'PT5M'
  }
  {
    name: 'http-p95-latency'
    description: 'The 95th percentile request duration exceeded ${p95LatencyMs} ms over the last 5 minutes.'
    severity: 2
    query: 'requests | summarize total = count(), p95 = percentile(duration, 95) | where total >= 20'
    measure: 'p95'
    threshold: p95LatencyMs
    frequency: 'PT5M'
    window: 'PT5M'
  }
  {
    // The relay reports its backlog as the custom metric ringlet.outbox.oldest_age_seconds and as a log
    // record (msg starting with "outbox", field oldestAgeSeconds); either source raises the alert.
    name: 'outbox-backlog-age'
    description: 'An outbox event has waited more than ${outboxAgeSeconds} s to be published: Service Bus unreachable or the sweep timer not running.'
    severity: 1
    query: 'union (customMetrics | where name == "ringlet.outbox.oldest_age_seconds" | project age = coalesce(valueMax, value)), (traces | extend j = parse_json(message) | where tostring(j.msg) startswith "outbox" | project age = todouble(j.oldestAgeSeconds)) | summarize ageSeconds = max(age)'
    measure: 'ageSeconds'
    threshold: outboxAgeSeconds
    frequency: 'PT5M'
    window: 'PT15M'
  }
  {
    // Every function execution of the worker app is a request record under its role name; bulkImport's
    // failures also show as Durable Functions tracking records (the import itself is then marked failed).
    name: 'import-worker-failures'
    description: 'The import worker app (${importWorkerAppName}) had failed executions: an import may have stopped; see GET /api/v1/imports/{id} and the worker\'s logs.'
    severity: 2
    query: 'union (requests | where cloud_RoleName =~ "${importWorkerAppName}" and success == false | project id), (traces | where tostring(customDimensions.Category) == "Host.Triggers.DurableTask" and tostring(customDimensions.prop__functionName) == "bulkImport" and tostring(customDimensions.prop__state) == "Failed" | project id = tostring(customDimensions.prop__instanceId)) | summarize failures = count()'
    measure: 'failures'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT5M'
  }
  {
    // Every delivery of the item-analysis subscription is a request record under the worker's role name; a
    // failed one is delivered again, then dead-lettered (the dead-letter alert above).
    name: 'enrichment-worker-failures'
    description: 'The enrichment worker app (${enrichmentWorkerAppName}) had failed executions: item statistics may lag; see the worker\'s logs and the item-analysis subscription\'s dead letters.'
    severity: 2
    query: 'requests | where cloud_RoleName =~ "${enrichmentWorkerAppName}" and success == false | summarize failures = count()'
    measure: 'failures'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT5M'
  }
  {
    // A generation job's model failures mark the job failed (not a failed execution); these are faults: the
    // database, Blob Storage or the model unreachable, the message delivered again.
    name: 'generation-worker-failures'
    description: 'The AI generator worker app (${generationWorkerAppName}) had failed executions: generation jobs may wait; see GET /api/v1/generation-jobs/{id} and the worker\'s logs.'
    severity: 2
    query: 'requests | where cloud_RoleName =~ "${generationWorkerAppName}" and success == false | summarize failures = count()'
    measure: 'failures'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT5M'
  }
  {
    // Durable Functions' own tracking records (Category Host.Triggers.DurableTask, state Failed) and the
    // orchestration spans of distributed tracing V2 (host.json) both name the orchestrator.
    name: 'grading-orchestration-failed'
    description: 'A gradeSubmission orchestration failed; the submission is not graded.'
    severity: 1
    query: 'union (traces | where tostring(customDimensions.Category) == "Host.Triggers.DurableTask" and tostring(customDimensions.prop__functionName) == "gradeSubmission" and tostring(customDimensions.prop__state) == "Failed" | project instanceId = tostring(customDimensions.prop__instanceId)), (requests | where name == "orchestration:gradeSubmission" and success == false | project instanceId = operation_Id) | summarize failures = count()'
    measure: 'failures'
    threshold: 0
    frequency: 'PT5M'
    window: 'PT5M'
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: {
    name: 'alert-ringlet-${environmentName}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: 'Ringlet ${environmentName}: ${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        appInsightsId
      ]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Maximum'
            metricMeasureColumn: alert.measure
            operator: 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

// A message landed in a dead-letter queue (max delivery count reached, or expired): list and replay
// it under /api/v1/ops/dead-letters.
resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-ringlet-${environmentName}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Service Bus holds dead-lettered messages.'
    severity: 2
    enabled: true
    scopes: [
      serviceBusId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'deadLettered'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

// Per queue (bulk-imports): a dead-lettered message is an import that will not start by itself (severity 1;
// replay it under /api/v1/ops/dead-letters), and a queue that never emptied over the window means no worker
// takes its messages (the trigger completes a message as soon as it has started the orchestration).
// Service Bus has no metric for a message's age, so "the minimum active count over the window stayed
// above zero" stands for it.
var queueAlerts = flatten(map(queueNames, queue => [
  {
    queue: queue
    name: 'queue-${queue}-dead-letters'
    description: 'The ${queue} queue holds dead-lettered messages.'
    severity: 1
    metricName: 'DeadletteredMessages'
    window: 'PT15M'
  }
  {
    queue: queue
    name: 'queue-${queue}-waiting'
    description: 'Messages have waited on the ${queue} queue for ${queueWaitWindow} or more: is the import worker running?'
    severity: 2
    metricName: 'ActiveMessages'
    window: queueWaitWindow
  }
]))

resource queueAlertRules 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for alert in queueAlerts: {
    name: 'alert-ringlet-${environmentName}-${alert.name}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        serviceBusId
      ]
      evaluationFrequency: 'PT5M'
      windowSize: alert.window
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            name: alert.metricName
            criterionType: 'StaticThresholdCriterion'
            metricNamespace: 'Microsoft.ServiceBus/namespaces'
            metricName: alert.metricName
            dimensions: [
              {
                name: 'EntityName'
                operator: 'Include'
                values: [
                  alert.queue
                ]
              }
            ]
            operator: 'GreaterThan'
            threshold: 0
            timeAggregation: alert.metricName == 'ActiveMessages' ? 'Minimum' : 'Maximum'
          }
        ]
      }
      autoMitigate: true
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

@description('Action group id.')
output actionGroupId string = actionGroup.id
