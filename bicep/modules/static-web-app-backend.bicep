// Links the main function app to the Static Web Apps site as its backend: the site proxies /api/* (the whole
// path) to it. Separate from static-web-app.bicep to break the cycle: the function app needs the site's URL
// (PUBLIC_APP_URL), the link needs the function app; so site, then function app, then this link.

@description('Name of the Static Web Apps site.')
param siteName string

@description('Resource id of the function app to link.')
param backendResourceId string

@description('Region of the function app.')
param backendRegion string

resource site 'Microsoft.Web/staticSites@2023-12-01' existing = {
  name: siteName
}

resource backend 'Microsoft.Web/staticSites/linkedBackends@2023-12-01' = {
  parent: site
  name: 'api'
  properties: {
    backendResourceId: backendResourceId
    region: backendRegion
  }
}

@description('Name of the link.')
output name string = backend.name
