// A local Service Bus broker: an AMQP 1.0 server (rhea) speaking the parts of the Service Bus protocol the
// unmodified @azure/service-bus SDK uses with an emulator connection string (UseDevelopmentEmulator=true):
// $cbs put-token, sending (single and batched), peek-lock and receive-and-delete receiving with credit and
// drain, settlement by disposition, and the $management request/response operations.
import { randomUUID } from "node:crypto";
import type { Server, Socket } from "node:net";
import rhea, { type Connection, type Delivery, type EventContext, type Receiver, type Sender } from "rhea";
import {
  loadEntityDeclarations,
  receivableSettings,
  sendableSettings,
  validateDeclarations,
  type EntityDeclarations,
} from "./entities.js";
import { FileStore, MemoryStore, type BrokerStore, type LogRecord } from "./persistence.js";
import {
  BrokerError,
  Queue,
  effectiveRules,
  QueueTarget,
  Topic,
  setMessageEncoder,
  type AmqpMessage,
  type Consumer,
  type EntityContext,
  type Msg,
  type SendTarget,
} from "./queue.js";

export interface ServiceBusBrokerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Declarations, or the path of a JSON file holding them. */
  entities: EntityDeclarations | string;
  /** A directory for the message log, or "memory". */
  dataDir: string;
  onLog?: (line: string) => void;
}

export interface ServiceBusBrokerHandle {
  connectionString: string;
  port: number;
  broker: ServiceBusBroker;
  stop(): Promise<void>;
}

const batchFormat = 0x80013700;
const sweepIntervalMs = 100;
const maxMessageSize = 256 * 1024;

/** rhea's outcome constructors (untyped in its typings). */
const outcomes = rhea.message as unknown as Record<"accepted" | "released" | "rejected" | "modified", (fields?: object) => { described(): unknown }>;

const encodeMessage = (m: AmqpMessage): Buffer => rhea.message.encode(m as rhea.Message) as Buffer;
const decodeMessage = (b: Buffer): AmqpMessage => rhea.message.decode(b) as unknown as AmqpMessage;
setMessageEncoder((m) => encodeMessage(m).toString("base64"));

