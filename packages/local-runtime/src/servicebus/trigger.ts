// serviceBusTrigger functions, fed the way the Functions host's Service Bus extension does: peek-lock through
// the @azure/service-bus SDK (against the local broker or whatever the connection setting names), complete on
// success, abandon on a thrown error (so poison messages reach the dead-letter queue at max delivery count),
// host.json extensions.serviceBus maxConcurrentCalls / maxAutoLockRenewalDuration / autoCompleteMessages /
// maxMessageBatchSize, and the trigger metadata the extension gives a Node worker.
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { type RetryOptions, RetryMode, ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from "@azure/service-bus";
import { hostDebug, hostError, hostLog } from "../log.js";
import type { RpcTypedData } from "../core-types.js";
import type { RegisteredFunction } from "../function-host.js";
import type { InvokeRequest, Invoker } from "../invoke.js";
import type { TriggerModule } from "../trigger-module.js";
import { parseIsoDuration } from "./entities.js";

/** How long a partial batch waits for more messages once the stream pauses. */
const batchLingerMs = 20;

export interface ServiceBusHostOptions {
  maxConcurrentCalls: number;
  maxAutoLockRenewalDurationMs: number;
  autoCompleteMessages: boolean;
  maxMessageBatchSize: number;
  /** `clientRetryOptions`: how the clients retry, and so how soon a receiver reconnects after an outage. */
  retry: RetryOptions;
}

/** host.json `extensions.serviceBus`, with the extension's (v5) defaults. */
export function readServiceBusHostOptions(appRoot: string): ServiceBusHostOptions {
  const file = path.join(appRoot, "host.json");
  const json = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { extensions?: { serviceBus?: Record<string, unknown> } }) : {};
  const sb = json.extensions?.serviceBus ?? {};
  const number = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined);
  return {
    maxConcurrentCalls: number(sb.maxConcurrentCalls) ?? 16 * cpus().length,
    maxAutoLockRenewalDurationMs: typeof sb.maxAutoLockRenewalDuration === "string" ? timeSpanMs(sb.maxAutoLockRenewalDuration) : 5 * 60_000,
    autoCompleteMessages: sb.autoCompleteMessages !== false,
    maxMessageBatchSize: number(sb.maxMessageBatchSize) ?? 1000,
    retry: clientRetryOptions(typeof sb.clientRetryOptions === "object" && sb.clientRetryOptions !== null ? (sb.clientRetryOptions as Record<string, unknown>) : {}),
  };
}

/**
 * host.json `clientRetryOptions` with the extension's defaults (exponential, 0.8 s doubling to at most 1 min, 3
 * retries, 1 min per try). The JavaScript SDK's own defaults wait a fixed 30 s between tries, so a receiver
 * would stay away for up to half a minute after its broker came back, where the host is back within seconds.
 */
export function clientRetryOptions(o: Record<string, unknown>): RetryOptions {
  const span = (v: unknown, fallback: number): number => (typeof v === "string" ? timeSpanMs(v) : fallback);
  return {
    mode: String(o.mode ?? "exponential").toLowerCase() === "fixed" ? RetryMode.Fixed : RetryMode.Exponential,
    retryDelayInMs: span(o.delay, 800),
    maxRetryDelayInMs: span(o.maxDelay, 60_000),
    maxRetries: typeof o.maxRetries === "number" && Number.isInteger(o.maxRetries) && o.maxRetries >= 0 ? o.maxRetries : 3,
    timeoutInMs: span(o.tryTimeout, 60_000),
  };
}

