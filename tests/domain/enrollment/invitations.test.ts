import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { acceptInvitation, inviteToCourse } from "../../../domain/enrollment/invitations.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { insertPublishedCourse } from "../../support/enrollment-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const inTransaction = <T>(fn: (tx: DomainContext) => Promise<T>) => inTransactionOf(db, ctx)(fn);

async function user(email: string): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${email}, 'U')`;
  return id;
}

/** An invitation to a published course; its token is only in the outbox event that emails it. */
async function invitation(email: string): Promise<{ courseId: string; token: string }> {
  const courseId = await insertPublishedCourse(db.sql, { capacity: 10 });
  const invited = await inTransaction((tx) => inviteToCourse(tx, { courseId, email, ttlHours: 1 }));
  if (!invited.ok) throw new Error(invited.error.code);
  const [event] = await db.sql<{ token: string }[]>`select data->>'token' as token from outbox where type = 'enrollment.invited' and aggregate_id = ${invited.value.id}`;
  return { courseId, token: event?.token as string };
}

it("compares the invitation with the accepting user's own email address, whatever its case", async () => {
  const address = `invited-${uuidv7()}@example.test`;
  const { courseId, token } = await invitation(address.toUpperCase());
  const someoneElse = await user(`other-${uuidv7()}@example.test`);
  expect(await inTransaction((tx) => acceptInvitation(tx, { token, userId: someoneElse }))).toMatchObject({ ok: false, error: { code: "INVITATION_EMAIL_MISMATCH" } });
  expect(await inTransaction((tx) => acceptInvitation(tx, { token, userId: uuidv7() }))).toMatchObject({ ok: false, error: { code: "INVITATION_EMAIL_MISMATCH" } });
  const invited = await user(address);
  expect(await inTransaction((tx) => acceptInvitation(tx, { token, userId: invited }))).toMatchObject({ ok: true, value: { courseId, userId: invited, status: "active" } });
});