/** The emulator connection string for a broker on host:port (the key is ignored, as by the emulator). */
export function emulatorConnectionString(host: string, port: number): string {
  return `Endpoint=sb://${host}:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
}

/**
 * The SDK's lock token string is the delivery tag with the first three UUID groups byte-reversed (.NET GUID
 * order); its management requests carry the token's canonical bytes. The swap is its own inverse.
 */
export function reorderGuidBytes(bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  return Buffer.from([b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.subarray(8)] as number[]);
}

type Entity =
  | { kind: "queue"; queue: Queue; target: QueueTarget }
  | { kind: "topic"; topic: Topic }
  | { kind: "subscription" | "deadletter"; queue: Queue };

interface ConnectionState {
  /** Links the client receives replies on ($cbs and $management), by link name and target address. */
  replyLinks: Map<string, Sender>;
}

export class ServiceBusBroker {
  readonly #entities = new Map<string, Entity>();
  readonly #queues = new Map<string, Queue>();
  readonly #targets: SendTarget[] = [];
  readonly #store: BrokerStore;
  readonly #ctx: EntityContext;
  readonly #container = rhea.create_container({ id: "local-servicebus", autoaccept: false, treat_modified_as_released: false } as never);
  readonly #connections = new Set<Connection>();
  readonly #connectionState = new WeakMap<Connection, ConnectionState>();
  readonly #consumers = new WeakMap<Sender, LinkConsumer>();
  #sweeper: NodeJS.Timeout | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    declarations: EntityDeclarations,
    store: BrokerStore,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    validateDeclarations(declarations);
    this.#store = store;
    this.#ctx = { persist: (record) => store.append(record), durable: !(store instanceof MemoryStore), now: () => Date.now() };
    this.#createEntities(declarations);
    this.#restore();
  }

  // ---- entities ------------------------------------------------------------------------------------------

  #createEntities(decl: EntityDeclarations): void {
    const receivable = (path: string, settings: ReturnType<typeof receivableSettings>): Queue => {
      const dlq = new Queue(`${path}/$deadletterqueue`, { ...settings, maxDeliveryCount: Number.MAX_SAFE_INTEGER, defaultTtlMs: undefined, deadLetteringOnMessageExpiration: false }, undefined, this.#ctx);
      const queue = new Queue(path, settings, dlq, this.#ctx);
      this.#queues.set(queue.key, queue);
      this.#queues.set(dlq.key, dlq);
      return queue;
    };
    for (const q of decl.queues ?? []) {
      const queue = receivable(q.name, receivableSettings(q, `queue '${q.name}'`));
      const target = new QueueTarget(queue, sendableSettings(q, `queue '${q.name}'`), this.#ctx);
      this.#entities.set(queue.key, { kind: "queue", queue, target });
      this.#entities.set((queue.deadLetterQueue as Queue).key, { kind: "deadletter", queue: queue.deadLetterQueue as Queue });
      this.#targets.push(target);
    }
    for (const t of decl.topics ?? []) {
      const settings = sendableSettings(t, `topic '${t.name}'`);
      const subscriptions = (t.subscriptions ?? []).map((s) => {
        const queue = receivable(`${t.name}/Subscriptions/${s.name}`, receivableSettings(s, `subscription '${t.name}/${s.name}'`));
        this.#entities.set(queue.key, { kind: "subscription", queue });
        this.#entities.set((queue.deadLetterQueue as Queue).key, { kind: "deadletter", queue: queue.deadLetterQueue as Queue });
        return { name: s.name, queue, rules: effectiveRules(s.rules) };
      });
      const topic = new Topic(t.name, settings, subscriptions, this.#ctx);
      this.#entities.set(t.name.toLowerCase(), { kind: "topic", topic });
      this.#queues.set(topic.scheduled.key, topic.scheduled);
      this.#targets.push(topic);
    }
  }

  /** Replays the log into the entities, then compacts it into a snapshot. */
  #restore(): void {
    const records = this.#store.load();
    const targetsByKey = new Map<string, SendTarget & { duplicates: { restore(id: string, at: number): void } }>();
    for (const t of this.#targets) targetsByKey.set(t.path.toLowerCase(), t as never);
    let dropped = 0;
    for (const record of records) {
      if (record.t === "dup") {
        targetsByKey.get(record.e)?.duplicates.restore(record.id, record.at);
        continue;
      }
      const queue = this.#queues.get(record.q);
      if (!queue) {
        dropped += 1;
        continue;
      }
      if (record.t === "enq") queue.restore(record.m, decodeMessage(Buffer.from(record.m.raw, "base64")));
      else if (record.t === "del") queue.messages.delete(record.seq);
      else if (record.t === "upd") queue.applyUpdate(record, (raw) => decodeMessage(Buffer.from(raw, "base64")));
      else if (record.t === "seq") queue.restoreSequence(record.n);
    }
    if (dropped > 0) this.log(`Service Bus: ${dropped} stored record(s) belong to entities no longer declared; dropped.`);
    this.compact();
  }

  compact(): void {
    const records: LogRecord[] = [];
    const encode = (m: AmqpMessage): string => encodeMessage(m).toString("base64");
    for (const queue of new Set(this.#queues.values())) records.push(...queue.snapshot(encode));
    for (const target of this.#targets) records.push(...(target as unknown as { duplicates: { snapshot(): LogRecord[] } }).duplicates.snapshot());
    this.#store.compact(records);
  }

  /** Counts of messages per entity path (active, deferred, scheduled, locked), for diagnostics and tests. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const queue of new Set(this.#queues.values())) out[queue.path] = queue.messages.size;
    return out;
  }

  #resolve(address: string | undefined): Entity | undefined {
    if (!address) return undefined;
    let path = address;
    const url = /^(?:sb|amqps?):\/\/[^/]+\/(.*)$/i.exec(path);
    if (url) path = url[1] ?? "";
    return this.#entities.get(path.replace(/^\/+|\/+$/g, "").toLowerCase());
  }

  // ---- server ------------------------------------------------------------------------------------------------

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    const container = this.#container;
    container.sasl_server_mechanisms.enable_anonymous();
    container.sasl_server_mechanisms.enable_plain(() => true);
    container.on("connection_open", (ctx: EventContext) => {
      this.#connections.add(ctx.connection);
      this.#connectionState.set(ctx.connection, { replyLinks: new Map() });
    });
    const forget = (ctx: EventContext): void => {
      this.#connections.delete(ctx.connection);
    };
    container.on("connection_close", forget);
    container.on("disconnected", forget);
    container.on("connection_error", () => undefined);
    container.on("session_error", () => undefined);
    container.on("sender_error", () => undefined);
    container.on("receiver_error", () => undefined);
    container.on("error", (error: unknown) => this.log(`Service Bus broker: ${error instanceof Error ? error.message : String(error)}`));
    container.on("sender_open", (ctx: EventContext) => this.#onSenderOpen(ctx));
    container.on("receiver_open", (ctx: EventContext) => this.#onReceiverOpen(ctx));
    container.on("sender_close", (ctx: EventContext) => this.#onSenderClose(ctx.sender as Sender));
    container.on("message", (ctx: EventContext) => this.#onMessage(ctx));
    container.on("sendable", (ctx: EventContext) => this.#consumers.get(ctx.sender as Sender)?.queue.pump());
    container.on("sender_draining", (ctx: EventContext) => {
      const consumer = this.#consumers.get(ctx.sender as Sender);
      consumer?.queue.pump();
      (ctx.sender as Sender).set_drained(true);
    });
    for (const outcome of ["accepted", "released", "rejected", "modified"] as const) {
      container.on(outcome, (ctx: EventContext) => this.#onDisposition(ctx, outcome));
    }

    return new Promise((resolve, reject) => {
      const server = container.listen({ port, host } as never) as unknown as Server;
      this.#server = server;
      server.on("connection", (socket: Socket) => {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
      });
      server.once("error", reject);
      server.once("listening", () => {
        const address = server.address();
        this.#sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
        this.#sweeper.unref();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  sweep(now = Date.now()): void {
    for (const target of this.#targets) target.sweep(now);
    for (const queue of new Set(this.#queues.values())) queue.sweep(now);
    if (this.#store.appendsSinceCompaction > 20_000) this.compact();
  }

  async close(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const connection of this.#connections) {
      try {
        // As Service Bus closes connections it drops: with amqp:connection:forced, which SDK clients take as a
        // cue to reconnect. A close without an error reads as final, and their receivers would never come back.
        connection.close({ condition: "amqp:connection:forced", description: "The broker is shutting down." });
      } catch {
        // already closing
      }
    }
    const server = this.#server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => {
          for (const socket of this.#sockets) socket.destroy();
        }, 200).unref();
      });
    }
    this.#store.close();
  }

  // ---- links -------------------------------------------------------------------------------------------------

  /** The client attached a receiving link: we send on it. */
  #onSenderOpen(ctx: EventContext): void {
    const sender = ctx.sender as Sender;
    const local = echoAttach(sender, sender.rcv_settle_mode ?? 0);
    const address = String(sender.source?.address ?? "");
    if (address === "$cbs" || /\$management$/i.test(address)) {
      const state = this.#connectionState.get(ctx.connection);
      state?.replyLinks.set(sender.name, sender);
      const target = sender.target?.address;
      if (typeof target === "string") state?.replyLinks.set(target, sender);
      return;
    }
    const entity = this.#resolve(address);
    if (!entity || entity.kind === "topic") {
      local.source = null;
      sender.close({ condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found.` });
      return;
    }
    const consumer = new LinkConsumer(sender, entity.queue);
    this.#consumers.set(sender, consumer);
    entity.queue.addConsumer(consumer);
  }

  #onSenderClose(sender: Sender): void {
    const consumer = this.#consumers.get(sender);
    if (consumer) consumer.queue.removeConsumer(consumer);
  }

  /** The client attached a sending link: we receive on it. */
  #onReceiverOpen(ctx: EventContext): void {
    const receiver = ctx.receiver as Receiver;
    const local = echoAttach(receiver, 0);
    // The SDK sizes batches by the link's max-message-size (Service Bus Standard: 256 KB).
    local.max_message_size = maxMessageSize;
    const address = String(receiver.target?.address ?? "");
    if (address === "$cbs" || /\$management$/i.test(address)) return;
    const entity = this.#resolve(address);
    if (!entity || (entity.kind !== "queue" && entity.kind !== "topic")) {
      local.target = null;
      receiver.close({ condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found or cannot be sent to.` });
    }
  }

  #onMessage(ctx: EventContext): void {
    const receiver = ctx.receiver as Receiver;
    const delivery = ctx.delivery as Delivery;
    const address = String(receiver.target?.address ?? "");
    try {
      if (address === "$cbs") {
        this.#reply(ctx, ctx.message as unknown as AmqpMessage, { "status-code": 200, "status-description": "OK" }, undefined);
      } else if (/\$management$/i.test(address)) {
        this.#onManagementRequest(ctx, address.replace(/\/?\$management$/i, ""));
      } else {
        const entity = this.#resolve(address);
        const target = entity?.kind === "queue" ? entity.target : entity?.kind === "topic" ? entity.topic : undefined;
        if (!target) throw new BrokerError("amqp:not-found", `The messaging entity '${address}' could not be found.`);
        for (const message of this.#incomingMessages(ctx)) target.accept(withMessageId(message));
      }
      delivery.accept();
    } catch (error) {
      const e = error instanceof BrokerError ? error : new BrokerError("amqp:internal-error", error instanceof Error ? error.message : String(error));
      this.log(`Service Bus broker: ${e.message}`);
      delivery.reject({ condition: e.condition, description: e.message });
    }
  }

  #incomingMessages(ctx: EventContext): AmqpMessage[] {
    const format = (ctx as unknown as { format?: number }).format;
    if (format === batchFormat) {
      const envelope = decodeMessage(ctx.message as unknown as Buffer);
      const body = envelope.body as { content?: unknown; multiple?: boolean } | undefined;
      const parts = body?.multiple ? (body.content as Buffer[]) : body?.content ? [body.content as Buffer] : [];
      return parts.map((part) => decodeMessage(Buffer.from(part)));
    }
    if (format !== undefined && format !== 0) throw new BrokerError("amqp:not-implemented", `Message format ${format} is not supported.`);
    return [ctx.message as unknown as AmqpMessage];
  }

  #reply(ctx: EventContext, request: AmqpMessage, props: Record<string, unknown>, body: unknown): void {
    const replyTo = String((request as { reply_to?: unknown }).reply_to ?? "");
    const sender = this.#connectionState.get(ctx.connection)?.replyLinks.get(replyTo);
    if (!sender) throw new BrokerError("amqp:not-found", `No link to reply to '${replyTo}'.`);
    const response: Record<string, unknown> = { correlation_id: request.message_id, application_properties: props };
    if (body !== undefined) response.body = body;
    sender.send(response as unknown as rhea.Message);
  }

  // ---- settlement by disposition ---------------------------------------------------------------------------

  #onDisposition(ctx: EventContext, outcome: "accepted" | "released" | "rejected" | "modified"): void {
    const delivery = ctx.delivery as Delivery & { remote_state?: Record<string, unknown> };
    const consumer = this.#consumers.get(ctx.sender as Sender);
    if (!consumer || delivery.settled) return;
    const token = reorderGuidBytes(Buffer.from(delivery.tag as Buffer)).toString("hex");
    const state = delivery.remote_state ?? {};
    try {
      const queue = consumer.queue;
      if (outcome === "accepted") queue.complete(token);
      else if (outcome === "released") queue.abandon(token);
      else if (outcome === "modified") {
        const props = (state.message_annotations as Record<string, unknown> | undefined) ?? undefined;
        if (state.undeliverable_here === true) queue.defer(token, props);
        else queue.abandon(token, props);
      } else {
        const error = (state.error ?? {}) as { condition?: string; info?: Record<string, unknown> };
        const info = { ...(error.info ?? {}) };
        const reason = info.DeadLetterReason;
        const description = info.DeadLetterErrorDescription;
        delete info.DeadLetterReason;
        delete info.DeadLetterErrorDescription;
        queue.deadLetter(token, reason === undefined ? undefined : String(reason), description === undefined ? undefined : String(description), info);
      }
      delivery.update(true, outcomeState(outcome));
    } catch (error) {
      const e = error instanceof BrokerError ? error : new BrokerError("amqp:internal-error", String(error));
      delivery.update(true, outcomes.rejected({ error: { condition: e.condition, description: e.message } }).described());
    } finally {
      // In rcv-settle-mode second the SDK never sends a final settle after ours; rhea frees a session slot only
      // when both ends settled, so without this a connection stalls after 2,048 deliveries.
      if ((ctx.sender as Sender & { local?: { attach?: { rcv_settle_mode?: number } } }).local?.attach?.rcv_settle_mode === 1) {
        (delivery as Delivery & { remote_settled: boolean }).remote_settled = true;
      }
    }
  }

  // ---- $management -------------------------------------------------------------------------------------------

  #onManagementRequest(ctx: EventContext, entityPath: string): void {
    const request = ctx.message as unknown as AmqpMessage;
    const operation = String(request.application_properties?.operation ?? "");
    try {
      const { status, body } = this.#management(entityPath, operation, (request.body ?? {}) as Record<string, unknown>);
      this.#reply(ctx, request, { statusCode: status, statusDescription: status === 204 ? "No Content" : "OK" }, body);
    } catch (error) {
      const e = error instanceof BrokerError ? error : new BrokerError("amqp:internal-error", error instanceof Error ? error.message : String(error), 500);
      this.#reply(ctx, request, { statusCode: e.statusCode, statusDescription: e.message, errorCondition: e.condition }, {});
    }
  }

  #management(entityPath: string, operation: string, body: Record<string, unknown>): { status: number; body: unknown } {
    const entity = this.#resolve(entityPath);
    if (!entity) throw new BrokerError("amqp:not-found", `The messaging entity '${entityPath}' could not be found.`, 404);
    const queue = entity.kind === "topic" ? undefined : entity.queue;
    const target = entity.kind === "queue" ? entity.target : entity.kind === "topic" ? entity.topic : undefined;
    const needQueue = (): Queue => {
      if (!queue) throw new BrokerError("amqp:not-implemented", `'${operation}' is not available on topic '${entityPath}'.`, 400);
      return queue;
    };
    const needTarget = (): SendTarget => {
      if (!target) throw new BrokerError("amqp:not-implemented", `'${operation}' needs a queue or topic, not '${entityPath}'.`, 400);
      return target;
    };
    switch (operation) {
      case "com.microsoft:peek-message": {
        const from = toNumber(body["from-sequence-number"]) ?? 1;
        const count = toNumber(body["message-count"]) ?? 1;
        const source = queue ?? (entity.kind === "topic" ? entity.topic.scheduled : undefined);
        const found = source ? source.peek(from, count) : [];
        if (found.length === 0) return { status: 204, body: {} };
        return { status: 200, body: { messages: found.map((m) => ({ message: encodeMessage(withBrokerAnnotations(m, undefined)) })) } };
      }
      case "com.microsoft:renew-lock": {
        const q = needQueue();
        const expirations = lockTokens(body).map((token) => new Date(q.renew(token)));
        return { status: 200, body: { expirations } };
      }
      case "com.microsoft:update-disposition": {
        const q = needQueue();
        const status = String(body["disposition-status"] ?? "");
        const props = (body["properties-to-modify"] as Record<string, unknown> | undefined) ?? undefined;
        for (const token of lockTokens(body)) {
          if (status === "completed") q.complete(token);
          else if (status === "abandoned") q.abandon(token, props);
          else if (status === "defered" || status === "deferred") q.defer(token, props);
          else if (status === "suspended") {
            const reason = body["deadletter-reason"];
            const description = body["deadletter-description"];
            q.deadLetter(token, reason === undefined ? undefined : String(reason), description === undefined ? undefined : String(description), props);
          } else throw new BrokerError("amqp:invalid-field", `Unknown disposition-status '${status}'.`, 400);
        }
        return { status: 200, body: {} };
      }
      case "com.microsoft:schedule-message": {
        const t = needTarget();
        const entries = (body.messages ?? []) as Record<string, unknown>[];
        const sequenceNumbers = entries.map((entry) => {
          const message = decodeMessage(Buffer.from(entry.message as Buffer));
          const at = message.message_annotations?.["x-opt-scheduled-enqueue-time"];
          const time = at instanceof Date ? at.getTime() : typeof at === "number" ? at : Date.now();
          return rhea.types.wrap_long(t.schedule(withMessageId(message), time));
        });
        return { status: 200, body: { "sequence-numbers": sequenceNumbers } };
      }
      case "com.microsoft:cancel-scheduled-message": {
        const t = needTarget();
        for (const seq of sequenceNumbersOf(body)) t.cancelScheduled(seq);
        return { status: 200, body: {} };
      }
      case "com.microsoft:receive-by-sequence-number": {
        const q = needQueue();
        const receiveAndDelete = toNumber(body["receiver-settle-mode"]) === 0;
        const found = q.receiveDeferred(sequenceNumbersOf(body), receiveAndDelete);
        return {
          status: 200,
          body: {
            messages: found.map(({ msg, lockToken }) => {
              const deliveryCount = q.countDelivery(msg);
              const entry: Record<string, unknown> = { message: encodeMessage(withBrokerAnnotations(msg, msg.lock?.until, deliveryCount)) };
              if (lockToken) entry["lock-token"] = rhea.types.wrap_uuid(lockToken);
              return entry;
            }),
          },
        };
      }
      default:
        throw new BrokerError("amqp:not-implemented", `The operation '${operation}' is not supported by the local broker.`, 501);
    }
  }
}

function outcomeState(outcome: "accepted" | "released" | "rejected" | "modified"): unknown {
  switch (outcome) {
    case "accepted":
      return outcomes.accepted().described();
    case "released":
      return outcomes.released().described();
    case "rejected":
      return outcomes.rejected({}).described();
    default:
      return outcomes.modified({}).described();
  }
}

/** Service Bus gives every message an id; the SDK's lock renewal relies on it. */
function withMessageId(message: AmqpMessage): AmqpMessage {
  if (message.message_id !== undefined && message.message_id !== null) return message;
  return { ...message, message_id: randomUUID().replace(/-/g, "") };
}

function toNumber(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE(0));
  if (value instanceof Uint8Array && value.length === 8) return Number(Buffer.from(value).readBigInt64BE(0));
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function sequenceNumbersOf(body: Record<string, unknown>): number[] {
  const raw = body["sequence-numbers"];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((v) => toNumber(v) ?? -1);
}

function lockTokens(body: Record<string, unknown>): string[] {
  const raw = body["lock-tokens"];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.map((token) => (Buffer.isBuffer(token) ? token.toString("hex") : String(token).replace(/-/g, "").toLowerCase()));
}

/** The message as delivered: the sender's message plus the broker's header count and annotations. */
function withBrokerAnnotations(msg: Msg, lockedUntil: number | undefined, deliveryCount = msg.deliveries): AmqpMessage {
  const annotations: Record<string, unknown> = {
    ...msg.message.message_annotations,
    "x-opt-sequence-number": rhea.types.wrap_long(msg.seq),
    "x-opt-enqueued-time": new Date(msg.enqueuedAt),
  };
  if (lockedUntil !== undefined) annotations["x-opt-locked-until"] = new Date(lockedUntil);
  if (msg.state === "deferred") annotations["x-opt-message-state"] = rhea.types.wrap_int(1);
  else if (msg.state === "scheduled") {
    annotations["x-opt-message-state"] = rhea.types.wrap_int(2);
    if (msg.scheduledAt !== undefined) annotations["x-opt-scheduled-enqueue-time"] = new Date(msg.scheduledAt);
  }
  return { ...msg.message, delivery_count: deliveryCount, message_annotations: annotations };
}

/** A client's receiving link on a queue, subscription or dead-letter queue. */
class LinkConsumer implements Consumer {
  readonly receiveAndDelete: boolean;

  constructor(
    readonly sender: Sender,
    readonly queue: Queue,
  ) {
    this.receiveAndDelete = sender.snd_settle_mode === 1;
  }

  hasCredit(): boolean {
    return this.sender.is_open() && this.sender.sendable();
  }

  deliver(msg: Msg, lockToken: Buffer | undefined): void {
    const deliveryCount = this.queue.countDelivery(msg);
    const tag = lockToken ? reorderGuidBytes(lockToken) : Buffer.from(String(msg.seq));
    this.sender.send(withBrokerAnnotations(msg, msg.lock?.until, deliveryCount) as rhea.Message, tag);
  }
}

/** Starts a broker listening on host:port with the declared entities; messages persist under dataDir. */
export async function startServiceBusBroker(options: ServiceBusBrokerOptions): Promise<ServiceBusBrokerHandle> {
  const host = options.host ?? "127.0.0.1";
  const declarations = typeof options.entities === "string" ? loadEntityDeclarations(options.entities) : options.entities;
  const store = options.dataDir === "memory" ? new MemoryStore() : new FileStore(options.dataDir);
  const broker = new ServiceBusBroker(declarations, store, options.onLog);
  let port: number;
  try {
    port = await broker.listen(options.port, host);
  } catch (error) {
    await broker.close();
    throw error;
  }
  return {
    connectionString: emulatorConnectionString(host, port),
    port,
    broker,
    stop: () => broker.close(),
  };
}

/** Our side of a link's attach echoes the peer's source, target and sender settle mode; returns it for more fields. */
function echoAttach(link: Sender | Receiver, rcvSettleMode: number): Record<string, unknown> {
  const local = (link as unknown as { local: { attach: Record<string, unknown> } }).local.attach;
  local.source = link.source;
  local.target = link.target;
  local.snd_settle_mode = link.snd_settle_mode ?? 0;
  local.rcv_settle_mode = rcvSettleMode;
  return local;
}
