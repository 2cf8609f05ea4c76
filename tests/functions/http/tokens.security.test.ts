import { importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, login, signUp, type TestUser } from "../../support/identity.js";
import {
  decodePart,
  localClaims,
  nowSeconds,
  privateJwks,
  signHs256,
  signWith,
  swapPayload,
  tamperSignature,
  TEST_SECRET,
  type TestKey,
  testKey,
  unsignedToken,
} from "../../support/tokens.js";

let db: TestDatabase;
let app: RunningApp;
let user: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  user = await signUp(app, db, { label: "token-owner" });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

/** Calls `GET /api/v1/me` (or `path`) with a raw Authorization header value. */
async function withAuthorization(target: RunningApp, authorization: string, path = "/v1/me") {
  return call(target, "GET", path, { headers: { authorization } });
}

/** A refusal as the API promises it: 401 problem+json, code UNAUTHENTICATED, a Bearer challenge. */
async function expectUnauthenticated(res: Response, label: string) {
  const text = await res.text();
  expect(res.status, `${label}: ${res.status} ${text}`).toBe(401);
  expect(res.headers.get("content-type"), label).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("www-authenticate"), label).toMatch(/^Bearer\b/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body, label).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
}

async function expectMe(res: Response, userId: string, label: string) {
  const text = await res.text();
  expect(res.status, `${label}: ${res.status} ${text}`).toBe(200);
  expect((JSON.parse(text) as { id: string }).id).toBe(userId);
}

