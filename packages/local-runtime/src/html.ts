// HTML escaping for the runtime's development pages (the mailbox and the Stripe emulator's Checkout page).

/** Escapes text for HTML content and for quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
