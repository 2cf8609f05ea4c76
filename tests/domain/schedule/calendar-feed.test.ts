import { afterAll, beforeAll, expect, it } from "vitest";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import { personalDataPart, type PersonalDataSources } from "../../../domain/privacy/personal-data.js";
import { createCalendarFeed, feedCalendar, revokeCalendarFeed } from "../../../domain/schedule/calendar-feed.js";
import { hashToken } from "../../../domain/shared/token-hash.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase, testErasureKeys } from "../../support/domain-database.js";
import { insertUser } from "../../support/privacy-fixtures.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const options = { appUrl: "https://app.example.test", domain: "app.example.test" };

it("stores only the token's hash, replaces a feed, and serves none for a revoked token", async () => {
  const userId = await insertUser(db);
  const tx = inTransactionOf(db, ctx);
  const first = await tx((c) => createCalendarFeed(c, userId));
  expect(first.replaced).toBe(false);
  expect((await db.sql`select token_hash from calendar_feeds where user_id = ${userId}`).map((r) => r.token_hash)).toEqual([hashToken(first.token)]);
  const ics = await feedCalendar(db.db, first.token, new Date(), options);
  expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
  const second = await tx((c) => createCalendarFeed(c, userId));
  expect(second.replaced).toBe(true);
  expect(await feedCalendar(db.db, first.token, new Date(), options)).toBeNull();
  expect(await feedCalendar(db.db, second.token, new Date(), options)).not.toBeNull();
  expect(await tx((c) => revokeCalendarFeed(c, userId))).toBe(true);
  expect(await tx((c) => revokeCalendarFeed(c, userId))).toBe(false);
  expect(await feedCalendar(db.db, second.token, new Date(), options)).toBeNull();
  expect(await feedCalendar(db.db, "", new Date(), options)).toBeNull();
});

it("tells the data export whether a feed is live (never its token), and erasure deletes the user's feeds", async () => {
  const userId = await insertUser(db);
  const { token } = await inTransactionOf(db, ctx)((c) => createCalendarFeed(c, userId));
  const part = personalDataPart("profile");
  const rows: unknown[] = [];
  for await (const page of part?.pages({ db: db.db } as PersonalDataSources, userId) ?? []) rows.push(...page);
  expect(rows[0]).toMatchObject({ calendarFeed: { active: true } });
  expect(JSON.stringify(rows)).not.toContain(token);
  expect(JSON.stringify(rows)).not.toContain(hashToken(token));
  await inTransactionOf(db, ctx)((c) => erasePersonalData(c, userId, testErasureKeys));
  expect(await db.sql`select id from calendar_feeds where user_id = ${userId}`).toEqual([]);
  expect(await feedCalendar(db.db, token, new Date(), options)).toBeNull();
});