describe("bearer tokens with HS256", () => {
  it("accepts the token a sign-in issued and a token signed with the configured secret", async () => {
    await expectMe(await call(app, "GET", "/v1/me", { token: user.accessToken }), user.id, "issued token");
    await expectMe(await call(app, "GET", "/v1/me", { token: await signHs256(localClaims(user.id)) }), user.id, "self-signed token");
  });

  it("answers 401 without a token on an authenticated route", async () => {
    await expectUnauthenticated(await call(app, "GET", "/v1/me"), "no Authorization header");
  });

  it("refuses a token expired longer ago than the clock skew", async () => {
    const now = nowSeconds();
    const token = await signHs256(localClaims(user.id, { iat: now - 600, exp: now - 120 }));
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), "expired 120 s ago");
  });

  it("accepts a token expired by less than the 30 s clock skew", async () => {
    const now = nowSeconds();
    const token = await signHs256(localClaims(user.id, { iat: now - 600, exp: now - 10 }));
    await expectMe(await call(app, "GET", "/v1/me", { token }), user.id, "expired 10 s ago");
  });

  it("refuses a token not yet valid (nbf beyond the skew)", async () => {
    const token = await signHs256(localClaims(user.id, { nbf: nowSeconds() + 600 }));
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), "nbf in 10 minutes");
  });

  it("refuses a token without an expiry, subject or issued-at", async () => {
    for (const missing of ["exp", "sub", "iat"] as const) {
      const token = await signHs256(localClaims(user.id, { [missing]: undefined }));
      await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), `no ${missing}`);
    }
  });

  it("refuses a token for another audience", async () => {
    for (const aud of ["other-api", ["other-api", "another-api"], ""]) {
      const token = await signHs256(localClaims(user.id, { aud }));
      await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), `aud ${JSON.stringify(aud)}`);
    }
  });

  it("refuses a token from another issuer", async () => {
    for (const iss of ["someone-else", "https://login.example.test/", "RINGLET"]) {
      const token = await signHs256(localClaims(user.id, { iss }));
      await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), `iss ${iss}`);
    }
    const noIssuer = await signHs256(localClaims(user.id, { iss: undefined }));
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: noIssuer }), "no iss");
  });

  it("refuses a token whose signature does not match", async () => {
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: tamperSignature(user.accessToken) }), "altered signature");
    const otherSecret = await signHs256(localClaims(user.id), `${TEST_SECRET}-but-not-quite`);
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: otherSecret }), "signed with another secret");
    const stripped = user.accessToken.split(".").slice(0, 2).join(".") + ".";
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: stripped }), "signature removed");
  });

  it("refuses a signed token whose payload was swapped for another user's", async () => {
    const other = await signUp(app, db, { label: "victim" });
    const forged = swapPayload(user.accessToken, { ...decodePart(user.accessToken, 1), sub: other.id });
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: forged }), "payload swapped");
  });

  it("refuses unsigned tokens (alg none) in every spelling", async () => {
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      const token = unsignedToken(localClaims(user.id), { alg, typ: "JWT" });
      await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), `alg ${alg}`);
    }
    // The issued token's header and payload, with alg switched to none and the signature dropped.
    const payload = decodePart(user.accessToken, 1);
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: unsignedToken(payload) }), "issued token made unsigned");
  });

  it("refuses a token signed with another HMAC strength than the pinned HS256", async () => {
    const key = new TextEncoder().encode(TEST_SECRET);
    for (const alg of ["HS384", "HS512"]) {
      const token = await new SignJWT(localClaims(user.id)).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
      await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), alg);
    }
  });

  it("answers 401 for malformed Authorization headers", async () => {
    const values = [
      "Bearer",
      "Bearer ",
      "Basic x",
      `Basic ${Buffer.from(`${user.email}:${user.password}`).toString("base64")}`,
      "garbage",
      "Bearer garbage",
      "Bearer a.b",
      "Bearer a.b.c",
      "Bearer ...",
      `Bearer ${user.accessToken} extra`,
      `Bearer ${user.accessToken}.x`,
      `Token ${user.accessToken}`,
      `${user.accessToken}`,
      `Bearer ${Buffer.from("{not json").toString("base64url")}.${Buffer.from("{}").toString("base64url")}.`,
      `Bearer ${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from("[1,2]").toString("base64url")}.sig`,
      `Bearer ${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from('"a string"').toString("base64url")}.sig`,
      // Long, but within what the HTTP server accepts in headers (16 KiB): the token parser must cope.
      `Bearer ${"A".repeat(6_000)}.${"B".repeat(6_000)}.${"C".repeat(100)}`,
    ];
    for (const value of values) await expectUnauthenticated(await withAuthorization(app, value), `Authorization: ${value.slice(0, 60)}`);
    await expectUnauthenticated(await withAuthorization(app, ""), "empty Authorization header");
  });

  it("refuses a correctly signed token whose user does not exist", async () => {
    const token = await signHs256(localClaims("0190d6c4-0000-7000-8000-000000000000"));
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token }), "unknown user id");
  });

  it("refuses a correctly signed token whose subject is not a user id at all (401, not 500)", async () => {
    const statuses: Record<string, number> = {};
    for (const sub of ["not-a-uuid", "admin", "' or 1=1 --", "0190d6c4-0000-7000-8000-00000000000Z", ""]) {
      const res = await call(app, "GET", "/v1/me", { token: await signHs256(localClaims(user.id, { sub })) });
      statuses[JSON.stringify(sub)] = res.status;
    }
    expect(statuses).toEqual(Object.fromEntries(Object.keys(statuses).map((k) => [k, 401])));
  });

  it("refuses the token of a disabled user at once, and of a deleted one", async () => {
    const disabled = await signUp(app, db, { label: "disabled" });
    await expectMe(await call(app, "GET", "/v1/me", { token: disabled.accessToken }), disabled.id, "before disabling");
    await db.sql`update users set disabled_at = now() where id = ${disabled.id}`;
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: disabled.accessToken }), "disabled user");
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: await signHs256(localClaims(disabled.id)) }), "disabled user, fresh token");

    const deleted = await signUp(app, db, { label: "deleted" });
    await db.sql`delete from users where id = ${deleted.id}`;
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: deleted.accessToken }), "deleted user");
  });

  it("answers 401 to a bad token on a public route too", async () => {
    for (const path of ["/health", "/openapi.json", "/v1/auth/login"]) {
      await expectUnauthenticated(await withAuthorization(app, "Bearer not.a.token", path), `${path} with a bad token`);
      await expectUnauthenticated(await withAuthorization(app, `Bearer ${tamperSignature(user.accessToken)}`, path), `${path} with a bad signature`);
    }
    // A public route still answers without any token, and with a good one.
    expect((await call(app, "GET", "/health")).status).toBe(200);
    expect((await call(app, "GET", "/health", { token: user.accessToken })).status).toBe(200);
    // And an unknown path with a bad token is refused before routing details leak.
    await expectUnauthenticated(await withAuthorization(app, "Bearer not.a.token", "/v1/no-such-route"), "catch-all with a bad token");
  });
});

