import { outboxBacklog } from "../../domain/outbox/outbox-backlog.js";
import type { Platform } from "./platform.js";

export interface DependencyStatus {
  status: "up" | "down";
  latencyMs: number;
  error?: string;
}

export interface OutboxHealth {
  backlog: number;
  oldestAgeSeconds: number | null;
  publishPausedUntil: string | null;
  lastPublishError: string | null;
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
    // A read of the container's metadata: opening it is remembered after the first success, so on its own it
    // would keep saying "up" after the endpoint went away.
    cosmos: async () => {
      await (await p.activityContainer()).read();
    },
    // Opening a batch needs a live sender link to the topic: the namespace answers and accepts our credential.
    serviceBus: async () => {
      const sender = p.serviceBus().createSender(p.settings.SERVICEBUS_TOPIC);
      try {
        await sender.createMessageBatch();
      } finally {
        await sender.close().catch(() => undefined);
      }
    },
  };
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await timed(check, p.settings.READY_CHECK_TIMEOUT_MS)] as const),
  );
  return Object.fromEntries(entries);
}

/** The outbox backlog and the relay's state: shown by /api/ready, without deciding readiness by itself. */
export async function outboxHealth(p: Platform): Promise<OutboxHealth> {
  const backlog = await outboxBacklog(p.database.db);
  const relay = p.relay.status();
  return {
    backlog: backlog.size,
    oldestAgeSeconds: backlog.oldestCreatedAt ? Math.max(0, (p.clock().getTime() - backlog.oldestCreatedAt.getTime()) / 1000) : null,
    publishPausedUntil: relay.pausedUntil?.toISOString() ?? null,
    lastPublishError: relay.lastError,
  };
}
