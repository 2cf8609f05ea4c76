import { parseSettings, type Settings } from "../../functions/platform/settings.js";

/** Valid app settings for tests that build a platform part directly; nothing listens at these addresses. */
export function testSettings(overrides: Record<string, string> = {}): Settings {
  return parseSettings({
    DATABASE_URL: "postgres://unused@127.0.0.1/unused",
    BlobStorage: "UseDevelopmentStorage=true",
    ServiceBusConnection: "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=k;SharedAccessKey=v",
    EmailSmtp: "smtp://127.0.0.1:25",
    CosmosConnection: "AccountEndpoint=https://127.0.0.1:8081/;AccountKey=k;",
    AUTH_JWT_SECRET: "x".repeat(40),
    WEBHOOK_SECRET_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
    ...overrides,
  });
}
