import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appInsightsClientId, parseSettings, SettingsError, settingsSchema } from "../../../functions/platform/settings.js";
import { repoRoot } from "../../support/app.js";

const valid = {
  DATABASE_URL: "postgres://u:p@localhost:5432/db",
  BlobStorage: "UseDevelopmentStorage=true",
  AUTH_JWT_SECRET: "a-test-secret-of-at-least-32-characters",
  ServiceBusConnection: "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=x;SharedAccessKey=y;UseDevelopmentEmulator=true;",
  EmailSmtp: "smtp://127.0.0.1:1025",
  CosmosConnection: "AccountEndpoint=https://127.0.0.1:8081/;AccountKey=k;",
  WEBHOOK_SECRET_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
  EVALUATION_RECEIPT_KEY: "a-test-evaluation-receipt-key-of-32-characters",
};

describe("settings", () => {
  it("applies defaults to what is not set", () => {
    const s = parseSettings(valid);
    expect(s.DATABASE_POOL_MAX).toBe(5);
    expect(s.DATABASE_PGBOUNCER).toBe(false);
    expect(s.HTTP_MAX_BODY_BYTES).toBe(1_048_576);
  });

  it("reads typed values from strings", () => {
    const s = parseSettings({ ...valid, DATABASE_POOL_MAX: "12", DATABASE_PGBOUNCER: "true", LOG_LEVEL: "debug" });
    expect(s).toMatchObject({ DATABASE_POOL_MAX: 12, DATABASE_PGBOUNCER: true, LOG_LEVEL: "debug" });
  });

  it("names every missing or malformed setting at once", () => {
    try {
      parseSettings({ DATABASE_URL: "mysql://x", DATABASE_POOL_MAX: "lots", DATABASE_PGBOUNCER: "maybe" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      const problems = (err as SettingsError).problems.join("\n");
      for (const name of ["DATABASE_URL", "DATABASE_POOL_MAX", "DATABASE_PGBOUNCER", "BlobStorage", "AUTH_JWT_SECRET"]) {
        expect(problems).toContain(name);
      }
    }
  });

  it("treats an empty value as not set", () => {
    expect(() => parseSettings({ ...valid, DATABASE_URL: "" })).toThrow(/DATABASE_URL: is required/);
  });

  it("needs the key material of the chosen token algorithm and all or none of the OIDC settings", () => {
    expect(() => parseSettings({ ...valid, AUTH_JWT_SECRET: "short" })).toThrow(/AUTH_JWT_SECRET: must be at least 32/);
    expect(() => parseSettings({ ...valid, AUTH_JWT_ALGORITHM: "RS256" })).toThrow(/AUTH_JWT_PRIVATE_JWKS/);
    expect(() => parseSettings({ ...valid, AUTH_OIDC_ISSUER: "https://login.example/" })).toThrow(/AUTH_OIDC_ISSUER/);
  });

  it("uses the development evaluation receipt key only where the app runs locally", () => {
    const { EVALUATION_RECEIPT_KEY: _set, ...withoutKey } = valid;
    expect(parseSettings(withoutKey).EVALUATION_RECEIPT_KEY).toMatch(/^local-development-/);
    expect(() => parseSettings({ ...withoutKey, BlobStorage: undefined, BlobStorage__serviceUri: "https://acct.blob.core.windows.net" })).toThrow(/EVALUATION_RECEIPT_KEY: must be set/);
    expect(() => parseSettings({ ...valid, EVALUATION_RECEIPT_KEY: "short" })).toThrow(/EVALUATION_RECEIPT_KEY: must be at least 32/);
  });

  it("accepts the managed-identity form of Blob settings", () => {
    const s = parseSettings({ ...valid, BlobStorage: undefined, BlobStorage__serviceUri: "https://acct.blob.core.windows.net" });
    expect(s.BlobStorage__serviceUri).toBe("https://acct.blob.core.windows.net");
  });

  it("signs in to PostgreSQL with a password unless Entra ID is chosen", () => {
    expect(parseSettings(valid).DATABASE_AUTH).toBe("password");
    expect(parseSettings({ ...valid, DATABASE_AUTH: "entra", DATABASE_ENTRA_CLIENT_ID: "11111111-2222-3333-4444-555555555555" })).toMatchObject({ DATABASE_AUTH: "entra", DATABASE_ENTRA_CLIENT_ID: "11111111-2222-3333-4444-555555555555" });
    expect(() => parseSettings({ ...valid, DATABASE_AUTH: "token" })).toThrow(/DATABASE_AUTH/);
  });

  it("reads the Application Insights connection and its Entra authentication string", () => {
    expect(parseSettings(valid).APPLICATIONINSIGHTS_CONNECTION_STRING).toBeUndefined();
    const s = parseSettings({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/", APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD;ClientId=abc-123" });
    expect(appInsightsClientId(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? "")).toBe("abc-123");
    expect(appInsightsClientId("Authorization=AAD")).toBeNull();
    expect(() => parseSettings({ ...valid, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=abc" })).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
    expect(() => parseSettings({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: "https://example.com" })).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING/);
  });

  it("reads CORS_ALLOWED_ORIGINS as origins: a URL counts as its origin, what is not an http(s) URL is refused", () => {
    const s = parseSettings({ ...valid, CORS_ALLOWED_ORIGINS: "https://App.example/, https://a.example:443/app?x=1, http://localhost:3000" });
    expect(s.CORS_ALLOWED_ORIGINS).toEqual(["https://app.example", "https://a.example", "http://localhost:3000"]);
    for (const bad of ["a.example", "ftp://a.example", "https://a.example, nope"]) {
      expect(() => parseSettings({ ...valid, CORS_ALLOWED_ORIGINS: bad }), bad).toThrow(/CORS_ALLOWED_ORIGINS/);
    }
  });

  it("allows WEB_PUSH_DEVELOPMENT_ORIGIN (plain-http loopback push endpoints) only where the app runs locally", () => {
    expect(parseSettings({ ...valid, WEB_PUSH_DEVELOPMENT_ORIGIN: "http://127.0.0.1:7081" }).WEB_PUSH_DEVELOPMENT_ORIGIN).toBe("http://127.0.0.1:7081");
    const deployed = { ...valid, BlobStorage: undefined, BlobStorage__serviceUri: "https://acct.blob.core.windows.net" };
    expect(() => parseSettings({ ...deployed, WEB_PUSH_DEVELOPMENT_ORIGIN: "http://127.0.0.1:7081" })).toThrow(/WEB_PUSH_DEVELOPMENT_ORIGIN: may be set only when the app runs locally/);
    expect(parseSettings(deployed).WEB_PUSH_DEVELOPMENT_ORIGIN).toBeUndefined();
  });

  it("allows CORS_ALLOWED_ORIGINS=* only where the app runs locally (Blob Storage is the emulator)", () => {
    const azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
    for (const BlobStorage of ["UseDevelopmentStorage=true", azurite, azurite.replace("127.0.0.1", "localhost")]) {
      expect(parseSettings({ ...valid, BlobStorage, CORS_ALLOWED_ORIGINS: "*" }).CORS_ALLOWED_ORIGINS, BlobStorage).toEqual(["*"]);
    }
    const deployed = [
      { BlobStorage: undefined, BlobStorage__serviceUri: "https://acct.blob.core.windows.net" },
      { BlobStorage: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;EndpointSuffix=core.windows.net" },
      { BlobStorage: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;BlobEndpoint=https://127.0.0.1.evil.example/acct" },
    ];
    for (const storage of deployed) {
      expect(() => parseSettings({ ...valid, ...storage, CORS_ALLOWED_ORIGINS: "https://a.example, *" }), JSON.stringify(storage)).toThrow(/CORS_ALLOWED_ORIGINS: may be \* only when the app runs locally/);
      expect(parseSettings({ ...valid, ...storage, CORS_ALLOWED_ORIGINS: "https://a.example" }).CORS_ALLOWED_ORIGINS).toEqual(["https://a.example"]);
    }
  });

  it("lists every setting of the schema in local.settings.sample.json", () => {
    const sample = JSON.parse(readFileSync(join(repoRoot, "local.settings.sample.json"), "utf8")) as { Values: Record<string, string> };
    const identityOnly = ["BlobStorage__serviceUri", "BlobStorage__clientId", "ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__clientId", "EmailAcs__endpoint", "EmailAcs__clientId", "SmsAcs__endpoint", "SmsAcs__clientId", "CosmosConnection__accountEndpoint", "CosmosConnection__clientId"];
    const names = Object.keys(settingsSchema.shape).filter((n) => !identityOnly.includes(n));
    expect(names.filter((n) => !(n in sample.Values))).toEqual([]);
  });
});
