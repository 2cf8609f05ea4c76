import type { Executor } from "../db/client.js";

/** Who caused a change, carried into audit rows and outbox events. */
export interface Actor {
  userId: string | null;
  requestId: string | null;
  clientIp: string | null;
  traceparent: string | null;
}

/**
 * What a domain operation runs with: the caller's transaction (or the pool), the clock and the id
 * source (injected so tests can fix them), and the actor.
 */
export interface DomainContext {
  db: Executor;
  now(): Date;
  newId(): string;
  actor: Actor;
  /** How many hours a seat is held for payment (the PAYMENT_HOLD_HOURS setting); left out: 48. */
  paymentHoldHours?: number;
  /** Told when an event was written to the outbox, so the caller can ask the relay to publish after commit. */
  onEventRecorded?: () => void;
  /** Told which email deliveries were recorded, so the caller can send them once the transaction commits. */
  onEmailsRecorded?: (ids: string[]) => void;
  /** Told which SMS and push deliveries were recorded, so the caller can send them once the transaction commits. */
  onChannelMessagesRecorded?: (ids: string[]) => void;
}

export const systemActor: Actor = { userId: null, requestId: null, clientIp: null, traceparent: null };
