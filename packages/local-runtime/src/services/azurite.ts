// Azurite (Blob, Queue, Table) as child processes, for settings that say UseDevelopmentStorage=true.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { freePort, waitForPort } from "./ports.js";

export interface AzuriteOptions {
  /** A data directory, or "memory" for --inMemoryPersistence (the two cannot be combined). */
  location: string;
  /** 0 picks a free port. */
  blobPort: number;
  queuePort: number;
  tablePort: number;
  host?: string;
}

export interface AzuriteHandle {
  connectionString: string;
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  /** Process ids of the Azurite children (for orphan checks). */
  pids: number[];
  stop(): Promise<void>;
}

/** Azurite's well-known development account (public, documented by Microsoft). */
export const devAccountName = "devstoreaccount1";
export const devAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

type Service = "blob" | "queue" | "table";

function azuriteEntry(service: Service): string {
  // Resolve through the package so this works from dist/ and from any working directory.
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve("azurite/package.json"));
  return path.join(root, "dist", "src", service, "main.js");
}

export function developmentConnectionString(blobEndpoint: string, queueEndpoint: string, tableEndpoint: string): string {
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${devAccountName}`,
    `AccountKey=${devAccountKey}`,
    `BlobEndpoint=${blobEndpoint}`,
    `QueueEndpoint=${queueEndpoint}`,
    `TableEndpoint=${tableEndpoint}`,
  ].join(";") + ";";
}

function stopChild(child: ChildProcess, timeoutMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startAzurite(options: AzuriteOptions): Promise<AzuriteHandle> {
  const host = options.host ?? "127.0.0.1";
  const inMemory = options.location === "memory";
  if (!inMemory) mkdirSync(options.location, { recursive: true });
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopChild(c)));
  };

  const startOne = async (service: Service, requestedPort: number): Promise<string> => {
    const port = requestedPort === 0 ? await freePort(host) : requestedPort;
    const args = [
      azuriteEntry(service),
      `--${service}Host`, host,
      `--${service}Port`, String(port),
      ...(inMemory ? ["--inMemoryPersistence"] : ["--location", options.location]),
      "--disableTelemetry", "--silent", "--skipApiVersionCheck", "--loose",
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      await waitForPort(port, host, 15_000, () => child.exitCode === null);
    } catch (error) {
      throw new Error(`Azurite ${service} did not start: ${error instanceof Error ? error.message : ""} ${stderr}`.trim());
    }
    return `http://${host}:${port}/${devAccountName}`;
  };

  try {
    // The three services start in parallel; each is listening in well under a second.
    const [blobEndpoint, queueEndpoint, tableEndpoint] = await Promise.all([
      startOne("blob", options.blobPort),
      startOne("queue", options.queuePort),
      startOne("table", options.tablePort),
    ]);
    return {
      blobEndpoint,
      queueEndpoint,
      tableEndpoint,
      connectionString: developmentConnectionString(blobEndpoint, queueEndpoint, tableEndpoint),
      pids: children.map((c) => c.pid ?? 0),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
