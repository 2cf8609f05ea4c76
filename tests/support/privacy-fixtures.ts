import { v7 as uuidv7 } from "uuid";
import type { TestDatabase } from "./database.js";

/** A file store that records what it was asked to delete (a real Blob store is what the e2e tests use). */
export function recordingDeletions() {
  const removed: string[] = [];
  return { removed, files: { remove: async (name: string) => void removed.push(name), removePrefix: async (prefix: string) => (removed.push(prefix), 0) } };
}

/** A user row written straight to the database, writing in Spanish. */
export async function insertUser(db: TestDatabase): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into users (id, email, display_name, locale) values (${id}, ${`${id}@example.test`}, 'Ada', 'es')`;
  return id;
}
