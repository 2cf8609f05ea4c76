// Entity declarations for the local Service Bus broker: the JSON file LOCAL_SERVICEBUS_ENTITIES names
// (queues; topics with subscriptions and rules), durations in ISO 8601, defaults as on Service Bus.
import { readFileSync } from "node:fs";

export interface CorrelationFilter {
  correlationId?: string;
  messageId?: string;
  to?: string;
  replyTo?: string;
  subject?: string;
  sessionId?: string;
  replyToSessionId?: string;
  contentType?: string;
  /** Application properties that must all be equal. */
  properties?: Record<string, unknown>;
}

export interface RuleDeclaration {
  name: string;
  correlation?: CorrelationFilter;
  /** `"true": true` is the TrueFilter (the `$Default` rule). */
  true?: boolean;
  /** `"false": true` is the FalseFilter. */
  false?: boolean;
  sql?: string;
}

export interface ReceivableDeclaration {
  name: string;
  lockDuration?: string;
  maxDeliveryCount?: number;
  deadLetteringOnMessageExpiration?: boolean;
  defaultMessageTimeToLive?: string;
}

export interface QueueDeclaration extends ReceivableDeclaration {
  requiresDuplicateDetection?: boolean;
  duplicateDetectionHistoryTimeWindow?: string;
}

export interface SubscriptionDeclaration extends ReceivableDeclaration {
  rules?: RuleDeclaration[];
}

export interface TopicDeclaration {
  name: string;
  requiresDuplicateDetection?: boolean;
  duplicateDetectionHistoryTimeWindow?: string;
  defaultMessageTimeToLive?: string;
  subscriptions?: SubscriptionDeclaration[];
}

export interface EntityDeclarations {
  queues?: QueueDeclaration[];
  topics?: TopicDeclaration[];
}

/** Settings of something messages can be received from (a queue, a subscription, a dead-letter queue). */
export interface ReceivableSettings {
  lockDurationMs: number;
  maxDeliveryCount: number;
  deadLetteringOnMessageExpiration: boolean;
  /** Undefined: messages live until their own TTL (or forever). */
  defaultTtlMs: number | undefined;
}

/** Settings of something messages are sent to (a queue or a topic). */
export interface SendableSettings {
  duplicateDetectionWindowMs: number | undefined;
  defaultTtlMs: number | undefined;
}

export const defaults = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  duplicateDetectionWindowMs: 10 * 60_000,
} as const;

/** Service Bus' "never" (TimeSpan.MaxValue and anything of ten thousand years or more). */
const practicallyForever = 10_000 * 365 * 24 * 3600 * 1000;

/** Parses an ISO 8601 duration (`PT1M`, `P14D`, `PT0.5S`, `P1DT2H`); years count 365 days, months 30. */
export function parseIsoDuration(text: string): number {
  const match = /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
    text.trim(),
  );
  if (!match || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) throw new Error(`'${text}' is not an ISO 8601 duration.`);
  const [y, mo, w, d, h, mi, s] = match.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as number[];
  const days = (y ?? 0) * 365 + (mo ?? 0) * 30 + (w ?? 0) * 7 + (d ?? 0);
  return Math.round((((days * 24 + (h ?? 0)) * 60 + (mi ?? 0)) * 60 + (s ?? 0)) * 1000);
}

function duration(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    const ms = parseIsoDuration(text);
    return ms >= practicallyForever ? undefined : ms;
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function receivableSettings(decl: ReceivableDeclaration, what: string, inheritedTtlMs?: number): ReceivableSettings {
  const own = duration(decl.defaultMessageTimeToLive, `${what} defaultMessageTimeToLive`);
  return {
    lockDurationMs: duration(decl.lockDuration, `${what} lockDuration`) ?? defaults.lockDurationMs,
    maxDeliveryCount: decl.maxDeliveryCount ?? defaults.maxDeliveryCount,
    // Service Bus' default is false.
    deadLetteringOnMessageExpiration: decl.deadLetteringOnMessageExpiration ?? false,
    defaultTtlMs: own === undefined ? inheritedTtlMs : inheritedTtlMs === undefined ? own : Math.min(own, inheritedTtlMs),
  };
}

export function sendableSettings(decl: QueueDeclaration | TopicDeclaration, what: string): SendableSettings {
  return {
    duplicateDetectionWindowMs: decl.requiresDuplicateDetection
      ? (duration(decl.duplicateDetectionHistoryTimeWindow, `${what} duplicateDetectionHistoryTimeWindow`) ?? defaults.duplicateDetectionWindowMs)
      : undefined,
    defaultTtlMs: duration(decl.defaultMessageTimeToLive, `${what} defaultMessageTimeToLive`),
  };
}

/** Reads and checks an entities file. */
export function loadEntityDeclarations(file: string): EntityDeclarations {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as EntityDeclarations;
  validateDeclarations(parsed, file);
  return parsed;
}

export function validateDeclarations(decl: EntityDeclarations, source = "entities"): void {
  const names = new Set<string>();
  const check = (name: unknown, what: string): void => {
    if (typeof name !== "string" || name === "") throw new Error(`${source}: a ${what} has no name.`);
    if (names.has(name.toLowerCase())) throw new Error(`${source}: '${name}' is declared twice.`);
    names.add(name.toLowerCase());
  };
  for (const q of decl.queues ?? []) {
    check(q.name, "queue");
    receivableSettings(q, `queue '${q.name}'`);
    sendableSettings(q, `queue '${q.name}'`);
  }
  for (const t of decl.topics ?? []) {
    check(t.name, "topic");
    sendableSettings(t, `topic '${t.name}'`);
    const subs = new Set<string>();
    for (const s of t.subscriptions ?? []) {
      if (typeof s.name !== "string" || s.name === "") throw new Error(`${source}: a subscription of '${t.name}' has no name.`);
      if (subs.has(s.name.toLowerCase())) throw new Error(`${source}: subscription '${t.name}/${s.name}' is declared twice.`);
      subs.add(s.name.toLowerCase());
      receivableSettings(s, `subscription '${t.name}/${s.name}'`);
      for (const r of s.rules ?? []) {
        if (r.sql !== undefined) throw new Error(`${source}: rule '${r.name}' of '${t.name}/${s.name}': SQL filters are not supported locally.`);
        if (!r.correlation && r.true !== true && r.false !== true) {
          throw new Error(`${source}: rule '${r.name}' of '${t.name}/${s.name}' needs "correlation", "true": true or "false": true.`);
        }
      }
    }
  }
}
