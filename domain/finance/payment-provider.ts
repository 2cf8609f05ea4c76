// What the domain needs from a payment provider (Stripe through functions/platform/stripe-provider.ts), as plain
// types: no provider SDK type crosses into domain/. Amounts are whole minor units, currencies upper-case ISO 4217.

export interface CheckoutRequest {
  /** The same key and request give the same checkout back (a retry after a timeout makes no second one). */
  idempotencyKey: string;
  invoiceId: string;
  attemptId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  description: string;
  customerEmail: string;
  successUrl: string;
  cancelUrl: string;
  expiresAt: Date;
}

export interface ProviderCheckout {
  sessionId: string;
  url: string;
  expiresAt: Date;
}

/** A payment at the provider (a Stripe PaymentIntent) as it is now. */
export interface ProviderPayment {
  id: string;
  /** Only `succeeded` is money received. */
  status: string;
  /** What was received; not trusted: the domain checks it is a positive whole number. */
  amountMinor: number;
  currency: string;
  /** What the checkout put there: `invoiceId`, `attemptId`, `userId`. */
  metadata: Record<string, string>;
  createdAt: Date;
}

/** A refund at the provider as it is now. */
export interface ProviderRefund {
  id: string;
  paymentId: string | null;
  status: string;
  amountMinor: number;
  currency: string;
  /** What Ringlet put there when it made the refund: `refundId`. Absent for refunds made at the provider. */
  metadata: Record<string, string>;
}

export interface RefundRequest {
  paymentId: string;
  amountMinor: number;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export interface Period {
  from: Date;
  to: Date;
}

export interface ProviderPayout {
  id: string;
  amountMinor: number;
  currency: string;
  status: string;
  arrivalDate: Date;
  createdAt: Date;
}

/** One movement of the provider's balance: a charge, a refund, a fee, a payout. */
export interface ProviderBalanceTransaction {
  id: string;
  type: string;
  /** Gross, signed as the provider signs it (a refund is negative). */
  amountMinor: number;
  feeMinor: number;
  currency: string;
  /** The payment (PaymentIntent) a charge belongs to, resolved by the adapter. */
  paymentId: string | null;
  /** The refund a refund movement is. */
  refundId: string | null;
  payoutId: string | null;
  createdAt: Date;
}

/** A webhook event, verified and reduced to what Ringlet acts on. */
export interface ProviderEvent {
  id: string;
  type: string;
  occurredAt: Date;
  objectId: string;
  subject:
    | { kind: "payment"; paymentId: string | null }
    | { kind: "refund"; paymentId: string | null }
    | { kind: "checkout-expired"; sessionId: string }
    | { kind: "other" };
}

export interface PaymentProvider {
  readonly name: "stripe";
  createCheckout(request: CheckoutRequest): Promise<ProviderCheckout>;
  /** Closes an open checkout so it can no longer be paid; ProviderRefused when it is not open (paid, or closed). */
  expireCheckout(sessionId: string): Promise<void>;
  retrievePayment(paymentId: string): Promise<ProviderPayment | null>;
  listRefunds(paymentId: string): Promise<ProviderRefund[]>;
  refund(request: RefundRequest): Promise<ProviderRefund>;
  listPayouts(period: Period): Promise<ProviderPayout[]>;
  listBalanceTransactions(period: Period): Promise<ProviderBalanceTransaction[]>;
}

/** The provider could not be reached or failed on its side: try again later (503 with Retry-After). */
export class ProviderUnavailable extends Error {
  constructor(message: string, readonly retryAfterSeconds = 5) {
    super(message);
    this.name = "ProviderUnavailable";
  }
}

/** The provider refused the request as asked (a refund larger than what is left, a closed payment). */
export class ProviderRefused extends Error {
  constructor(message: string, readonly providerCode: string | null) {
    super(message);
    this.name = "ProviderRefused";
  }
}

/** A period holds more than the adapter reads at once: ask for a shorter one (never a silently cut list). */
export class ProviderListTooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProviderListTooLarge";
  }
}
