// Azure OpenAI for the AI generator (deployOpenAI): an account with its own subdomain (Entra tokens need one) and
// local (key) auth disabled, one model deployment, and "Cognitive Services OpenAI User" for the apps' identity, so
// the app calls it with the managed identity (AZURE_OPENAI_API_KEY stays empty).

@description('Account name, also its custom subdomain (<name>.openai.azure.com).')
param name string

param location string
param tags object = {}

@description('Model deployment name (AZURE_OPENAI_DEPLOYMENT).')
param deploymentName string

@description('Model name, e.g. gpt-4o (must support structured outputs).')
param modelName string

@description('Model version, e.g. 2024-08-06.')
param modelVersion string

@description('Deployment SKU: GlobalStandard or Standard.')
@allowed([
  'GlobalStandard'
  'Standard'
])
param skuName string = 'GlobalStandard'

@description('Capacity in thousands of tokens per minute.')
@minValue(1)
param capacity int

@description('Principal id of the apps\' user-assigned identity.')
param principalId string

// Cognitive Services OpenAI User: call deployments (chat completions), nothing more.
var openAIUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource deployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: deploymentName
  sku: {
    name: skuName
    capacity: capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: modelName
      version: modelVersion
    }
  }
}

resource userRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, principalId, openAIUser)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAIUser)
  }
}

output endpoint string = account.properties.endpoint
output deploymentName string = deployment.name
