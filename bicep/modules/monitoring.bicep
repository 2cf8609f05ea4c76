// Log Analytics and workspace-based Application Insights. Local (instrumentation-key) ingestion is off:
// the Functions host sends telemetry with the app identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING),
// which holds Monitoring Metrics Publisher on the component.

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param appInsightsName string

@description('Region.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Retention in days.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

@description('Workspace resource id (diagnostic settings).')
output logAnalyticsWorkspaceId string = workspace.id

@description('Application Insights resource id (alerts, workbook, role assignment).')
output appInsightsId string = appInsights.id

@description('Application Insights name.')
output appInsightsName string = appInsights.name

@description('APPLICATIONINSIGHTS_CONNECTION_STRING (not a secret: ingestion needs an Entra token).')
output appInsightsConnectionString string = appInsights.properties.ConnectionString
