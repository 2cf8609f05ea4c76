import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, uniqueEmail } from "../../support/identity.js";
import { localClaims, nowSeconds, publicJwks, signHs256, signWith, TEST_SECRET, type TestKey, testKey, unsignedToken } from "../../support/tokens.js";

/**
 * An OpenID Connect issuer of the test's own: a JWKS over plain HTTP on 127.0.0.1. The app trusts it
 * through AUTH_OIDC_ISSUER / AUTH_OIDC_JWKS_URL / AUTH_OIDC_AUDIENCE and maps its subjects to local users.
 */
const AUDIENCE = "ringlet-test";

let db: TestDatabase;
let app: RunningApp;
let idp: Server;
let issuer: string;
let idpKey: TestKey;
let jwksRequests = 0;

beforeAll(async () => {
  idpKey = await testKey("RS256", "idp-key-1");
  idp = createServer((req, res) => {
    if (req.url === "/jwks") {
      jwksRequests += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(publicJwks(idpKey)));
      return;
    }
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}jwks`, id_token_signing_alg_values_supported: ["RS256"] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => idp.listen(0, "127.0.0.1", resolve));
  const { port } = idp.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}/`;

  db = await createTestDatabase();
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      AUTH_OIDC_ISSUER: issuer,
      AUTH_OIDC_JWKS_URL: `${issuer}jwks`,
      AUTH_OIDC_AUDIENCE: AUDIENCE,
      // Both apply to external tokens too (GET /v1/me, used by most cases here, is exempt from both).
      AUTH_TWO_FACTOR_REQUIRED: "admins",
      AUTH_UNVERIFIED_ACCESS: "none",
    },
  });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
});

let subjects = 0;
const newSubject = () => `idp-subject-${Date.now().toString(36)}-${(subjects += 1)}`;

/** Claims of an ID/access token from the test issuer, valid for ten minutes unless overridden. */
function idpClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  const now = nowSeconds();
  const claims: Record<string, unknown> = { iss: issuer, aud: AUDIENCE, sub: newSubject(), iat: now, exp: now + 600, ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims as JWTPayload;
}

const idpToken = (overrides: Record<string, unknown> = {}) => signWith(idpClaims(overrides), idpKey);

async function me(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await call(app, "GET", "/v1/me", { token });
  return { status: res.status, body: await jsonOf(res) };
}

async function expectUnauthenticated(token: string, label: string) {
  const res = await call(app, "GET", "/v1/me", { token });
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).toBe(401);
  expect(res.headers.get("content-type"), label).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("www-authenticate"), label).toMatch(/^Bearer\b/);
  expect((JSON.parse(text) as { code: string }).code, label).toBe("UNAUTHENTICATED");
}

async function externalIdentityOf(subject: string) {
  return db.sql<{ user_id: string }[]>`select user_id from external_identities where issuer = ${issuer} and subject = ${subject}`;
}

