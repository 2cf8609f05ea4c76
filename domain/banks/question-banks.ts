import { and, asc, eq, inArray, notInArray, or, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { assessmentDrawBanks, courses, questionBankCourses, questionBanks } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export type QuestionBankRow = typeof questionBanks.$inferSelect;

/** A bank as the API shows it. */
export interface QuestionBankView extends QuestionBankRow {
  shared: boolean;
  courseIds: string[];
  itemCount: number;
}

// Written out: drizzle would print the outer column unqualified inside the subqueries.
const viewColumns = {
  bank: questionBanks,
  courseIds: sql<string[]>`coalesce((select array_agg(qbc.course_id::text order by qbc.course_id) from question_bank_courses qbc where qbc.bank_id = question_banks.id), '{}')`,
  itemCount: sql<number>`(select count(*)::int from bank_items bi where bi.bank_id = question_banks.id)`,
};

const toView = (r: { bank: QuestionBankRow; courseIds: string[]; itemCount: number }): QuestionBankView => ({
  ...r.bank,
  shared: r.bank.courseId === null,
  courseIds: r.bank.courseId === null ? r.courseIds : [r.bank.courseId],
  itemCount: r.itemCount,
});

export async function bankById(db: Executor, bankId: string): Promise<Result<QuestionBankView, "QUESTION_BANK_NOT_FOUND">> {
  const [row] = await db.select(viewColumns).from(questionBanks).where(eq(questionBanks.id, bankId));
  return row ? ok(toView(row)) : fail("QUESTION_BANK_NOT_FOUND");
}

/** A course's own banks and the shared banks named for it, by title. */
export async function banksOfCourse(db: Executor, courseId: string): Promise<QuestionBankView[]> {
  const shared = db.select({ id: questionBankCourses.bankId }).from(questionBankCourses).where(eq(questionBankCourses.courseId, courseId));
  const rows = await db
    .select(viewColumns)
    .from(questionBanks)
    .where(or(eq(questionBanks.courseId, courseId), inArray(questionBanks.id, shared)))
    .orderBy(asc(questionBanks.title), asc(questionBanks.id))
    .limit(500);
  return rows.map(toView);
}

export interface NewBank {
  title: string;
  description: string;
}

/** A course's bank (its instructors manage it). */
export async function createCourseBank(ctx: DomainContext, courseId: string, input: NewBank): Promise<QuestionBankView> {
  const bank = await insertBank(ctx, courseId, input);
  await recordAudit(ctx, { action: "question-bank.created", targetType: "question-bank", targetId: bank.id, details: { courseId } });
  return { ...bank, shared: false, courseIds: [courseId], itemCount: 0 };
}

/** An administrator's shared bank, named for the given courses (which must exist). */
export async function createSharedBank(ctx: DomainContext, input: NewBank & { courseIds: string[] }): Promise<Result<QuestionBankView, "COURSE_NOT_FOUND">> {
  const courseIds = [...new Set(input.courseIds)].sort();
  const missing = await missingCourses(ctx.db, courseIds);
  if (missing.length) return fail("COURSE_NOT_FOUND", `No such course: ${missing.join(", ")}.`, { missing });
  const bank = await insertBank(ctx, null, input);
  if (courseIds.length) await ctx.db.insert(questionBankCourses).values(courseIds.map((courseId) => ({ bankId: bank.id, courseId, createdAt: bank.createdAt })));
  await recordAudit(ctx, { action: "question-bank.created", targetType: "question-bank", targetId: bank.id, details: { shared: true, courseIds } });
  return ok({ ...bank, shared: true, courseIds, itemCount: 0 });
}

async function insertBank(ctx: DomainContext, courseId: string | null, input: NewBank): Promise<QuestionBankRow> {
  const now = ctx.now();
  const [row] = await ctx.db
    .insert(questionBanks)
    .values({ id: ctx.newId(), courseId, title: input.title, description: input.description, createdByUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
    .returning();
  return row as QuestionBankRow;
}

async function missingCourses(db: Executor, courseIds: string[]): Promise<string[]> {
  if (!courseIds.length) return [];
  const found = await db.select({ id: courses.id }).from(courses).where(inArray(courses.id, courseIds));
  const have = new Set(found.map((c) => c.id));
  return courseIds.filter((id) => !have.has(id));
}

/** Changes title or description under the bank's row lock; `expectedVersion` (If-Match) guards a lost update. */
export async function updateBank(
  ctx: DomainContext,
  bankId: string,
  patch: Partial<NewBank>,
  expectedVersion: number | undefined,
): Promise<Result<QuestionBankView, "QUESTION_BANK_NOT_FOUND" | "PRECONDITION_FAILED">> {
  const [current] = await ctx.db.select().from(questionBanks).where(eq(questionBanks.id, bankId)).for("update");
  if (!current) return fail("QUESTION_BANK_NOT_FOUND");
  if (expectedVersion !== undefined && expectedVersion !== current.version) return fail("PRECONDITION_FAILED", "The bank changed since you read it.");
  await ctx.db
    .update(questionBanks)
    .set({ ...(patch.title !== undefined ? { title: patch.title } : {}), ...(patch.description !== undefined ? { description: patch.description } : {}), version: current.version + 1, updatedAt: ctx.now() })
    .where(eq(questionBanks.id, bankId));
  return bankById(ctx.db, bankId);
}

/**
 * Deletes a bank and its items, unless an assessment's pool draws from it (409): attempts that drew from it keep
 * their presented items, but a pool naming a missing bank could start no attempt. The bank's row lock makes a
 * pool added meanwhile wait (part B's pool check reads the bank).
 */
export async function deleteBank(ctx: DomainContext, bankId: string): Promise<Result<null, "QUESTION_BANK_NOT_FOUND" | "QUESTION_BANK_IN_USE">> {
  const [current] = await ctx.db.select({ id: questionBanks.id, courseId: questionBanks.courseId }).from(questionBanks).where(eq(questionBanks.id, bankId)).for("update");
  if (!current) return fail("QUESTION_BANK_NOT_FOUND");
  const users = await ctx.db.execute<{ id: string }>(sql`select id from assessments where pools @> ${JSON.stringify([{ bankId }])}::jsonb limit 5`);
  if (users.length) return fail("QUESTION_BANK_IN_USE", "Assessments draw from this bank: change their pools first.", { assessmentIds: users.map((u) => u.id) });
  // Attempts that drew from it regrade and are analysed with its item versions: it stays while their assessments do.
  const drewFrom = await ctx.db.select({ id: assessmentDrawBanks.assessmentId }).from(assessmentDrawBanks).where(eq(assessmentDrawBanks.bankId, bankId)).limit(5);
  if (drewFrom.length) {
    return fail("QUESTION_BANK_IN_USE", "Attempts drew items from this bank: their regrades and item analysis read its item versions.", { assessmentIds: drewFrom.map((u) => u.id) });
  }
  await ctx.db.delete(questionBanks).where(eq(questionBanks.id, bankId));
  await recordAudit(ctx, { action: "question-bank.deleted", targetType: "question-bank", targetId: bankId, details: { courseId: current.courseId } });
  return ok(null);
}

/** Names the courses a shared bank is shared with (the whole list: courses left out stop reading it). */
export async function setBankCourses(
  ctx: DomainContext,
  bankId: string,
  courseIds: string[],
): Promise<Result<QuestionBankView, "QUESTION_BANK_NOT_FOUND" | "QUESTION_BANK_NOT_SHARED" | "COURSE_NOT_FOUND">> {
  const [current] = await ctx.db.select().from(questionBanks).where(eq(questionBanks.id, bankId)).for("update");
  if (!current) return fail("QUESTION_BANK_NOT_FOUND");
  if (current.courseId !== null) return fail("QUESTION_BANK_NOT_SHARED", "A course's bank belongs to its course; only an administrator's shared bank is shared.");
  const wanted = [...new Set(courseIds)].sort();
  const missing = await missingCourses(ctx.db, wanted);
  if (missing.length) return fail("COURSE_NOT_FOUND", `No such course: ${missing.join(", ")}.`, { missing });
  const before = (await ctx.db.select({ courseId: questionBankCourses.courseId }).from(questionBankCourses).where(eq(questionBankCourses.bankId, bankId))).map((r) => r.courseId);
  const now = ctx.now();
  await ctx.db
    .delete(questionBankCourses)
    .where(and(eq(questionBankCourses.bankId, bankId), wanted.length ? notInArray(questionBankCourses.courseId, wanted) : undefined));
  if (wanted.length) await ctx.db.insert(questionBankCourses).values(wanted.map((courseId) => ({ bankId, courseId, createdAt: now }))).onConflictDoNothing();
  await ctx.db.update(questionBanks).set({ version: current.version + 1, updatedAt: now }).where(eq(questionBanks.id, bankId));
  const added = wanted.filter((c) => !before.includes(c));
  const removed = before.filter((c) => !wanted.includes(c));
  await recordAudit(ctx, { action: "question-bank.sharing-changed", targetType: "question-bank", targetId: bankId, details: { added, removed } });
  return bankById(ctx.db, bankId) as Promise<Result<QuestionBankView, "QUESTION_BANK_NOT_FOUND">>;
}
