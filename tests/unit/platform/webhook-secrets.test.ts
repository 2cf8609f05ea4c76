import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretSealer, keyRingSchema, UnknownSealingKey } from "../../../functions/platform/webhook-secrets.js";

const key = (fill: number) => Buffer.alloc(32, fill).toString("base64");

describe("WEBHOOK_SECRET_KEYS", () => {
  it("reads a ring of ids and 32-byte base64 keys, the first one first", () => {
    const ring = keyRingSchema.parse(`k2:${key(2)}, k1:${key(1)}`);
    expect(ring.map((k) => k.id)).toEqual(["k2", "k1"]);
    expect(ring[0]?.key).toEqual(Buffer.alloc(32, 2));
  });

  it("names each malformed entry without repeating any key material", () => {
    const short = randomBytes(16).toString("base64");
    const result = keyRingSchema.safeParse(`k1:${short},nocolon,bad id:${key(1)},k3:${key(3)},k3:${key(4)},k5:not*base64`);
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => i.message) ?? [];
    expect(messages).toEqual([
      "key k1: must be 32 bytes, base64-encoded (e.g. openssl rand -base64 32)",
      "entry 2: must be <id>:<base64 key>, the id 1-32 letters, digits, _ or -",
      "entry 3: must be <id>:<base64 key>, the id 1-32 letters, digits, _ or -",
      "key k3: the id appears twice",
      "key k5: must be 32 bytes, base64-encoded (e.g. openssl rand -base64 32)",
    ]);
    expect(messages.join("\n")).not.toContain(short);
    expect(messages.join("\n")).not.toContain(key(3));
  });
});

describe("the secret sealer", () => {
  const k1 = { id: "k1", key: Buffer.alloc(32, 1) };
  const k2 = { id: "k2", key: Buffer.alloc(32, 2) };
  const webhookId = randomUUID();
  const secret = "whsec_0123456789abcdefghijklmnopqrstuv";

  it("seals under the first key, naming it, never holding the plain secret, and opens again", () => {
    const sealer = createSecretSealer([k1]);
    const sealed = sealer.seal(secret, webhookId);
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealer.seal(secret, webhookId), "a fresh nonce each time").not.toBe(sealed);
    expect(sealer.open(sealed, webhookId)).toBe(secret);
    expect(sealer.isSealed(sealed) && sealer.isCurrent(sealed)).toBe(true);
  });

  it("opens secrets sealed under a retired key until they are sealed again under the current one", () => {
    const sealedUnderK1 = createSecretSealer([k1]).seal(secret, webhookId);
    const rotated = createSecretSealer([k2, k1]);
    expect(rotated.open(sealedUnderK1, webhookId)).toBe(secret);
    expect(rotated.isCurrent(sealedUnderK1)).toBe(false);
    expect(rotated.isCurrent(rotated.seal(secret, webhookId))).toBe(true);
    expect(() => createSecretSealer([k2]).open(sealedUnderK1, webhookId)).toThrow(UnknownSealingKey);
  });

  it("reads a secret stored before sealing as it is, and knows it is not sealed", () => {
    const sealer = createSecretSealer([k1]);
    expect(sealer.open("whsec_legacy", webhookId)).toBe("whsec_legacy");
    expect(sealer.isSealed("whsec_legacy")).toBe(false);
    expect(sealer.isCurrent("whsec_legacy")).toBe(false);
  });

  it("refuses a sealed secret moved to another webhook, or altered", () => {
    const sealer = createSecretSealer([k1]);
    const sealed = sealer.seal(secret, webhookId);
    expect(() => sealer.open(sealed, randomUUID())).toThrow();
    const raw = Buffer.from(sealed.slice("enc:v1:k1:".length), "base64url");
    raw[20] = (raw[20] as number) ^ 1;
    expect(() => sealer.open(`enc:v1:k1:${raw.toString("base64url")}`, webhookId)).toThrow();
  });
});
