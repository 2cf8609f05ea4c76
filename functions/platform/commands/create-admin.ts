import { parseArgs } from "node:util";
import { z } from "zod";
import { emailSchema } from "../../../domain/identity/email.js";
import { bootstrapAdmin } from "../../../domain/identity/manage-users.js";
import { passwordSchema } from "../../../domain/identity/password-policy.js";
import { v7 as uuidv7 } from "uuid";
import { openDatabase } from "../database.js";
import { databaseSettingsSchema, parseEnv, SettingsError } from "../settings.js";

// `npm run admin:create -- --email a@b.c [--password ...] [--display-name ...]`: the first admin comes from
// here (or the AUTH_BOOTSTRAP_ADMIN_* settings), never from an open endpoint. Promotes an existing user;
// creates one when a password is given (or ADMIN_PASSWORD is set, to keep it out of shell history).
const { values } = parseArgs({
  options: { email: { type: "string" }, password: { type: "string" }, "display-name": { type: "string" } },
  strict: true,
});

const input = z
  .object({ email: emailSchema, password: passwordSchema.optional(), displayName: z.string().trim().min(1).max(100).optional() })
  .safeParse({ email: values.email, password: values.password ?? process.env.ADMIN_PASSWORD, displayName: values["display-name"] });

if (!input.success) {
  for (const issue of input.error.issues) console.error(`--${issue.path.join(".")}: ${issue.message}`);
  process.exit(2);
}

try {
  const s = parseEnv(databaseSettingsSchema.extend({ AUTH_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15) }), process.env);
  const db = openDatabase(s, { max: 1 });
  try {
    const result = await db.db.transaction((tx) =>
      bootstrapAdmin(
        { db: tx, now: () => new Date(), newId: uuidv7, actor: { userId: null, requestId: "admin:create", clientIp: null, traceparent: null } },
        { email: input.data.email, ...(input.data.password ? { password: input.data.password } : {}), ...(input.data.displayName ? { displayName: input.data.displayName } : {}) },
        { logN: s.AUTH_SCRYPT_LOG_N, r: 8, p: 1 },
      ),
    );
    if (!result.ok) {
      console.error(result.error.detail ?? result.error.code);
      process.exitCode = 1;
    } else {
      console.log(`${input.data.email} is an admin (user ${result.value.userId}${result.value.created ? ", created" : ""})`);
    }
  } finally {
    await db.close();
  }
} catch (err) {
  console.error(err instanceof SettingsError ? err.message : err);
  process.exitCode = 1;
}
