import { adminExists, bootstrapAdmin } from "../../domain/identity/manage-users.js";
import { createLogger } from "./log.js";
import { platform } from "./platform.js";

/** With AUTH_BOOTSTRAP_ADMIN_EMAIL (+ _PASSWORD) set, the first start creates that admin when none exists. */
export async function bootstrapAdminFromSettings(): Promise<void> {
  const p = platform();
  const { AUTH_BOOTSTRAP_ADMIN_EMAIL: email, AUTH_BOOTSTRAP_ADMIN_PASSWORD: password } = p.settings;
  if (!email) return;
  const log = createLogger({ level: p.settings.LOG_LEVEL, fields: { task: "bootstrap-admin" } });
  try {
    const db = p.database.db;
    if (await adminExists(db)) return;
    const result = await db.transaction((tx) =>
      bootstrapAdmin(
        { db: tx, now: p.clock, newId: p.newId, actor: { userId: null, requestId: "bootstrap", clientIp: null, traceparent: null } },
        { email: email.toLowerCase(), ...(password ? { password } : {}) },
        p.kdf,
      ),
    );
    if (result.ok) log.info("bootstrap admin ready", { userId: result.value.userId, created: result.value.created });
    else log.warn("bootstrap admin not created", { detail: result.error.detail });
  } catch (err) {
    // A missing table (not migrated yet) must not stop the app; the next start tries again.
    log.error("bootstrap admin failed", { err });
  }
}
