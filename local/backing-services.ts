// Starts the backing services the settings ask for, in parallel, and exports their settings to the app.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { hostLog } from './log.js';
import { startEmbeddedPostgres } from './services/postgres.js';
import { startAzurite } from './services/azurite.js';
import { isPortOpen } from './services/ports.js';
import { usesDevelopmentStorage } from './settings.js';

export interface RunningServices {
  stop(): Promise<void>;
}

/** Data that must survive restarts lives here; parents stay traversable so the "postgres" OS user can reach it. */
export function localDataDir(appRoot: string): string {
  const dir = path.join(appRoot, '.local-data');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

const azuritePorts = { blobPort: 10000, queuePort: 10001, tablePort: 10002 };

export async function startBackingServices(appRoot: string, databaseName: string, env: NodeJS.ProcessEnv = process.env): Promise<RunningServices> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  };
  const tasks: Promise<void>[] = [];

  if (!env.DATABASE_URL) {
    tasks.push(
      (async () => {
        const pg = await startEmbeddedPostgres({ dataDir: path.join(localDataDir(appRoot), 'postgres'), database: databaseName });
        stops.push(pg.stop);
        env.DATABASE_URL = pg.url;
        hostLog(`PostgreSQL ${pg.reused ? 'already running, reused' : 'started'}: ${pg.url.replace(/:[^:@/]*@/, ':***@')}`);
      })(),
    );
  }

  if (usesDevelopmentStorage(env)) {
    tasks.push(
      (async () => {
        // UseDevelopmentStorage=true means the fixed ports 10000-10002; a developer's own Azurite there is reused.
        if (await isPortOpen(azuritePorts.blobPort)) {
          hostLog('Azurite already listening on 127.0.0.1:10000, reused.');
          return;
        }
        const azurite = await startAzurite({ location: path.join(localDataDir(appRoot), 'azurite'), ...azuritePorts });
        stops.push(azurite.stop);
        hostLog(`Azurite started: ${azurite.blobEndpoint}, ${azurite.queueEndpoint}, ${azurite.tableEndpoint}`);
      })(),
    );
  }

  const results = await Promise.allSettled(tasks);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return { stop };
}
