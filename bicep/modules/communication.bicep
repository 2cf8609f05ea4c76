// Azure Communication Services Email (EMAIL_TRANSPORT=acs): an Email Communication Service with an
// Azure-managed sender domain, linked to a Communication Services resource the app reaches with its
// identity (EmailAcs__endpoint + EmailAcs__clientId). A custom domain can be linked later in the portal.

@description('Communication Services resource name (globally unique).')
param communicationServiceName string

@description('Email Communication Service name.')
param emailServiceName string

@description('Resource tags.')
param tags object = {}

@description('Where the data is stored at rest.')
param dataLocation string = 'Europe'

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      managedDomain.id
    ]
  }
}

@description('Resource id.')
output id string = communicationService.id

@description('Communication Services name (role assignment scope).')
output name string = communicationService.name

@description('Endpoint (EmailAcs__endpoint).')
output endpoint string = 'https://${communicationService.properties.hostName}'

@description('Sender address on the Azure-managed domain (default EMAIL_FROM_ADDRESS).')
output senderAddress string = 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