describe("tokens from an external OpenID Connect issuer", () => {
  it("signs in a new subject and creates a local user for it", async () => {
    const sub = newSubject();
    const email = uniqueEmail("ext");
    const { status, body } = await me(await idpToken({ sub, email, email_verified: true, name: "Ada External" }));
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ email, displayName: "Ada External", emailVerified: true });
    const links = await externalIdentityOf(sub);
    expect(links.map((l) => l.user_id)).toEqual([body.id]);
    const [user] = await db.sql<{ email: string; password_hash: string | null; is_admin: boolean }[]>`select email, password_hash, is_admin from users where id = ${body.id as string}`;
    expect(user).toEqual({ email, password_hash: null, is_admin: false });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it("maps the same subject to the same user every time", async () => {
    const sub = newSubject();
    const first = await me(await idpToken({ sub, email: uniqueEmail("ext"), email_verified: true, name: "Same" }));
    const second = await me(await idpToken({ sub, email: uniqueEmail("changed"), email_verified: true, name: "Same, renamed" }));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(await externalIdentityOf(sub)).toHaveLength(1);
  });

  it("maps a second subject to another user", async () => {
    const a = await me(await idpToken({ email: uniqueEmail("ext-a"), email_verified: true }));
    const b = await me(await idpToken({ email: uniqueEmail("ext-b"), email_verified: true }));
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.id).not.toBe(a.body.id);
  });

  it("confirms the address an existing external user has once the issuer vouches for it", async () => {
    const sub = newSubject();
    const email = uniqueEmail("later-verified");
    const first = await me(await idpToken({ sub, email, email_verified: true }));
    await db.sql`update users set email_verified_at = null where id = ${first.body.id as string}`;
    expect((await me(await idpToken({ sub, email, email_verified: false }))).body).toMatchObject({ email, emailVerified: false });
    expect((await me(await idpToken({ sub, email: email.toUpperCase(), email_verified: true }))).body).toMatchObject({ email, emailVerified: true });
    const audit = await db.sql`select details from audit_log where action = 'user.email-verified' and target_id = ${first.body.id as string}`;
    expect(audit).toEqual([{ details: { via: "issuer", issuer } }]);
  });

  it("under AUTH_UNVERIFIED_ACCESS=none refuses an external user whose address the issuer did not confirm, except on /v1/me", async () => {
    const unverified = await idpToken({ email: uniqueEmail("unconfirmed"), email_verified: false });
    expect((await me(unverified)).status).toBe(200);
    const refused = await call(app, "GET", "/v1/me/enrollments", { token: unverified });
    expect(refused.status, await refused.clone().text()).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe("EMAIL_NOT_VERIFIED");
    const verified = await idpToken({ email: uniqueEmail("confirmed"), email_verified: true });
    expect((await call(app, "GET", "/v1/me/enrollments", { token: verified })).status).toBe(200);
  });

  it("applies the two-factor rule to an external admin through the token's amr claim", async () => {
    const sub = newSubject();
    const email = uniqueEmail("ext-admin");
    const first = await me(await idpToken({ sub, email, email_verified: true }));
    await db.sql`update users set is_admin = true where id = ${first.body.id as string}`;
    const passwordOnly = await call(app, "GET", "/v1/users", { token: await idpToken({ sub, email, email_verified: true, amr: ["pwd"] }) });
    expect(passwordOnly.status).toBe(403);
    expect(((await passwordOnly.json()) as { code: string }).code).toBe("TWO_FACTOR_REQUIRED");
    expect((await call(app, "GET", "/v1/users", { token: await idpToken({ sub, email, email_verified: true }) })).status).toBe(403);
    expect((await call(app, "GET", "/v1/users", { token: await idpToken({ sub, email, email_verified: true, amr: ["pwd", "mfa"] }) })).status).toBe(200);
  });

  it("signs in a subject the issuer gives no email for, under a placeholder address", async () => {
    const { status, body } = await me(await idpToken());
    expect(status).toBe(200);
    expect(body.email).toMatch(/@users\.invalid$/);
  });

  it("refuses a token for another audience", async () => {
    await expectUnauthenticated(await idpToken({ aud: "someone-else" }), "wrong audience");
    await expectUnauthenticated(await idpToken({ aud: "ringlet-api" }), "the local audience");
    await expectUnauthenticated(await idpToken({ aud: undefined }), "no audience");
  });

  it("refuses a token signed by another key, under the issuer's kid or another", async () => {
    const stranger = await testKey("RS256", "idp-key-1");
    await expectUnauthenticated(await signWith(idpClaims(), stranger), "another key, same kid");
    await expectUnauthenticated(await signWith(idpClaims(), stranger, { kid: "rotated-elsewhere" }), "another key, unknown kid");
    const ec = await testKey("ES256", "idp-key-1");
    await expectUnauthenticated(await signWith(idpClaims(), ec), "ES256 key the issuer does not publish");
  });

  it("refuses an HS256 token naming the issuer, whatever the secret", async () => {
    const claims = idpClaims();
    for (const [label, secret] of [
      ["the issuer's public key (PEM)", idpKey.spkiPem],
      ["the issuer's JWK n", idpKey.publicJwk.n as string],
      ["the local HS256 secret", TEST_SECRET],
    ] as const) {
      await expectUnauthenticated(await signHs256(claims, secret, { kid: idpKey.kid }), `HS256 with ${label}`);
    }
    await expectUnauthenticated(unsignedToken(claims, { alg: "none", kid: idpKey.kid }), "alg none");
  });

  it("refuses an expired token and one without a subject", async () => {
    const now = nowSeconds();
    await expectUnauthenticated(await idpToken({ iat: now - 900, exp: now - 120 }), "expired");
    await expectUnauthenticated(await idpToken({ sub: undefined }), "no subject");
  });

  it("does not accept the issuer's key for tokens that name the local issuer", async () => {
    const local = await signUp(app, db, { label: "local-victim" });
    await expectUnauthenticated(await signWith(localClaims(local.id), idpKey), "IdP-signed token with local iss/aud");
  });

  it("never merges into an existing local account, even for a verified email (local sign-up proves no ownership)", async () => {
    const local = await signUp(app, db, { label: "linked" });
    const sub = newSubject();
    const { status, body } = await me(await idpToken({ sub, email: local.email.toUpperCase(), email_verified: true, name: "Linked" }));
    expect(status).toBe(200);
    expect(body.id).not.toBe(local.id);
    expect(body.email).toMatch(/@users\.invalid$/);
    expect((await externalIdentityOf(sub)).map((l) => l.user_id)).toEqual([body.id]);
    // The local account is untouched and keeps working.
    expect((await me(local.accessToken)).body.id).toBe(local.id);
  });

  it("keeps a verified address nobody has", async () => {
    const email = uniqueEmail("fresh");
    const { status, body } = await me(await idpToken({ sub: newSubject(), email, email_verified: true, name: "Fresh" }));
    expect(status).toBe(200);
    expect(body.email).toBe(email);
  });

  it("does not link an unverified email to the existing local user, but creates another user", async () => {
    const local = await signUp(app, db, { label: "not-linked" });
    for (const emailVerified of [false, undefined, "true", 1]) {
      const sub = newSubject();
      const { status, body } = await me(await idpToken({ sub, email: local.email, email_verified: emailVerified, name: "Impostor" }));
      expect(status, `email_verified ${JSON.stringify(emailVerified)}`).toBe(200);
      expect(body.id, `email_verified ${JSON.stringify(emailVerified)}`).not.toBe(local.id);
      expect(body.email, `email_verified ${JSON.stringify(emailVerified)}`).not.toBe(local.email);
    }
    const [row] = await db.sql<{ email: string; display_name: string }[]>`select email, display_name from users where id = ${local.id}`;
    expect(row?.email).toBe(local.email);
  });

  it("does not merge a verified sign-in into an account an unverified claim created for the same address", async () => {
    // Pre-account takeover: an attacker's subject claims the victim's address unverified first...
    const victimEmail = uniqueEmail("victim");
    const attacker = await me(await idpToken({ sub: newSubject(), email: victimEmail, email_verified: false, name: "Attacker" }));
    expect(attacker.status).toBe(200);
    // ...then the victim signs in with the address verified: they must not land in the attacker's account.
    const victim = await me(await idpToken({ sub: newSubject(), email: victimEmail, email_verified: true, name: "Victim" }));
    expect(victim.status).toBe(200);
    expect(victim.body.id, "the victim was linked to the account the attacker's unverified claim created").not.toBe(attacker.body.id);
  });

  it("refuses the external user once the local account is disabled", async () => {
    const sub = newSubject();
    const first = await me(await idpToken({ sub }));
    expect(first.status).toBe(200);
    await db.sql`update users set disabled_at = now() where id = ${first.body.id as string}`;
    await expectUnauthenticated(await idpToken({ sub }), "disabled external user");
  });

  it("keeps the local issuer's own tokens working alongside", async () => {
    const local = await signUp(app, db, { label: "local" });
    expect((await me(local.accessToken)).body.id).toBe(local.id);
    expect((await me(await signHs256(localClaims(local.id)))).body.id).toBe(local.id);
    // An external token and a local one in turn, on the same instance.
    const external = await me(await idpToken());
    expect(external.status).toBe(200);
    expect((await me(local.accessToken)).status).toBe(200);
  });

  it("maps concurrent first sign-ins of one subject to one user, without errors", async () => {
    // Several rounds: the race between first sightings is timing-dependent.
    for (let round = 0; round < 4; round += 1) {
      const sub = newSubject();
      const token = await idpToken({ sub, email: uniqueEmail("race"), email_verified: true });
      const answers = await Promise.all(Array.from({ length: 24 }, () => me(token)));
      expect(answers.map((a) => a.status), `round ${round}`).toEqual(Array(24).fill(200));
      expect(new Set(answers.map((a) => a.body.id)).size, `round ${round}`).toBe(1);
      expect(await externalIdentityOf(sub), `round ${round}`).toHaveLength(1);
    }
  });
});

describe("when the external issuer cannot be reached", () => {
  let offline: RunningApp;
  let offlineIssuer: string;

  beforeAll(async () => {
    const { freePort } = await import("@ringlet/local-runtime/ports");
    offlineIssuer = `http://127.0.0.1:${await freePort()}/`;
    offline = await startApp({
      env: { DATABASE_URL: db.url, AUTH_OIDC_ISSUER: offlineIssuer, AUTH_OIDC_JWKS_URL: `${offlineIssuer}jwks`, AUTH_OIDC_AUDIENCE: AUDIENCE },
    });
  });

  afterAll(async () => {
    await offline?.stop();
  });

  it("answers an external token with 401 or 503 problem+json, never 500", async () => {
    const token = await signWith(idpClaims({ iss: offlineIssuer }), idpKey);
    const res = await call(offline, "GET", "/v1/me", { token });
    const text = await res.text();
    expect([401, 503], `${res.status} ${text}`).toContain(res.status);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("still accepts the local issuer's tokens", async () => {
    const local = await signUp(offline, db, { label: "offline-local" });
    expect((await call(offline, "GET", "/v1/me", { token: local.accessToken })).status).toBe(200);
  });
});
