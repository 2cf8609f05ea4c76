// Ids shaped like Stripe's: a prefix (`cs_test`, `pi`, `ch`, `re`, `txn`, `po`, `evt`), an underscore, 24 random
// letters and digits.
import { randomBytes } from "node:crypto";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = "";
  // 62 letters: the modulo bias is irrelevant for ids that only need to be unique.
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return `${prefix}_${id}`;
}
