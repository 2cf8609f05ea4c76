import type { Platform } from "./platform.js";

export interface DependencyStatus {
  status: "up" | "down";
  latencyMs: number;
  error?: string;
}

type Check = () => Promise<void>;

async function timed(check: Check, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: "up", latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { status: "down", latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Probes every dependency in parallel, each bounded by the ready-check timeout. */
export async function checkDependencies(p: Platform): Promise<Record<string, DependencyStatus>> {
  const checks: Record<string, Check> = {
    postgres: async () => {
      await p.database.sql`select 1`;
    },
    // Any answer from the container proves the account is reachable and the credential accepted.
    blob: async () => {
      await p.blob.getContainerClient(p.settings.BLOB_CONTAINER_COURSE_FILES).exists();
    },
  };
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await timed(check, p.settings.READY_CHECK_TIMEOUT_MS)] as const),
  );
  return Object.fromEntries(entries);
}
