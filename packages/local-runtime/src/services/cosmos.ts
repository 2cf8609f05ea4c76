// A local Cosmos DB (SQL API) endpoint, in process, for settings that say UseDevelopmentCosmos=true.
// Served by @vercel/cosmosdb-server over HTTPS with its bundled self-signed certificate; data is in memory only.
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

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

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The self-signed certificate @vercel/cosmosdb-server ships and serves with. */
function packageCertificate(): { cert: Buffer; key: Buffer } {
  const require = createRequire(import.meta.url);
  return { cert: readFileSync(require.resolve("@vercel/cosmosdb-server/cert.pem")), key: readFileSync(require.resolve("@vercel/cosmosdb-server/key.pem")) };
}

/** The package's request handling, behind `listener`: its server names its account by the address it listens on. */
async function cosmosRequestHandler(listener: Server): Promise<RequestHandler> {
  const { createHttpsServer } = await import("@vercel/cosmosdb-server");
  // keepAlive: the server otherwise answers every request with `connection: close`, so each SDK call paid a
  // fresh TLS handshake on both sides (most of a request's CPU); Cosmos DB itself keeps connections open.
  const inner = createHttpsServer({ keepAlive: true });
  inner.address = () => listener.address();
  inner.emit("listening");
  return (req, res) => inner.emit("request", req, res);
}

export async function startCosmosEndpoint(options: CosmosEndpointOptions): Promise<CosmosEndpoint> {
  const host = options.host ?? "127.0.0.1";
  // The listener is ours, with the package's own certificate, and @vercel/cosmosdb-server is loaded at the first
  // request: importing it loads a query compiler (Babel), ~0.3 s of CPU that a runtime whose app never calls
  // Cosmos DB paid at every start. The package's server, which never listens, then answers each request.
  let handler: Promise<RequestHandler> | undefined;
  const server: Server = createServer({ ...packageCertificate(), minVersion: "TLSv1", keepAlive: true }, (req, res) => {
    handler ??= cosmosRequestHandler(server);
    handler.then(
      (handle) => handle(req, res),
      (error: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ message: `the local Cosmos DB endpoint could not start: ${String(error)}` }));
      },
    );
  });
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
