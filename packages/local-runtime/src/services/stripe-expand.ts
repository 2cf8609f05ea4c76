// Stripe's `expand[]`: an id field named by a path (`latest_charge`, `payment_intent.latest_charge`, in lists
// `data.source`) is answered as the object it names. Answers are copies: the stored objects never change here.
import type { StripeAccount } from "./stripe-state.js";

const maxLevels = 4;

/** A copy of `body` with the `paths` expanded, or the path that cannot be expanded. */
export function expandAnswer(account: StripeAccount, body: unknown, paths: string[]): { body: unknown } | { bad: string } {
  if (paths.length === 0) return { body };
  const copy = structuredClone(body);
  for (const path of paths) {
    const segments = path.split(".");
    if (segments.length > maxLevels || segments.some((s) => !/^[a-z_]+$/.test(s))) return { bad: path };
    if (!expandPath(account, copy, segments)) return { bad: path };
  }
  return { body: copy };
}

function expandPath(account: StripeAccount, node: unknown, segments: string[]): boolean {
  if (Array.isArray(node)) return node.every((item) => expandPath(account, item, segments));
  if (typeof node !== "object" || node === null) return false;
  const record = node as Record<string, unknown>;
  const [head, ...rest] = segments as [string, ...string[]];
  if (!(head in record)) return false;
  let value = record[head];
  if (typeof value === "string") {
    const found = lookup(account, value);
    if (!found) return false;
    value = record[head] = structuredClone(found);
  }
  if (value === null) return rest.length === 0;
  return rest.length === 0 ? typeof value === "object" : expandPath(account, value, rest);
}

function lookup(account: StripeAccount, id: string): object | undefined {
  if (id.startsWith("cs_test_")) return account.sessions.get(id);
  if (id.startsWith("pi_")) return account.paymentIntents.get(id);
  if (id.startsWith("ch_")) return account.charges.get(id);
  if (id.startsWith("re_")) return account.refunds.get(id);
  if (id.startsWith("txn_")) return account.balanceTransactions.find((t) => t.id === id);
  if (id.startsWith("po_")) return account.payouts.find((p) => p.id === id);
  return undefined;
}
