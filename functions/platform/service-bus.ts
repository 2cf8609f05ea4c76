import { DefaultAzureCredential } from "@azure/identity";
import { ServiceBusClient } from "@azure/service-bus";
import type { Settings } from "./settings.js";

/** A connection string locally (the local broker), the namespace with the managed identity in Azure. */
export function openServiceBus(s: Settings): ServiceBusClient {
  const options = { retryOptions: { maxRetries: 2, timeoutInMs: 10_000 } };
  if (s.ServiceBusConnection) return new ServiceBusClient(s.ServiceBusConnection, options);
  if (!s.ServiceBusConnection__fullyQualifiedNamespace) throw new Error("Service Bus settings were not validated");
  const credential = new DefaultAzureCredential(
    s.ServiceBusConnection__clientId ? { managedIdentityClientId: s.ServiceBusConnection__clientId } : {},
  );
  return new ServiceBusClient(s.ServiceBusConnection__fullyQualifiedNamespace, credential, options);
}
