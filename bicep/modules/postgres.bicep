// PostgreSQL flexible server, the system of record. Entra authentication only (no passwords); the app
// identity is an Entra administrator, so migrations run as it (deploy workflow) own the tables the app uses.
// The app connects through the built-in PgBouncer (port 6432, transaction pooling), because many
// function instances share one server.

@description('Server name (globally unique).')
param name string

@description('Region.')
param location string

@description('Resource tags.')
param tags object = {}

@description('Major version.')
@allowed([
  '16'
  '17'
])
param version string = '17'

@description('Compute size, e.g. Standard_D2ds_v5 (PgBouncer needs General Purpose or Memory Optimized).')
param skuName string

@description('Compute tier.')
@allowed([
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'GeneralPurpose'

@description('Storage in GB; grows automatically.')
param storageSizeGB int = 32

@description('Backup retention in days.')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 7

@description('Geo-redundant backups (can only be chosen when the server is created).')
param geoRedundantBackup bool = false

@description('Zone-redundant high availability: a hot standby in another availability zone.')
param highAvailability bool = false

@description('The application database.')
param databaseName string = 'ringlet'

@description('The app identity as Entra administrator: { objectId, name, type }.')
param appPrincipal object

@description('More Entra administrators: [{ objectId, name, type: User|Group|ServicePrincipal }].')
param additionalAdmins array = []

@description('Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (private access); empty = public access with firewall rules.')
param delegatedSubnetId string = ''

@description('Private DNS zone (*.postgres.database.azure.com) for private access.')
param privateDnsZoneId string = ''

@description('Operator IPs or CIDRs allowed through the firewall (public access only).')
param operatorIpAddresses array = []

@description('PgBouncer server connections per user/database pair.')
@minValue(1)
param pgbouncerDefaultPoolSize int = 50

@description('PgBouncer client connections (all function instances × DATABASE_POOL_MAX must fit).')
@minValue(100)
param pgbouncerMaxClientConnections int = 5000

@description('Object id of the deploy principal, allowed to open and close firewall rules for its runner during migrations; empty = none.')
param deployPrincipalId string = ''

@description('Log Analytics workspace for server logs and metrics; empty = none.')
param logAnalyticsWorkspaceId string = ''

var isPrivate = !empty(delegatedSubnetId)

// Applied one at a time: the server accepts one management operation at a time.
var serverParameters = [
  {
    name: 'pgbouncer.enabled'
    value: 'true'
  }
  {
    name: 'pgbouncer.pool_mode'
    value: 'TRANSACTION'
  }
  {
    name: 'pgbouncer.default_pool_size'
    value: string(pgbouncerDefaultPoolSize)
  }
  {
    name: 'pgbouncer.max_client_conn'
    value: string(pgbouncerMaxClientConnections)
  }
  {
    name: 'metrics.pgbouncer_diagnostics'
    value: 'on'
  }
  {
    name: 'require_secure_transport'
    value: 'on'
  }
]

// Public access: Azure-hosted callers (the function app without VNet integration) plus operators.
// "0.0.0.0-0.0.0.0" is Azure's convention for "allow Azure services"; authentication is still Entra only.
var azureServicesRule = [
  {
    name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
]
var operatorRules = [
  for (address, i) in operatorIpAddresses: {
    name: 'operator-${i}'
    startIpAddress: contains(address, '/') ? parseCidr(address).network : address
    endIpAddress: contains(address, '/') ? parseCidr(address).broadcast : address
  }
]
var firewallRules = isPrivate ? [] : concat(azureServicesRule, operatorRules)

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    createMode: 'Default'
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup ? 'Enabled' : 'Disabled'
    }
    highAvailability: {
      mode: highAvailability ? 'ZoneRedundant' : 'Disabled'
    }
    network: isPrivate ? {
      delegatedSubnetResourceId: delegatedSubnetId
      privateDnsZoneArmResourceId: privateDnsZoneId
      publicNetworkAccess: 'Disabled'
    } : {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// The administrator's name is the PostgreSQL role the app logs in as (AZURE_POSTGRES_USER).
resource appAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
  name: appPrincipal.objectId
  properties: {
    principalName: appPrincipal.name
    principalType: appPrincipal.type
    tenantId: tenant().tenantId
  }
}

@batchSize(1)
resource otherAdministrators 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = [
  for admin in additionalAdmins: {
    parent: server
    name: admin.objectId
    properties: {
      principalName: admin.name
      principalType: admin.type
      tenantId: tenant().tenantId
    }
    dependsOn: [
      appAdministrator
    ]
  }
]

@batchSize(1)
resource configurations 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = [
  for parameter in serverParameters: {
    parent: server
    name: parameter.name
    properties: {
      value: parameter.value
      source: 'user-override'
    }
    // Both: with no additional admins the loop is empty and would not hold this back behind appAdministrator.
    dependsOn: [
      appAdministrator
      otherAdministrators
    ]
  }
]

@batchSize(1)
resource firewall 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = [
  for rule in firewallRules: {
    parent: server
    name: rule.name
    properties: {
      startIpAddress: rule.startIpAddress
      endIpAddress: rule.endIpAddress
    }
    dependsOn: [
      configurations
    ]
  }
]

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  // Both: the firewall loop is empty on a private server.
  dependsOn: [
    configurations
    firewall
  ]
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: server
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// The deploy workflow opens the firewall for its runner's address while migrations run, then closes it:
// a custom role with just the firewall-rule actions, on this server only.
resource firewallOperatorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(deployPrincipalId)) {
  name: guid(resourceGroup().id, 'ringlet-postgres-firewall-operator')
  properties: {
    // Role names are unique per tenant: the resource group name alone repeats across subscriptions.
    roleName: 'Ringlet PostgreSQL firewall operator (${resourceGroup().name}, ${uniqueString(resourceGroup().id)})'
    description: 'Read the PostgreSQL flexible server and manage its firewall rules (temporary rules for migration runners).'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.DBforPostgreSQL/flexibleServers/read'
          'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/read'
          'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write'
          'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/delete'
        ]
        notActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

resource firewallOperator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployPrincipalId)) {
  name: guid(server.id, deployPrincipalId, 'ringlet-postgres-firewall-operator')
  scope: server
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', firewallOperatorRole.name)
    principalId: deployPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Host name (AZURE_POSTGRES_HOST); PgBouncer listens on port 6432.')
output fqdn string = server.properties.fullyQualifiedDomainName

@description('Server name.')
output name string = server.name

@description('Application database (AZURE_POSTGRES_DATABASE).')
output databaseName string = database.name
