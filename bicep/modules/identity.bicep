// The app's one user-assigned identity: the function app, its connections, Key Vault references,
// the PostgreSQL Entra principal and (through GitHub OIDC) the deploy workflow all use it.

@description('Identity name; also the PostgreSQL role name of the app (AZURE_POSTGRES_USER).')
param name string

@description('Region of the identity.')
param location string

@description('Resource tags.')
param tags object = {}

@description('GitHub repository "owner/name" trusted through OIDC; empty = no federated credentials.')
param githubRepository string = ''

@description('GitHub deployment environment names trusted to sign in as this identity.')
param githubEnvironments array = []

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

// Subjects are per GitHub environment (repo:<repo>:environment:<env>), so only a job bound to that
// environment (and its protection rules) can act as this identity, e.g. to run migrations as the table owner.
// The identity accepts one federated-credential write at a time: batch size 1.
@batchSize(1)
resource githubCredentials 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [
  for environment in (empty(githubRepository) ? [] : githubEnvironments): {
    parent: identity
    name: 'github-${environment}'
    properties: {
      issuer: 'https://token.actions.githubusercontent.com'
      subject: 'repo:${githubRepository}:environment:${environment}'
      audiences: [
        'api://AzureADTokenExchange'
      ]
    }
  }
]

@description('Resource id (for identity blocks and keyVaultReferenceIdentity).')
output resourceId string = identity.id

@description('Client (application) id: the *__clientId settings and AZURE_CLIENT_ID.')
output clientId string = identity.properties.clientId

@description('Object id of the service principal, for role assignments.')
output principalId string = identity.properties.principalId

@description('Identity name.')
output name string = identity.name
