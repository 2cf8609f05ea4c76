// The operations workbook (Azure Monitor Workbooks) over Application Insights: API overview, course
// performance, learner progress, security events and system health. The definition lives in
// bicep/workbook/ringlet.workbook.json so it can be edited in the portal's Advanced Editor and pasted back.

@description('Environment name, shown in the workbook title.')
param environmentName string

@description('Region of the workbook resource.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Application Insights component the queries run against.')
param appInsightsId string

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // Workbook names must be GUIDs; derived from the component so redeploys update the same workbook.
  name: guid(appInsightsId, 'ringlet-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Ringlet operations (${environmentName})'
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: appInsightsId
    serializedData: replace(loadTextContent('../workbook/ringlet.workbook.json'), '__APP_INSIGHTS_ID__', appInsightsId)
  }
}

@description('Workbook resource id.')
output id string = workbook.id
