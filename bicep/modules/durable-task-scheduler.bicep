// Durable Functions' backend in Azure: a Durable Task Scheduler with one task hub per function app (the API
// app's and each worker's: two apps must never share a hub, or one would replay the other's
// orchestrations without their code), and the app identity's data-plane role on each hub. Why this backend and not Azure Storage, with the published limits it was sized
// from: bench/durable-backend.md. host.json's durableTask.storageProvider ("azureManaged") reads the
// connection from DURABLE_TASK_SCHEDULER_CONNECTION_STRING, which the function-app module builds from `endpoint`.

@description('Scheduler name: letters, digits and hyphens, 3-64 characters.')
@minLength(3)
@maxLength(64)
param name string

param location string

param tags object = {}

@description('Task hub name: the DURABLE_TASK_HUB the API app names in host.json.')
param taskHubName string

@description('Task hub of the import worker app (its DURABLE_TASK_HUB): letters and digits, not taskHubName.')
param importWorkerTaskHubName string

@description('Task hub of the enrichment worker app (its DURABLE_TASK_HUB): letters and digits, its own.')
param enrichmentWorkerTaskHubName string

@description('Task hub of the generation worker app (its DURABLE_TASK_HUB): letters and digits, its own.')
param generationWorkerTaskHubName string

@description('Consumption: billed per dispatched action, up to 500 actions/s. Dedicated: capacity units of up to 2,000 actions/s each.')
@allowed([
  'Consumption'
  'Dedicated'
])
param sku string = 'Consumption'

@description('Capacity units for the Dedicated SKU (3 for high availability); ignored for Consumption.')
@minValue(1)
@maxValue(3)
param capacity int = 1

@description('Object id of the app identity (Durable Task Data Contributor on the task hub).')
param principalId string

// Built-in role: Durable Task Data Contributor (start, query, raise events, and run orchestrations and activities).
var durableTaskDataContributor = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // Reachable by identity only (no keys exist); the allow list is the service's network filter.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
    sku: sku == 'Dedicated'
      ? {
          name: 'Dedicated'
          capacity: capacity
        }
      : {
          name: 'Consumption'
        }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
  properties: {}
}

resource importWorkerTaskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: importWorkerTaskHubName
  properties: {}
}

resource enrichmentWorkerTaskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: enrichmentWorkerTaskHubName
  properties: {}
}

resource generationWorkerTaskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: generationWorkerTaskHubName
  properties: {}
}

resource appRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(taskHub.id, principalId, durableTaskDataContributor)
  scope: taskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
  }
}

resource importWorkerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(importWorkerTaskHub.id, principalId, durableTaskDataContributor)
  scope: importWorkerTaskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
  }
}

resource enrichmentWorkerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(enrichmentWorkerTaskHub.id, principalId, durableTaskDataContributor)
  scope: enrichmentWorkerTaskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
  }
}

resource generationWorkerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(generationWorkerTaskHub.id, principalId, durableTaskDataContributor)
  scope: generationWorkerTaskHub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributor)
  }
}

output name string = scheduler.name
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
output importWorkerTaskHubName string = importWorkerTaskHub.name
output enrichmentWorkerTaskHubName string = enrichmentWorkerTaskHub.name
output generationWorkerTaskHubName string = generationWorkerTaskHub.name
