// The Stripe emulator's shapes as its admin API (`/admin/stripe`) answers them, for the app's tests.
export type { Delivery, StoredEvent, StripeEvent } from "./stripe-webhooks.js";
export type { PayOptions } from "./stripe-state.js";