/** A .NET TimeSpan (`[d.]hh:mm:ss[.fff]`) or an ISO 8601 duration, in milliseconds. */
export function timeSpanMs(text: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(text.trim());
  if (m) return Math.round((((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000);
  return parseIsoDuration(text);
}

interface TriggerEntry {
  fn: RegisteredFunction;
  connectionString: string;
  queueName: string | undefined;
  topicName: string | undefined;
  subscriptionName: string | undefined;
  many: boolean;
  binary: boolean;
}

export class ServiceBusTriggerModule implements TriggerModule {
  readonly triggerType = "serviceBusTrigger";
  readonly #entries = new Map<string, TriggerEntry>();
  readonly #clients = new Map<string, ServiceBusClient>();
  readonly #receivers: ServiceBusReceiver[] = [];
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(
    private readonly invoker: Invoker,
    private readonly options: ServiceBusHostOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Registers an enabled function with its resolved trigger; a missing setting puts only it in error. */
  add(fn: RegisteredFunction, resolved: Record<string, unknown>): boolean {
    const connection = typeof resolved.connection === "string" && resolved.connection !== "" ? resolved.connection : "AzureWebJobsServiceBus";
    const connectionString = this.env[connection] ?? this.env[`ConnectionStrings:${connection}`];
    const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
    const queueName = str(resolved.queueName);
    const topicName = str(resolved.topicName);
    const subscriptionName = str(resolved.subscriptionName);
    let problem: string | undefined;
    if (!connectionString) problem = `the connection setting '${connection}' is missing or empty (identity-based connections are not supported locally).`;
    else if (!queueName && !(topicName && subscriptionName)) problem = "it needs queueName, or topicName and subscriptionName.";
    else if (resolved.isSessionsEnabled === true) problem = "session-enabled triggers are not supported locally.";
    if (problem) {
      hostError(`The '${fn.name}' function is in error: ${problem}`);
      return false;
    }
    this.#entries.set(fn.name, {
      fn,
      connectionString: connectionString as string,
      queueName,
      topicName,
      subscriptionName,
      many: String(resolved.cardinality ?? "one").toLowerCase() === "many",
      binary: String(resolved.dataType ?? "").toLowerCase() === "binary",
    });
    return true;
  }

  describe(fn: RegisteredFunction): string {
    const entry = this.#entries.get(fn.name);
    const t = fn.trigger as Record<string, unknown>;
    const where = entry
      ? (entry.queueName ?? `${entry.topicName}/${entry.subscriptionName}`)
      : String(t.queueName ?? `${String(t.topicName)}/${String(t.subscriptionName)}`);
    return `serviceBusTrigger (${where})`;
  }

  adminInvocation(fn: RegisteredFunction, input: unknown): InvokeRequest {
    return { inputData: [{ name: fn.triggerName, data: { string: typeof input === "string" ? input : JSON.stringify(input) } }] };
  }

  async start(): Promise<void> {
    for (const entry of this.#entries.values()) {
      let client = this.#clients.get(entry.connectionString);
      if (!client) {
        client = new ServiceBusClient(entry.connectionString, { retryOptions: this.options.retry });
        this.#clients.set(entry.connectionString, client);
      }
      const receiverOptions = {
        receiveMode: "peekLock" as const,
        skipParsingBodyAsJson: true,
        maxAutoLockRenewalDurationInMs: this.options.maxAutoLockRenewalDurationMs,
      };
      const receiver = entry.queueName
        ? client.createReceiver(entry.queueName, receiverOptions)
        : client.createReceiver(entry.topicName as string, entry.subscriptionName as string, receiverOptions);
      this.#receivers.push(receiver);
      if (entry.many) this.#pollBatches(entry, receiver);
      else this.#subscribe(entry, receiver);
    }
  }

  #subscribe(entry: TriggerEntry, receiver: ServiceBusReceiver): void {
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          if (this.#stopped) {
            await receiver.abandonMessage(message).catch(() => undefined);
            return;
          }
          await this.#track(this.#invokeAndSettle(entry, receiver, [message]));
        },
        processError: async (args) => {
          if (this.#stopped) return;
          hostError(`Service Bus trigger '${entry.fn.name}' (${args.errorSource}): ${args.error.message}`);
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.options.maxConcurrentCalls },
    );
    this.#closers.push(() => subscription.close());
  }

  /**
   * Batches (cardinality many) from the SDK's streaming receiver: messages collect as they arrive and go to the
   * function when maxMessageBatchSize are there or batchLingerMs after the first, like the extension's
   * batch receive, which hands over what is available rather than waiting to fill a batch. The SDK's
   * `receiveMessages` would wait up to a second after the first message for a batch to fill. The receiver keeps
   * one batch's worth of credit, renews the locks of everything it holds (maxAutoLockRenewalDuration), and the
   * next batch is taken while this one is settled.
   */
  #pollBatches(entry: TriggerEntry, receiver: ServiceBusReceiver): void {
    let pending: { message: ServiceBusReceivedMessage; done: () => void }[] = [];
    let linger: NodeJS.Timeout | undefined;
    const flush = (): void => {
      if (linger) clearTimeout(linger);
      linger = undefined;
      const batch = pending;
      pending = [];
      if (batch.length === 0) return;
      const settled = this.#track(this.#invokeAndSettle(entry, receiver, batch.map((b) => b.message)));
      void settled.finally(() => {
        for (const b of batch) b.done();
      });
    };
    const subscription = receiver.subscribe(
      {
        processMessage: (message) =>
          new Promise<void>((done) => {
            if (this.#stopped) {
              receiver.abandonMessage(message).catch(() => undefined).finally(done);
              return;
            }
            pending.push({ message, done });
            if (pending.length >= this.options.maxMessageBatchSize) flush();
            else linger ??= setTimeout(flush, batchLingerMs);
          }),
        processError: async (args) => {
          if (this.#stopped) return;
          hostError(`Service Bus trigger '${entry.fn.name}' (${args.errorSource}): ${args.error.message}`);
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.options.maxMessageBatchSize },
    );
    this.#closers.push(async () => {
      flush();
      await subscription.close();
    });
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  async #invokeAndSettle(entry: TriggerEntry, receiver: ServiceBusReceiver, messages: ServiceBusReceivedMessage[]): Promise<void> {
    const request = entry.many ? batchRequest(entry, messages) : singleRequest(entry, messages[0] as ServiceBusReceivedMessage);
    let failed = false;
    try {
      await this.invoker.invoke(entry.fn.name, request);
    } catch {
      failed = true; // the invoker logged it
    }
    if (!failed && !this.options.autoCompleteMessages) return;
    // Settled together: one disposition per message, all in flight at once (the SDK pipelines them on the link).
    const outcomes = await Promise.allSettled(messages.map((message) => (failed ? receiver.abandonMessage(message) : receiver.completeMessage(message))));
    const errors = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
    // A function may settle a message of its batch itself (e.g. dead-letter a poison message by lock token);
    // completing the rest then finds that one gone. Not a fault of the host.
    const unexpected = errors.filter((error) => failed || !isLockLost(error));
    if (errors.length > unexpected.length) hostDebug(`Service Bus trigger '${entry.fn.name}': ${errors.length - unexpected.length} message(s) were already settled by the function`);
    // One line per batch, not one per message: a lost connection must not turn into an error storm.
    if (unexpected.length > 0) {
      const first = unexpected[0];
      hostError(`Service Bus trigger '${entry.fn.name}': settling ${unexpected.length} of ${messages.length} message(s) failed: ${first instanceof Error ? first.message : String(first)}`);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // Invocations under way finish and settle first (bounded), then the links close.
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await Promise.allSettled(this.#closers.map((close) => close()));
    await Promise.allSettled(this.#receivers.map((r) => r.close()));
    await Promise.allSettled([...this.#clients.values()].map((c) => c.close()));
    if (this.#entries.size > 0) hostLog("Service Bus triggers stopped.");
  }
}

function singleRequest(entry: TriggerEntry, message: ServiceBusReceivedMessage): InvokeRequest {
  const metadata = messageMetadata(message);
  const triggerMetadata: Record<string, RpcTypedData> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    triggerMetadata[key] = typeof value === "string" ? { string: value } : { json: JSON.stringify(value) };
  }
  return {
    inputData: [{ name: entry.fn.triggerName, data: bodyData(message.body, entry.binary) }],
    triggerMetadata,
    reason: `New ServiceBus message detected on '${entry.queueName ?? `${entry.topicName}/Subscriptions/${entry.subscriptionName}`}'.`,
  };
}

function batchRequest(entry: TriggerEntry, messages: ServiceBusReceivedMessage[]): InvokeRequest {
  const bodies = messages.map((m) => bodyData(m.body, entry.binary));
  const data: RpcTypedData = bodies.every((b) => b.bytes)
    ? { collectionBytes: { bytes: bodies.map((b) => b.bytes as Uint8Array) } }
    : { collectionString: { string: bodies.map((b) => b.string ?? b.json ?? Buffer.from(b.bytes ?? []).toString("utf8")) } };
  const all = messages.map(messageMetadata);
  const triggerMetadata: Record<string, RpcTypedData> = {};
  const keys = new Set(all.flatMap((m) => Object.keys(m)));
  for (const key of keys) triggerMetadata[`${key}Array`] = { json: JSON.stringify(all.map((m) => m[key] ?? null)) };
  return {
    inputData: [{ name: entry.fn.triggerName, data }],
    triggerMetadata,
    reason: `New ServiceBus message batch detected on '${entry.queueName ?? `${entry.topicName}/Subscriptions/${entry.subscriptionName}`}'.`,
  };
}

/**
 * The message body as the host hands it to a Node worker: text (UTF-8) for byte bodies, which the library
 * JSON-parses when it can; bytes only for `dataType: 'binary'` or bodies that are not valid UTF-8.
 */
function bodyData(body: unknown, binary: boolean): RpcTypedData {
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    const bytes = Buffer.from(body);
    if (binary) return { bytes };
    try {
      return { string: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return { bytes };
    }
  }
  if (typeof body === "string") return binary ? { bytes: Buffer.from(body) } : { string: body };
  return { json: JSON.stringify(body ?? null) };
}

/** The extension's binding data for one message (PascalCase; the library camel-cases the keys). */
function messageMetadata(m: ServiceBusReceivedMessage): Record<string, unknown> {
  const iso = (d: Date | undefined): string | undefined => (d ? d.toISOString() : undefined);
  const props = m.applicationProperties ?? {};
  return {
    MessageId: m.messageId === undefined ? undefined : String(m.messageId),
    SessionId: m.sessionId,
    ReplyToSessionId: m.replyToSessionId,
    PartitionKey: m.partitionKey,
    CorrelationId: m.correlationId === undefined ? undefined : String(m.correlationId),
    ContentType: m.contentType,
    Subject: m.subject,
    Label: m.subject,
    To: m.to,
    ReplyTo: m.replyTo,
    // .NET counts the current delivery (1 on the first); the AMQP header counts earlier ones.
    DeliveryCount: (m.deliveryCount ?? 0) + 1,
    SequenceNumber: m.sequenceNumber === undefined ? undefined : Number(m.sequenceNumber),
    EnqueuedSequenceNumber: m.enqueuedSequenceNumber,
    EnqueuedTimeUtc: iso(m.enqueuedTimeUtc),
    EnqueuedTime: iso(m.enqueuedTimeUtc),
    ExpiresAtUtc: iso(m.expiresAtUtc),
    ExpiresAt: iso(m.expiresAtUtc),
    LockedUntilUtc: iso(m.lockedUntilUtc),
    LockedUntil: iso(m.lockedUntilUtc),
    LockToken: m.lockToken,
    DeadLetterSource: m.deadLetterSource,
    DeadLetterReason: m.deadLetterReason,
    DeadLetterErrorDescription: m.deadLetterErrorDescription,
    ApplicationProperties: props,
    UserProperties: props,
  };
}

function isLockLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === "MessageLockLost" || /lock supplied is invalid/i.test(error instanceof Error ? error.message : "");
}
