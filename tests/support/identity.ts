import { randomBytes } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import type { RunningApp } from "./app.js";
import type { TestDatabase } from "./database.js";

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const strongPassword = () => `Correct-Horse-${randomBytes(6).toString("hex")}`;
export const uniqueEmail = (label = "user") => `${label}-${randomBytes(4).toString("hex")}@example.test`;

export async function call(app: RunningApp, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${app.baseUrl}/api${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
}

export async function login(app: RunningApp, email: string, password: string, headers: Record<string, string> = {}) {
  return call(app, "POST", "/v1/auth/login", { body: { email, password }, headers });
}

/**
 * Registers through the API and signs in; `admin`, `finance` and `courseCreator` grant the role in the database first. The address counts as
 * confirmed (set in the database, as the emailed link would) unless `unverified`, so fixtures may enroll.
 */
export async function signUp(
  app: RunningApp,
  db: TestDatabase,
  options: { label?: string; admin?: boolean; finance?: boolean; courseCreator?: boolean; unverified?: boolean } = {},
): Promise<TestUser> {
  const email = uniqueEmail(options.label);
  const password = strongPassword();
  const res = await call(app, "POST", "/v1/auth/register", { body: { email, password, displayName: options.label ?? "Test User" } });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  if (options.admin) await db.sql`update users set is_admin = true where id = ${id}`;
  if (options.finance) await db.sql`update users set is_finance = true where id = ${id}`;
  if (options.courseCreator) await db.sql`update users set is_course_creator = true where id = ${id}`;
  if (!options.unverified) await db.sql`update users set email_verified_at = now() where id = ${id}`;
  const signedIn = await login(app, email, password);
  if (signedIn.status !== 200) throw new Error(`login answered ${signedIn.status}: ${await signedIn.text()}`);
  const tokens = (await signedIn.json()) as { accessToken: string; refreshToken: string };
  return { id, email, password, ...tokens };
}

/** A course with staff, written straight to the database (the catalog API comes with its own issue). */
export async function createCourse(db: TestDatabase, staff: { userId: string; role: "instructor" | "grader" }[] = []): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into courses (id, title) values (${id}, ${`Course ${id.slice(-6)}`})`;
  for (const s of staff) await db.sql`insert into course_staff (course_id, user_id, role) values (${id}, ${s.userId}, ${s.role})`;
  return id;
}
