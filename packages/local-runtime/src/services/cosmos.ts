// A local Cosmos DB (SQL API) endpoint, in process, for settings that say UseDevelopmentCosmos=true.
// Served by @vercel/cosmosdb-server over HTTPS with its bundled self-signed certificate; data is in memory only.
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createHttpsServer } from "@vercel/cosmosdb-server";

export interface CosmosEndpointOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
}

export interface CosmosEndpoint {
  /** `https://<host>:<port>/` */
  endpoint: string;
  /** The well-known emulator key (the server does not check keys; SDKs still need one to sign requests). */
  key: string;
  /** `AccountEndpoint=https://<host>:<port>/;AccountKey=<key>;` */
  connectionString: string;
  port: number;
  stop(): Promise<void>;
}

/** The Cosmos DB emulator's well-known key (public, documented by Microsoft). */
export const cosmosEmulatorKey = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

/** The value that asks the runtime for a local endpoint. */
export const developmentCosmosValue = "UseDevelopmentCosmos=true";

/** Names of the settings whose value is exactly UseDevelopmentCosmos=true (blanks around it ignored). */
export function developmentCosmosSettings(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => env[name]?.trim() === developmentCosmosValue);
}

export function cosmosConnectionString(endpoint: string, key = cosmosEmulatorKey): string {
  return `AccountEndpoint=${endpoint};AccountKey=${key};`;
}

export async function startCosmosEndpoint(options: CosmosEndpointOptions): Promise<CosmosEndpoint> {
  const host = options.host ?? "127.0.0.1";
  // keepAlive: the server otherwise answers every request with `connection: close`, so each SDK call paid a
  // fresh TLS handshake on both sides (most of a request's CPU); Cosmos DB itself keeps connections open.
  const server: Server = createHttpsServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(options.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // The server names itself in the account's locations by the address it listens on; an IPv6 host needs brackets.
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const endpoint = `https://${urlHost}:${port}/`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Clients with keep-alive agents would otherwise hold the close open.
      server.closeAllConnections();
    });
    return stopped;
  };
  return { endpoint, key: cosmosEmulatorKey, connectionString: cosmosConnectionString(endpoint), port, stop };
}
