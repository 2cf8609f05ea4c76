import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
}

const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r, or node refuses the parameters.
    scryptCallback(password.normalize("NFKC"), salt, KEY_LENGTH, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$ln=15,r=8,p=1$<salt>$<hash>`: the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, params);
  return `scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

const STORED = /^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export interface Verification {
  ok: boolean;
  /** The stored hash used weaker parameters than the current ones: re-hash now that the password is known. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string, current: ScryptParams): Promise<Verification> {
  const m = STORED.exec(stored);
  if (!m) return { ok: false, needsRehash: false };
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5] as string, "base64url");
  const key = await scrypt(password, Buffer.from(m[4] as string, "base64url"), params);
  const ok = key.length === expected.length && timingSafeEqual(key, expected);
  const weaker = params.logN < current.logN || params.r < current.r || params.p < current.p;
  return { ok, needsRehash: ok && weaker };
}

let dummy: Promise<string> | undefined;

/** Spends the same time as a real check when there is no such user, so timing does not reveal accounts. */
export async function burnPasswordCheck(password: string, current: ScryptParams): Promise<void> {
  dummy ??= hashPassword("not-a-real-password-0000", current);
  await verifyPassword(password, await dummy, current);
}
