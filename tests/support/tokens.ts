import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { repoRoot } from "./app.js";

/** The HS256 secret, issuer and audience the tests run with: the sample settings' values. */
const sample = JSON.parse(readFileSync(join(repoRoot, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
export const TEST_SECRET = sample.Values.AUTH_JWT_SECRET as string;
export const TEST_ISSUER = sample.Values.AUTH_JWT_ISSUER as string;
export const TEST_AUDIENCE = sample.Values.AUTH_JWT_AUDIENCE as string;

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Claims of a local access token for `userId`, valid for ten minutes unless overridden (`undefined` drops a claim). */
export function localClaims(userId: string, overrides: Partial<Record<keyof JWTPayload | string, unknown>> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { sub: userId, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 600, ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims as JWTPayload;
}

/** Signs `payload` exactly as given (no defaults added) with HMAC-SHA256 over `secret`. */
export async function signHs256(payload: JWTPayload, secret: string | Uint8Array = TEST_SECRET, header: Record<string, unknown> = {}): Promise<string> {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload).setProtectedHeader({ typ: "JWT", ...header, alg: "HS256" }).sign(key);
}

/** Signs `payload` with an asymmetric private key, naming `kid` in the header. */
export async function signWith(payload: JWTPayload, key: TestKey, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ typ: "JWT", kid: key.kid, ...header, alg: key.alg }).sign(key.privateKey);
}

const b64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** An unsecured JWT (`alg: none`, empty signature). */
export function unsignedToken(payload: JWTPayload, header: Record<string, unknown> = { alg: "none", typ: "JWT" }): string {
  return `${b64url(header)}.${b64url(payload)}.`;
}

/** The same token with its signature's bytes altered (a valid base64url signature of the right length). */
export function tamperSignature(token: string): string {
  const [h, p, s] = token.split(".") as [string, string, string];
  const sig = Buffer.from(s, "base64url");
  sig[0] = (sig[0] ?? 0) ^ 0xff;
  sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0x01;
  return `${h}.${p}.${sig.toString("base64url")}`;
}

/** The same token with its payload replaced (the old signature kept). */
export function swapPayload(token: string, payload: JWTPayload): string {
  const [h, , s] = token.split(".") as [string, string, string];
  return `${h}.${b64url(payload)}.${s}`;
}

export function decodePart(token: string, part: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[part] as string, "base64url").toString("utf8")) as Record<string, unknown>;
}

export interface TestKey {
  alg: "RS256" | "ES256";
  kid: string;
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
  /** The public key as PEM (SubjectPublicKeyInfo), the usual victim of algorithm confusion. */
  spkiPem: string;
}

export async function testKey(alg: "RS256" | "ES256", kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, privateKey, privateJwk, publicJwk, spkiPem: await exportSPKI(publicKey) };
}

/** `AUTH_JWT_PRIVATE_JWKS` for these keys (the first signs). */
export const privateJwks = (...keys: TestKey[]) => JSON.stringify({ keys: keys.map((k) => k.privateJwk) });
/** A public JWK set, as an OIDC issuer serves it. */
export const publicJwks = (...keys: TestKey[]) => ({ keys: keys.map((k) => k.publicJwk) });