describe("bearer tokens with a private JWK set", () => {
  let rsaApp: RunningApp;
  let esApp: RunningApp;
  let rsa1: TestKey;
  let rsa2: TestKey;
  let es1: TestKey;
  let es2: TestKey;
  let rsaUser: TestUser;
  let esUser: TestUser;

  beforeAll(async () => {
    [rsa1, rsa2, es1, es2] = await Promise.all([testKey("RS256", "rsa-2025"), testKey("RS256", "rsa-2026"), testKey("ES256", "ec-2025"), testKey("ES256", "ec-2026")]);
    [rsaApp, esApp] = await Promise.all([
      startApp({ env: { DATABASE_URL: db.url, AUTH_JWT_ALGORITHM: "RS256", AUTH_JWT_SECRET: "", AUTH_JWT_PRIVATE_JWKS: privateJwks(rsa1, rsa2) } }),
      startApp({ env: { DATABASE_URL: db.url, AUTH_JWT_ALGORITHM: "ES256", AUTH_JWT_SECRET: "", AUTH_JWT_PRIVATE_JWKS: privateJwks(es1, es2) } }),
    ]);
    // The apps share the database: the same accounts sign in to each.
    rsaUser = await signIn(rsaApp, user);
    esUser = await signIn(esApp, user);
  });

  afterAll(async () => {
    await Promise.all([rsaApp?.stop(), esApp?.stop()]);
  });

  async function signIn(target: RunningApp, who: TestUser): Promise<TestUser> {
    const res = await login(target, who.email, who.password);
    expect(res.status).toBe(200);
    const body = (await jsonOf(res)) as { accessToken: string; refreshToken: string };
    return { ...who, accessToken: body.accessToken, refreshToken: body.refreshToken };
  }

  it("issues RS256 tokens with the first key's kid, and they verify", async () => {
    expect(decodePart(rsaUser.accessToken, 0)).toMatchObject({ alg: "RS256", kid: "rsa-2025" });
    await expectMe(await call(rsaApp, "GET", "/v1/me", { token: rsaUser.accessToken }), user.id, "RS256 issued token");
  });

  it("issues ES256 tokens with the first key's kid, and they verify", async () => {
    expect(decodePart(esUser.accessToken, 0)).toMatchObject({ alg: "ES256", kid: "ec-2025" });
    await expectMe(await call(esApp, "GET", "/v1/me", { token: esUser.accessToken }), user.id, "ES256 issued token");
  });

  it("verifies a token signed with the second key of the set by its kid (rotation)", async () => {
    await expectMe(await call(rsaApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), rsa2) }), user.id, "RS256 second key");
    await expectMe(await call(esApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), es2) }), user.id, "ES256 second key");
  });

  it("refuses a token signed with one key of the set but naming another's kid, or an unknown kid", async () => {
    await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), rsa2, { kid: rsa1.kid }) }), "rsa2 signed, kid rsa1");
    const stranger = await testKey("RS256", "rsa-2026");
    await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), stranger) }), "unknown key, known kid");
    await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), stranger, { kid: "nope" }) }), "unknown kid");
  });

  it("refuses an HS256 token forged with the RSA public key as the HMAC secret (algorithm confusion)", async () => {
    const claims = localClaims(user.id);
    const secrets: [string, string | Uint8Array][] = [
      ["SPKI PEM", rsa1.spkiPem],
      ["SPKI PEM without trailing newline", rsa1.spkiPem.trimEnd()],
      ["SPKI DER", new Uint8Array(Buffer.from(rsa1.spkiPem.replace(/-----[^-]+-----|\s/g, ""), "base64"))],
      ["JWK n (base64url)", rsa1.publicJwk.n as string],
      ["JWK n (raw bytes)", new Uint8Array(Buffer.from(rsa1.publicJwk.n as string, "base64url"))],
      ["public JWK as JSON", JSON.stringify(rsa1.publicJwk)],
    ];
    for (const [label, secret] of secrets) {
      for (const header of [{ kid: rsa1.kid }, {}]) {
        const token = await signHs256(claims, secret, header);
        await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token }), `HS256 with ${label} ${JSON.stringify(header)}`);
      }
    }
    // The HS256 secret the sample settings carry means nothing to an app configured for RS256.
    await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token: await signHs256(claims) }), "HS256 with the sample secret");
  });

  it("refuses an ES256 token on the RS256 app and an RS256 token on the ES256 app", async () => {
    await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), es1, { kid: rsa1.kid }) }), "ES256 on RS256 app");
    await expectUnauthenticated(await call(esApp, "GET", "/v1/me", { token: await signWith(localClaims(user.id), rsa1, { kid: es1.kid }) }), "RS256 on ES256 app");
    await expectUnauthenticated(await call(app, "GET", "/v1/me", { token: rsaUser.accessToken }), "RS256 token on the HS256 app");
  });

  it("refuses unsigned, expired, wrong-audience and wrong-issuer tokens with asymmetric keys", async () => {
    const now = nowSeconds();
    const cases: [string, string][] = [
      ["alg none", unsignedToken(localClaims(user.id), { alg: "none", kid: rsa1.kid })],
      ["expired", await signWith(localClaims(user.id, { iat: now - 600, exp: now - 120 }), rsa1)],
      ["wrong audience", await signWith(localClaims(user.id, { aud: "other-api" }), rsa1)],
      ["wrong issuer", await signWith(localClaims(user.id, { iss: "someone-else" }), rsa1)],
      ["tampered", tamperSignature(rsaUser.accessToken)],
      ["PS256 with the same RSA key", await new SignJWT(localClaims(user.id)).setProtectedHeader({ alg: "PS256", kid: rsa1.kid }).sign(await importJWK({ ...rsa1.privateJwk, alg: "PS256" }, "PS256"))],
    ];
    for (const [label, token] of cases) await expectUnauthenticated(await call(rsaApp, "GET", "/v1/me", { token }), label);
  });
});
