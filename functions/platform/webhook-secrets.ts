import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { z } from "zod";
import type { SecretSealer } from "../../domain/webhooks/secret-sealer.js";

export interface SealingKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * `WEBHOOK_SECRET_KEYS`: `id:base64key,id:base64key`, each key 32 random bytes. The first key seals, every key
 * opens, so a new key is rolled out second, then moved first, then the old one is dropped once a rotation ran.
 * Messages never echo key material.
 */
export const keyRingSchema = z.string({ error: "is required: <id>:<base64 32-byte key>[,<id>:<key>...]" }).transform((value, ctx): SealingKey[] => {
  const ring: SealingKey[] = [];
  for (const [i, entry] of value.split(",").map((e) => e.trim()).entries()) {
    const colon = entry.indexOf(":");
    const id = colon < 0 ? "" : entry.slice(0, colon);
    const encoded = colon < 0 ? "" : entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      ctx.addIssue({ code: "custom", message: `entry ${i + 1}: must be <id>:<base64 key>, the id 1-32 letters, digits, _ or -` });
      continue;
    }
    const key = Buffer.from(encoded, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) {
      ctx.addIssue({ code: "custom", message: `key ${id}: must be 32 bytes, base64-encoded (e.g. openssl rand -base64 32)` });
      continue;
    }
    if (ring.some((k) => k.id === id)) ctx.addIssue({ code: "custom", message: `key ${id}: the id appears twice` });
    ring.push({ id, key });
  }
  return ring;
});

// enc:v1:<key id>:<base64url of iv (12 bytes) | ciphertext | tag (16 bytes)>
const PREFIX = "enc:v1:";

export class UnknownSealingKey extends Error {}

/**
 * AES-256-GCM sealing of webhook signing secrets under the key ring. The webhook id is authenticated with the
 * ciphertext, so a sealed secret copied onto another row does not open there.
 */
export function createSecretSealer(ring: readonly SealingKey[]): SecretSealer {
  const current = ring[0];
  if (!current) throw new Error("WEBHOOK_SECRET_KEYS holds no key");
  const byId = new Map(ring.map((k) => [k.id, k.key]));
  return {
    seal(plaintext, webhookId) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv).setAAD(Buffer.from(webhookId));
      const sealed = Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${current.id}:${sealed.toString("base64url")}`;
    },
    open(stored, webhookId) {
      // Rows written before secrets were sealed hold the plain value.
      if (!stored.startsWith(PREFIX)) return stored;
      const [keyId = "", payload = ""] = stored.slice(PREFIX.length).split(":");
      const key = byId.get(keyId);
      if (!key) throw new UnknownSealingKey(`webhook ${webhookId}: its secret is sealed with key ${keyId}, which WEBHOOK_SECRET_KEYS no longer holds`);
      const raw = Buffer.from(payload, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12)).setAAD(Buffer.from(webhookId));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
    },
    isSealed: (stored) => stored.startsWith(PREFIX),
    isCurrent: (stored) => stored.startsWith(`${PREFIX}${current.id}:`),
  };
}

const sealers = new WeakMap<readonly SealingKey[], SecretSealer>();

/** The sealer of these settings, built once (the key ring is parsed once with the settings). */
export function secretSealer(settings: { WEBHOOK_SECRET_KEYS: readonly SealingKey[] }): SecretSealer {
  let sealer = sealers.get(settings.WEBHOOK_SECRET_KEYS);
  if (!sealer) {
    sealer = createSecretSealer(settings.WEBHOOK_SECRET_KEYS);
    sealers.set(settings.WEBHOOK_SECRET_KEYS, sealer);
  }
  return sealer;
}
