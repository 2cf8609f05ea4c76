// The broker's entities: a Queue holds messages that can be received (a queue, a subscription, or a
// dead-letter subqueue); a Topic fans what it accepts out to its subscriptions. Locks, delivery counts,
// dead-lettering, deferral, scheduling, expiry and duplicate detection live here; AMQP lives in broker.ts.
import { randomBytes } from "node:crypto";
import type { CorrelationFilter, ReceivableSettings, RuleDeclaration, SendableSettings } from "./entities.js";
import type { LogRecord, StoredMessageRecord } from "./persistence.js";

/** A decoded AMQP message as rhea represents it (header and properties fields flattened). */
export interface AmqpMessage {
  message_id?: unknown;
  correlation_id?: unknown;
  subject?: string;
  to?: string;
  reply_to?: string;
  content_type?: string;
  group_id?: string;
  reply_to_group_id?: string;
  ttl?: number;
  delivery_count?: number;
  application_properties?: Record<string, unknown>;
  message_annotations?: Record<string, unknown>;
  body?: unknown;
  [field: string]: unknown;
}

export type MessageState = StoredMessageRecord["state"];

export interface Msg {
  seq: number;
  message: AmqpMessage;
  enqueuedAt: number;
  expiresAt: number | undefined;
  /** Deliveries so far; the next delivery carries this as the AMQP header's delivery-count. */
  deliveries: number;
  state: MessageState;
  scheduledAt: number | undefined;
  lock: Lock | undefined;
}

export interface Lock {
  /** Hex of the 16 lock-token bytes as the management operations carry them. */
  token: string;
  until: number;
}

/** One receiving link (or the management operation) a queue hands messages to. */
export interface Consumer {
  readonly receiveAndDelete: boolean;
  hasCredit(): boolean;
  deliver(msg: Msg, lockToken: Buffer | undefined): void;
}

export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

export const lockLost = (): BrokerError =>
  new BrokerError(
    "com.microsoft:message-lock-lost",
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
    410,
  );

/** What the entities need from the broker: durability and the clock. */
export interface EntityContext {
  persist(record: LogRecord): void;
  /** False when nothing is kept (in-memory broker): records that cost an AMQP encode are then not built. */
  readonly durable: boolean;
  now(): number;
}

export type PropertiesToModify = Record<string, unknown> | undefined;

export const maxDeliveryCountExceeded = "MaxDeliveryCountExceeded";
export const ttlExpired = "TTLExpiredException";

/** Something messages can be sent to. */
export interface SendTarget {
  readonly path: string;
  /** Accepts a sent message (duplicate detection, scheduling, fan-out); persists before returning. */
  accept(message: AmqpMessage): void;
  /** Schedules a message for `at`; returns its sequence number. */
  schedule(message: AmqpMessage, at: number): number;
  cancelScheduled(seq: number): void;
  sweep(now: number): void;
}

class DuplicateDetector {
  readonly #seen = new Map<string, number>();

  constructor(
    readonly windowMs: number | undefined,
    private readonly key: string,
    private readonly ctx: EntityContext,
  ) {}

