// The web app (web/, built to dist/web) on Azure Static Web Apps: files only, from a global edge. The app calls the
// main function app's API cross-origin (its URL is written into index.html by the deploy, and the function app
// allows the site's origin in CORS_ALLOWED_ORIGINS). No linked backend, on purpose (docs/architecture.md, "The
// web app"): the site's proxy replaces the Authorization header that carries the app's bearer token, and linking
// locks the function app to the site, which shuts out Stripe, one-click unsubscribe and every direct client.
// Content is published by the deploy workflow with the site's deployment token, not from a linked repository.
// Written without a Bicep compiler at hand: conservative properties only.

@description('Site name.')
param name string

@description('Region of the site\'s control plane (Static Web Apps has few; the files are served from the global edge anyway).')
@allowed([
  'westus2'
  'centralus'
  'eastus2'
  'westeurope'
  'eastasia'
])
param location string

@description('Resource tags.')
param tags object = {}

@description('Object id of the deploy principal (the GitHub deploy workflow): reads the site\'s deployment token. Empty = none.')
param deployPrincipalId string = ''

// Contributor on this one site: `az staticwebapp secrets list` (listSecrets) needs it; no narrower built-in role has it.
var contributor = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

resource site 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: tags
  // Standard: the SLA and production limits (Free has neither).
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // Published by the workflow (Azure/static-web-apps-deploy with the deployment token).
    provider: 'Custom'
    // staticwebapp.config.json (headers, fallback) is honoured from each upload.
    allowConfigFileUpdates: true
    // No preview environments: their origins are in no CORS list, so they could not call the API.
    stagingEnvironmentPolicy: 'Disabled'
  }
}

resource deployRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployPrincipalId)) {
  name: guid(site.id, deployPrincipalId, contributor)
  scope: site
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributor)
    principalId: deployPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Site name (az staticwebapp secrets list --name).')
output name string = site.name

@description('Default host name (<name>.<n>.azurestaticapps.net).')
output defaultHostname string = site.properties.defaultHostname

@description('The site\'s https URL, without a trailing slash.')
output url string = 'https://${site.properties.defaultHostname}'
