// The app identity's data-plane roles, each on the one resource it is needed for (least privilege).
// Names are guid(scope, principal, role): redeploying finds the same assignment instead of a duplicate.

@description('Object id of the app identity.')
param principalId string

@description('Host storage account (Functions runtime, timers, Durable Functions).')
param hostStorageName string

@description('Files storage account (course files, submissions, certificates).')
param filesStorageName string

@description('Service Bus namespace.')
param serviceBusName string

@description('Cosmos DB account.')
param cosmosAccountName string

@description('Key Vault.')
param keyVaultName string

@description('Application Insights component.')
param appInsightsName string

@description('Communication Services resource; empty when email goes through SMTP.')
param communicationServiceName string = ''

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB data-plane role (not an Azure RBAC role): Built-in Data Contributor.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource filesStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: filesStorageName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Host storage: the Functions host keeps leases and timer state in blobs (Owner, as the host
// documentation requires for identity-based AzureWebJobsStorage), and Durable Functions' Azure Storage
// provider uses queues (control and work items) and tables (history and instances).
resource hostStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [
    roles.storageBlobDataOwner
    roles.storageQueueDataContributor
    roles.storageTableDataContributor
  ]: {
    name: guid(hostStorage.id, principalId, role)
    scope: hostStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Files: read and write blobs, and get user-delegation keys to sign the short-lived SAS URLs clients use.
resource filesStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [
    roles.storageBlobDataContributor
    roles.storageBlobDelegator
  ]: {
    name: guid(filesStorage.id, principalId, role)
    scope: filesStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Publish events (and replay dead letters), receive on the subscriptions (and peek dead letters).
resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [
    roles.serviceBusDataSender
    roles.serviceBusDataReceiver
  ]: {
    name: guid(serviceBus.id, principalId, role)
    scope: serviceBus
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, principalId, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Entra-authenticated telemetry ingestion (the component has local auth disabled).
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Items in the activity and analytics containers (read, write, query); no control-plane rights.
resource cosmosDataContributorAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: cosmos.id
  }
}

// Email and SMS: ACS authorizes Entra senders by these actions on the Communication Services resource (SMS needs
// only the CommunicationServices ones); no built-in role is narrower than "Communication and Email Service Owner",
// so a custom role carries just them. Assigned whenever the resource exists (ACS email, or smsFromNumber set).
resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = if (!empty(communicationServiceName)) {
  name: empty(communicationServiceName) ? 'none' : communicationServiceName
}

resource emailSenderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(communicationServiceName)) {
  name: guid(resourceGroup().id, 'ringlet-email-sender')
  properties: {
    // Role names are unique per tenant: the resource group name alone repeats across subscriptions.
    roleName: 'Ringlet email sender (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Send email through Azure Communication Services with an Entra identity.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource emailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(communicationServiceName)) {
  name: guid(resourceGroup().id, principalId, 'ringlet-email-sender')
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', emailSenderRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