  /** True when the id was seen within the window; records it otherwise. */
  isDuplicate(messageId: unknown): boolean {
    if (this.windowMs === undefined || messageId === undefined || messageId === null) return false;
    const id = idText(messageId);
    const now = this.ctx.now();
    this.prune(now);
    if (this.#seen.has(id)) return true;
    this.#seen.set(id, now);
    this.ctx.persist({ t: "dup", e: this.key, id, at: now });
    return false;
  }

  restore(id: string, at: number): void {
    this.#seen.set(id, at);
  }

  prune(now: number): void {
    if (this.windowMs === undefined) return;
    for (const [id, at] of this.#seen) {
      if (now - at < this.windowMs) break; // insertion order is time order
      this.#seen.delete(id);
    }
  }

  snapshot(): LogRecord[] {
    return [...this.#seen].map(([id, at]) => ({ t: "dup", e: this.key, id, at }));
  }
}

function idText(id: unknown): string {
  return Buffer.isBuffer(id) ? id.toString("hex") : String(id);
}

function scheduledTimeOf(message: AmqpMessage): number | undefined {
  const value = message.message_annotations?.["x-opt-scheduled-enqueue-time"];
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value;
  return undefined;
}

function withProperties(message: AmqpMessage, props: PropertiesToModify): AmqpMessage {
  if (!props || Object.keys(props).length === 0) return message;
  return { ...message, application_properties: { ...message.application_properties, ...props } };
}

/** Something messages are received from: a queue, a subscription or a dead-letter subqueue. */
export class Queue {
  readonly messages = new Map<number, Msg>();
  readonly #locks = new Map<string, Msg>();
  /**
   * Candidates for delivery, in sequence order: every active, unlocked message is in here or in #returned (entries that
   * stopped being deliverable are dropped lazily by the pump). Without it every pump (one per settle)
   * walked all messages, locked ones included: quadratic in the backlog.
   */
  #ready = new Set<Msg>();
  /**
   * Released messages (abandoned, lock lost) whose sequence number is below the last one in #ready, kept apart
   * in sequence order and merged in by the pump. Re-sorting #ready on every pump after a release made each pump
   * cost the whole backlog: with a saturated host losing locks on a 100k-message backlog it was most of the CPU.
   */
  readonly #returned: Msg[] = [];
  readonly #returnedSet = new Set<Msg>();
  /** Earliest TTL expiry among the messages, so the periodic sweep only walks them when one is due. */
  #nextExpiry = Infinity;
  /** Messages waiting for their scheduled time (stale entries are dropped by the sweep). */
  readonly #scheduled = new Set<Msg>();
  readonly consumers: Consumer[] = [];
  #nextSeq = 1;
  #roundRobin = 0;
  #pumping = false;
  #pumpAgain = false;

  constructor(
    /** Display path, e.g. `orders`, `events/Subscriptions/emails`, `orders/$deadletterqueue`. */
    readonly path: string,
    readonly settings: ReceivableSettings,
    readonly deadLetterQueue: Queue | undefined,
    private readonly ctx: EntityContext,
  ) {}

  get key(): string {
    return this.path.toLowerCase();
  }

  // ---- enqueueing -------------------------------------------------------------------------------------

  /** Adds a message (already duplicate-checked); `ttlMs` is the sending entity's default TTL, if any. */
  enqueue(message: AmqpMessage, opts: { ttlMs?: number | undefined; scheduledAt?: number | undefined; enqueuedAt?: number; deliveries?: number; noExpiry?: boolean } = {}): Msg {
    const now = this.ctx.now();
    const scheduled = opts.scheduledAt !== undefined && opts.scheduledAt > now;
    const enqueuedAt = opts.enqueuedAt ?? (scheduled ? (opts.scheduledAt as number) : now);
    const msg: Msg = {
      seq: this.#nextSeq++,
      message,
      enqueuedAt,
      expiresAt: opts.noExpiry ? undefined : this.#expiry(message, enqueuedAt, opts.ttlMs),
      deliveries: opts.deliveries ?? 0,
      state: scheduled ? "scheduled" : "active",
      scheduledAt: scheduled ? opts.scheduledAt : undefined,
      lock: undefined,
    };
    this.messages.set(msg.seq, msg);
    if (msg.expiresAt !== undefined && msg.expiresAt < this.#nextExpiry) this.#nextExpiry = msg.expiresAt;
    if (this.ctx.durable) this.ctx.persist({ t: "enq", q: this.key, m: toRecord(msg) });
    if (scheduled) this.#scheduled.add(msg);
    else {
      this.#markReady(msg);
      this.pump();
    }
    return msg;
  }

  #expiry(message: AmqpMessage, enqueuedAt: number, entityTtlMs: number | undefined): number | undefined {
    const ttls = [message.ttl, entityTtlMs, this.settings.defaultTtlMs].filter((t): t is number => typeof t === "number" && t > 0);
    return ttls.length === 0 ? undefined : enqueuedAt + Math.min(...ttls);
  }

  restore(record: StoredMessageRecord, message: AmqpMessage): void {
    this.messages.set(record.seq, {
      seq: record.seq,
      message,
      enqueuedAt: record.enqueuedAt,
      expiresAt: record.expiresAt,
      deliveries: record.deliveries,
      state: record.state,
      scheduledAt: record.scheduledAt,
      lock: undefined,
    });
    const msg = this.messages.get(record.seq) as Msg;
    if (msg.expiresAt !== undefined && msg.expiresAt < this.#nextExpiry) this.#nextExpiry = msg.expiresAt;
    if (msg.state === "scheduled") this.#scheduled.add(msg);
    else this.#markReady(msg);
    this.#nextSeq = Math.max(this.#nextSeq, record.seq + 1);
  }

  /** Makes a message a delivery candidate again (it is checked for being active and unlocked when its turn comes). */
  #markReady(msg: Msg): void {
    if (this.#ready.has(msg) || this.#returnedSet.has(msg)) return;
    const last = this.#lastReady;
    if (last === undefined || last.seq < msg.seq) {
      this.#ready.add(msg);
      this.#lastReady = msg;
      return;
    }
    // Behind later messages: into #returned at its place in sequence order (binary search).
    let lo = 0;
    let hi = this.#returned.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#returned[mid] as Msg).seq < msg.seq) lo = mid + 1;
      else hi = mid;
    }
    this.#returned.splice(lo, 0, msg);
    this.#returnedSet.add(msg);
  }

  #lastReady: Msg | undefined;

  #deliverable(msg: Msg): boolean {
    return msg.state === "active" && !msg.lock && this.messages.get(msg.seq) === msg;
  }

  restoreSequence(next: number): void {
    this.#nextSeq = Math.max(this.#nextSeq, next);
  }

  /** Records that recreate the live state (for compaction). */
  snapshot(encode: (m: AmqpMessage) => string): LogRecord[] {
    const records: LogRecord[] = [{ t: "seq", q: this.key, n: this.#nextSeq }];
    for (const msg of this.messages.values()) records.push({ t: "enq", q: this.key, m: toRecord(msg, encode) });
    return records;
  }

  // ---- delivering ----------------------------------------------------------------------------------------

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.pump();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
  }

  #nextConsumer(): Consumer | undefined {
    for (let i = 0; i < this.consumers.length; i++) {
      const index = (this.#roundRobin + i) % this.consumers.length;
      const consumer = this.consumers[index];
      if (consumer?.hasCredit()) {
        this.#roundRobin = index + 1;
        return consumer;
      }
    }
    return undefined;
  }

  /** Hands available messages, in sequence order, to consumers with credit. Re-entrant calls are folded. */
  pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        if (this.consumers.length === 0) return;
        const now = this.ctx.now();
        // Offers one candidate: dropped when it stopped being deliverable or expired, else handed to a consumer
        // with credit; false when no consumer has credit (the candidate stays where it is).
        const offer = (msg: Msg, remove: () => void): boolean => {
          if (!this.#deliverable(msg)) {
            remove();
            return true;
          }
          if (msg.expiresAt !== undefined && msg.expiresAt <= now) {
            remove();
            this.#expire(msg);
            return true;
          }
          const consumer = this.#nextConsumer();
          if (!consumer) return false;
          remove();
          this.#handOver(msg, consumer);
          return true;
        };
        const takeReturned = () => {
          this.#returnedSet.delete(this.#returned.shift() as Msg);
        };
        let blocked = false;
        for (const msg of this.#ready) {
          // Released messages that come before this one go first: delivery stays in sequence order.
          while (!blocked && this.#returned.length > 0 && (this.#returned[0] as Msg).seq < msg.seq) blocked = !offer(this.#returned[0] as Msg, takeReturned);
          if (blocked || !offer(msg, () => this.#ready.delete(msg))) {
            blocked = true;
            break;
          }
        }
        while (!blocked && this.#returned.length > 0) blocked = !offer(this.#returned[0] as Msg, takeReturned);
        if (this.#ready.size === 0) this.#lastReady = undefined;
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #handOver(msg: Msg, consumer: Consumer): void {
    if (consumer.receiveAndDelete) {
      this.#remove(msg);
      consumer.deliver(msg, undefined);
      return;
    }
    const token = this.#lock(msg);
    consumer.deliver(msg, token);
  }


  #lock(msg: Msg): Buffer {
    const bytes = randomBytes(16);
    // Version-4 UUID bits, so the token reads like any Service Bus lock token.
    bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
    bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
    msg.lock = { token: bytes.toString("hex"), until: this.ctx.now() + this.settings.lockDurationMs };
    this.#locks.set(msg.lock.token, msg);
    return bytes;
  }

  /** Hands one message over and counts the delivery (the header shows the count before this one). */
  countDelivery(msg: Msg): number {
    const before = msg.deliveries;
    msg.deliveries += 1;
    return before;
  }

  #remove(msg: Msg): void {
    if (msg.lock) this.#locks.delete(msg.lock.token);
    msg.lock = undefined;
    this.messages.delete(msg.seq);
    this.ctx.persist({ t: "del", q: this.key, seq: msg.seq });
  }

  // ---- settling -----------------------------------------------------------------------------------------

  locked(token: string): Msg {
    const msg = this.#locks.get(token);
    if (!msg || !msg.lock || msg.lock.until <= this.ctx.now()) throw lockLost();
    return msg;
  }

  isLocked(token: string): boolean {
    return this.#locks.has(token);
  }

  complete(token: string): void {
    this.#remove(this.locked(token));
    this.pump();
  }

  abandon(token: string, props?: PropertiesToModify): void {
    const msg = this.locked(token);
    this.#release(msg, props);
  }

  defer(token: string, props?: PropertiesToModify): void {
    const msg = this.locked(token);
    this.#locks.delete(token);
    msg.lock = undefined;
    msg.state = "deferred";
    msg.message = withProperties(msg.message, props);
    this.ctx.persist({ t: "upd", q: this.key, seq: msg.seq, state: "deferred", deliveries: msg.deliveries });
    if (props) this.#persistMessage(msg);
    this.pump();
  }

  deadLetter(token: string, reason: string | undefined, description: string | undefined, props?: PropertiesToModify): void {
    const msg = this.locked(token);
    this.#deadLetter(msg, reason, description, props);
    this.pump();
  }

  renew(token: string): number {
    const msg = this.locked(token);
    (msg.lock as Lock).until = this.ctx.now() + this.settings.lockDurationMs;
    return (msg.lock as Lock).until;
  }

  /** Abandon and lock expiry: the delivery counted; at the entity's maximum the message is dead-lettered. */
  #release(msg: Msg, props?: PropertiesToModify): void {
    if (msg.lock) this.#locks.delete(msg.lock.token);
    msg.lock = undefined;
    msg.message = withProperties(msg.message, props);
    if (msg.state === "active") this.#markReady(msg);
    if (msg.deliveries >= this.settings.maxDeliveryCount && this.deadLetterQueue) {
      this.#deadLetter(
        msg,
        maxDeliveryCountExceeded,
        `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
        undefined,
      );
    } else {
      if (props) this.#persistMessage(msg);
      this.ctx.persist({ t: "upd", q: this.key, seq: msg.seq, deliveries: msg.deliveries });
    }
    this.pump();
  }

  #persistMessage(msg: Msg): void {
    if (this.ctx.durable) this.ctx.persist({ t: "upd", q: this.key, seq: msg.seq, raw: encodeForLog(msg.message) });
  }

  #deadLetter(msg: Msg, reason: string | undefined, description: string | undefined, props: PropertiesToModify): void {
    const extra: Record<string, unknown> = { ...props };
    if (reason !== undefined) extra.DeadLetterReason = reason;
    if (description !== undefined) extra.DeadLetterErrorDescription = description;
    this.#remove(msg);
    if (!this.deadLetterQueue) return;
    this.deadLetterQueue.enqueue(withProperties(msg.message, extra), {
      enqueuedAt: msg.enqueuedAt,
      deliveries: msg.deliveries,
      noExpiry: true,
    });
  }

  #expire(msg: Msg): void {
    if (this.settings.deadLetteringOnMessageExpiration && this.deadLetterQueue) {
      this.#deadLetter(msg, ttlExpired, "The message expired and was dead lettered.", undefined);
    } else {
      this.#remove(msg);
    }
  }

  // ---- management operations -------------------------------------------------------------------------

  /** Messages from `fromSeq` on (active, deferred and scheduled; not locked ones' locks), in order. */
  peek(fromSeq: number, count: number): Msg[] {
    const now = this.ctx.now();
    const out: Msg[] = [];
    for (const msg of this.messages.values()) {
      if (msg.seq < fromSeq) continue;
      if (msg.state === "active" && !msg.lock && msg.expiresAt !== undefined && msg.expiresAt <= now) continue;
      out.push(msg);
      if (out.length >= count) break;
    }
    return out;
  }

  /** Deferred messages by sequence number, locked (peek-lock) or removed (receive-and-delete). */
  receiveDeferred(seqs: number[], receiveAndDelete: boolean): { msg: Msg; lockToken: Buffer | undefined }[] {
    const found = seqs.map((seq) => {
      const msg = this.messages.get(seq);
      if (!msg || msg.state !== "deferred" || (msg.lock && msg.lock.until > this.ctx.now())) {
        throw new BrokerError("com.microsoft:message-not-found", `Failed to lock one or more specified messages. The message with sequence number ${seq} was not found or is not deferred.`, 404);
      }
      return msg;
    });
    return found.map((msg) => {
      if (receiveAndDelete) {
        this.#remove(msg);
        return { msg, lockToken: undefined };
      }
      if (msg.lock) this.#locks.delete(msg.lock.token);
      return { msg, lockToken: this.#lock(msg) };
    });
  }

  cancelScheduled(seq: number): void {
    const msg = this.messages.get(seq);
    if (msg && msg.state === "scheduled") this.#remove(msg);
  }

  /** Lock expiry, scheduled activation and TTL expiry; called periodically. */
  sweep(now: number): void {
    let changed = false;
    for (const msg of [...this.#locks.values()]) {
      if (msg.lock && msg.lock.until <= now) {
        this.#release(msg);
        changed = true;
      }
    }
    for (const msg of this.#scheduled) {
      if (msg.state !== "scheduled" || this.messages.get(msg.seq) !== msg) this.#scheduled.delete(msg);
      else if ((msg.scheduledAt ?? 0) <= now) {
        this.#scheduled.delete(msg);
        msg.state = "active";
        msg.scheduledAt = undefined;
        this.ctx.persist({ t: "upd", q: this.key, seq: msg.seq, state: "active" });
        this.#markReady(msg);
        changed = true;
      }
    }
    // TTL expiry walks the messages only when the earliest expiry is due.
    if (now >= this.#nextExpiry) {
      let nextExpiry = Infinity;
      for (const msg of [...this.messages.values()]) {
        if (!msg.lock && msg.state === "active" && msg.expiresAt !== undefined && msg.expiresAt <= now) {
          this.#expire(msg);
          continue;
        }
        if (msg.expiresAt !== undefined && msg.expiresAt < nextExpiry) nextExpiry = msg.expiresAt;
      }
      this.#nextExpiry = nextExpiry;
    }
    if (changed) this.pump();
  }

  applyUpdate(record: Extract<LogRecord, { t: "upd" }>, decode: (raw: string) => AmqpMessage): void {
    const msg = this.messages.get(record.seq);
    if (!msg) return;
    if (record.deliveries !== undefined) msg.deliveries = record.deliveries;
    if (record.state !== undefined) {
      msg.state = record.state;
      if (record.state !== "scheduled") msg.scheduledAt = undefined;
      if (record.state === "active") this.#markReady(msg);
    }
    if (record.raw) msg.message = decode(record.raw);
  }
}

let encodeForLog: (m: AmqpMessage) => string = () => {
  throw new Error("message encoder not set");
};

/** broker.ts provides the AMQP encoder (kept out of this module so it stays protocol-free). */
export function setMessageEncoder(encode: (m: AmqpMessage) => string): void {
  encodeForLog = encode;
}

function toRecord(msg: Msg, encode: (m: AmqpMessage) => string = encodeForLog): StoredMessageRecord {
  return {
    seq: msg.seq,
    raw: encode(msg.message),
    enqueuedAt: msg.enqueuedAt,
    ...(msg.expiresAt !== undefined ? { expiresAt: msg.expiresAt } : {}),
    deliveries: msg.deliveries,
    state: msg.state,
    ...(msg.scheduledAt !== undefined ? { scheduledAt: msg.scheduledAt } : {}),
  };
}

/** A queue as a send target: its own duplicate detection and scheduling. */
export class QueueTarget implements SendTarget {
  readonly duplicates: DuplicateDetector;

  constructor(
    readonly queue: Queue,
    readonly settings: SendableSettings,
    ctx: EntityContext,
  ) {
    this.duplicates = new DuplicateDetector(settings.duplicateDetectionWindowMs, queue.key, ctx);
  }

  get path(): string {
    return this.queue.path;
  }

  accept(message: AmqpMessage): void {
    if (this.duplicates.isDuplicate(message.message_id)) return;
    this.queue.enqueue(message, { ttlMs: this.settings.defaultTtlMs, scheduledAt: scheduledTimeOf(message) });
  }

  schedule(message: AmqpMessage, at: number): number {
    if (this.duplicates.isDuplicate(message.message_id)) return 0;
    return this.queue.enqueue(message, { ttlMs: this.settings.defaultTtlMs, scheduledAt: Math.max(at, 1) }).seq;
  }

  cancelScheduled(seq: number): void {
    this.queue.cancelScheduled(seq);
  }

  sweep(now: number): void {
    this.duplicates.prune(now);
  }
}

export interface Subscription {
  name: string;
  queue: Queue;
  rules: RuleDeclaration[];
}

/** A topic: duplicate detection, scheduling (held at the topic), and fan-out by the subscriptions' rules. */
export class Topic implements SendTarget {
  readonly duplicates: DuplicateDetector;
  /** Scheduled messages wait here (the topic's own sequence numbers) and fan out when due. */
  readonly scheduled: Queue;

  constructor(
    readonly path: string,
    readonly settings: SendableSettings,
    readonly subscriptions: Subscription[],
    private readonly ctx: EntityContext,
  ) {
    this.duplicates = new DuplicateDetector(settings.duplicateDetectionWindowMs, path.toLowerCase(), ctx);
    this.scheduled = new Queue(path, { lockDurationMs: 0, maxDeliveryCount: 1, deadLetteringOnMessageExpiration: false, defaultTtlMs: undefined }, undefined, ctx);
  }

  accept(message: AmqpMessage): void {
    if (this.duplicates.isDuplicate(message.message_id)) return;
    const at = scheduledTimeOf(message);
    if (at !== undefined && at > this.ctx.now()) this.scheduled.enqueue(message, { scheduledAt: at, noExpiry: true });
    else this.#fanOut(message);
  }

  schedule(message: AmqpMessage, at: number): number {
    if (this.duplicates.isDuplicate(message.message_id)) return 0;
    return this.scheduled.enqueue(message, { scheduledAt: Math.max(at, 1), noExpiry: true }).seq;
  }

  cancelScheduled(seq: number): void {
    this.scheduled.cancelScheduled(seq);
  }

  #fanOut(message: AmqpMessage): void {
    for (const sub of this.subscriptions) {
      if (sub.rules.some((rule) => ruleMatches(rule, message))) {
        sub.queue.enqueue({ ...message }, { ttlMs: this.settings.defaultTtlMs });
      }
    }
  }

  sweep(now: number): void {
    this.duplicates.prune(now);
    for (const msg of [...this.scheduled.messages.values()]) {
      if (msg.state === "scheduled" && (msg.scheduledAt ?? 0) <= now) {
        this.scheduled.messages.delete(msg.seq);
        this.ctx.persist({ t: "del", q: this.scheduled.key, seq: msg.seq });
        this.#fanOut(msg.message);
      }
    }
  }
}

/** A subscription without rules gets `$Default` (the true filter), as Service Bus creates it. */
export function effectiveRules(rules: RuleDeclaration[] | undefined): RuleDeclaration[] {
  return rules && rules.length > 0 ? rules : [{ name: "$Default", true: true }];
}

export function ruleMatches(rule: RuleDeclaration, message: AmqpMessage): boolean {
  if (rule.true === true) return true;
  if (rule.false === true) return false;
  return rule.correlation ? correlationMatches(rule.correlation, message) : false;
}

function correlationMatches(filter: CorrelationFilter, message: AmqpMessage): boolean {
  const system: [unknown, unknown][] = [
    [filter.correlationId, message.correlation_id],
    [filter.messageId, message.message_id],
    [filter.to, message.to],
    [filter.replyTo, message.reply_to],
    [filter.subject, message.subject],
    [filter.sessionId, message.group_id],
    [filter.replyToSessionId, message.reply_to_group_id],
    [filter.contentType, message.content_type],
  ];
  for (const [wanted, actual] of system) {
    if (wanted !== undefined && wanted !== null && (actual === undefined || actual === null || idText(actual) !== String(wanted))) return false;
  }
  const props = filter.properties ?? (filter as { applicationProperties?: Record<string, unknown> }).applicationProperties;
  for (const [name, wanted] of Object.entries(props ?? {})) {
    const actual = message.application_properties?.[name];
    if (actual === undefined || !sameValue(actual, wanted)) return false;
  }
  return true;
}

function sameValue(actual: unknown, wanted: unknown): boolean {
  if (actual instanceof Date) return wanted instanceof Date ? actual.getTime() === wanted.getTime() : actual.toISOString() === wanted;
  return actual === wanted;
}
