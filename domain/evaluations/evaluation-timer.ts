import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.js";
import { courseEvaluations, courses, enrollments, evaluationReceipts, users } from "../db/schema/index.js";
import { composeEmail, isPlaceholderEmail } from "../notifications/compose-email.js";
import type { EmailLinks } from "../notifications/notifications-for-event.js";
import { type NotificationInput, recordNotifications } from "../notifications/notify.js";
import { categoryOf } from "../notifications/preferences.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { receiptFor } from "./receipts.js";
import type { CourseEvaluation } from "./course-evaluations.js";

/** With a signed one-click unsubscribe link for the category (the emails are optional). */
export interface EvaluationTimerOptions extends Pick<EmailLinks, "unsubscribeUrl"> {
  /**
   * Non-respondents are reminded once, this many hours before the evaluation closes; only when it was open before
   * then: a window shorter than this (or one the timer opened late) gets no reminder, its opening notice came inside
   * the reminder period already.
   */
  reminderHours: number;
  receiptKey: string;
  appUrl: string;
}

export interface EvaluationTimerRun {
  opened: number;
  reminded: number;
  closed: number;
  notified: number;
}

// Evaluations handled per step and run; the next run takes the rest.
const BATCH = 50;

/**
 * One run of the evaluations timer, in the caller's transaction: opens the evaluations due (telling their course's
 * active learners), reminds the learners who have not answered once (REMINDER hours before the close), and closes
 * the evaluations due. Each step claims its rows with a conditional update of rows locked SKIP LOCKED, so two runs
 * never do one twice. The notifications are recorded here, not from the events: an event reaches webhooks, and who
 * has not answered must not leave the app.
 */
export async function runEvaluationTimer(ctx: DomainContext, options: EvaluationTimerOptions): Promise<EvaluationTimerRun> {
  const now = ctx.now();
  const at = now.toISOString();
  const run: EvaluationTimerRun = { opened: 0, reminded: 0, closed: 0, notified: 0 };
  const notices: NotificationInput[] = [];

  const opened = await claim(
    ctx.db,
    sql`status = 'scheduled' and opens_at <= ${at}::timestamptz and closes_at > ${at}::timestamptz`,
    sql`status = 'open', opened_at = ${at}::timestamptz, version = version + 1, updated_at = ${at}::timestamptz`,
  );
  for (const e of opened) {
    const eventId = await recordEvent(ctx, {
      type: "evaluation.opened",
      aggregateType: "course-evaluation",
      aggregateId: e.id,
      courseId: e.courseId,
      data: { evaluationId: e.id, courseId: e.courseId, openedAt: at, closesAt: e.closesAt.toISOString() },
    });
    notices.push(...(await notify(ctx.db, e, await activeLearners(ctx.db, e.courseId), "evaluation-opened", eventId, options)));
  }
  run.opened = opened.length;

  const remindFrom = new Date(now.getTime() + options.reminderHours * 3_600_000).toISOString();
  // Opened before the reminder point (closes_at - REMINDER <= now): so never one this run opened (SKIP LOCKED does
  // not skip the run's own locks), and no reminder right behind the opening notice.
  const reminded = await claim(
    ctx.db,
    sql`status = 'open' and reminded_at is null and closes_at <= ${remindFrom}::timestamptz and closes_at > ${at}::timestamptz
      and opened_at < closes_at - ${options.reminderHours}::float8 * interval '1 hour'`,
    sql`reminded_at = ${at}::timestamptz, updated_at = ${at}::timestamptz`,
  );
  for (const e of reminded) {
    const learners = await activeLearners(ctx.db, e.courseId);
    // Who has not answered: each learner's receipt computed here, the stored ones read in one lookup.
    const receipts = new Map(learners.map((l) => [receiptFor(options.receiptKey, e.id, l.id), l]));
    const answered = await ctx.db
      .select({ receipt: evaluationReceipts.receipt })
      .from(evaluationReceipts)
      .where(and(eq(evaluationReceipts.evaluationId, e.id), sql`${evaluationReceipts.receipt} = any(${sql.param([...receipts.keys()])}::text[])`));
    for (const r of answered) receipts.delete(r.receipt);
    notices.push(...(await notify(ctx.db, e, [...receipts.values()], "evaluation-reminder", ctx.newId(), options)));
  }
  run.reminded = reminded.length;

  // Evaluations whose window passed, opened or not (a scheduled one the timer never reached closes unopened).
  const closed = await claim(ctx.db, sql`status <> 'closed' and closes_at <= ${at}::timestamptz`, sql`status = 'closed', closed_at = ${at}::timestamptz, version = version + 1, updated_at = ${at}::timestamptz`);
  if (closed.length > 0) {
    const ids = sql.param(closed.map((e) => e.id));
    // The responses are written again in one statement, in random order and under new random ids: their transaction
    // id (xmin) and place in the table then no longer match the receipt written beside each, which would link them.
    await ctx.db.execute(sql`
      with gone as (delete from evaluation_responses where evaluation_id = any(${ids}::uuid[]) returning evaluation_id, answers)
      insert into evaluation_responses (id, evaluation_id, answers) select gen_random_uuid(), evaluation_id, answers from gone order by random()`);
  }
  for (const e of closed) {
    await recordEvent(ctx, {
      type: "evaluation.closed",
      aggregateType: "course-evaluation",
      aggregateId: e.id,
      courseId: e.courseId,
      data: { evaluationId: e.id, courseId: e.courseId, closedAt: at },
    });
  }
  run.closed = closed.length;

  if (notices.length > 0) await recordNotifications(ctx, notices);
  run.notified = notices.length;
  return run;
}

/**
 * Run after a timer run that closed evaluations has committed, outside any transaction (VACUUM refuses one): the
 * rows the close rewrite deleted keep the answering transaction's xmin and the arrival order until vacuumed, so they
 * are pruned now rather than whenever autovacuum comes round. Only what no open snapshot still sees is pruned.
 */
export async function pruneClosedResponses(db: Database): Promise<void> {
  await db.execute(sql`vacuum evaluation_responses`);
}

/** Claims up to BATCH evaluations matching `where` (skipping rows another run holds) and applies `set` to them. */
async function claim(db: Executor, where: ReturnType<typeof sql>, set: ReturnType<typeof sql>): Promise<CourseEvaluation[]> {
  const rows = await db.execute<{ id: string }>(sql`
    update course_evaluations set ${set}
    where id in (select id from course_evaluations where ${where} order by closes_at limit ${BATCH} for update skip locked)
    returning id`);
  if (rows.length === 0) return [];
  return db
    .select()
    .from(courseEvaluations)
    .where(sql`${courseEvaluations.id} = any(${sql.param(rows.map((r) => r.id))}::uuid[])`);
}

interface Learner {
  id: string;
  email: string;
  name: string;
  locale: string;
}

// Key-share locked until recorded, as notificationsForEvent does: an erasure runs first or waits.
const activeLearners = (db: Executor, courseId: string): Promise<Learner[]> =>
  db
    .select({ id: users.id, email: users.email, name: users.displayName, locale: users.locale })
    .from(enrollments)
    .innerJoin(users, eq(users.id, enrollments.userId))
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "active"), isNull(users.erasedAt)))
    .for("key share", { of: users });

async function notify(
  db: Executor,
  e: CourseEvaluation,
  learners: readonly Learner[],
  template: "evaluation-opened" | "evaluation-reminder",
  eventId: string,
  options: EvaluationTimerOptions,
): Promise<NotificationInput[]> {
  if (learners.length === 0) return [];
  const [course] = await db.select({ title: courses.title }).from(courses).where(eq(courses.id, e.courseId));
  const category = categoryOf(template);
  const values = { appUrl: options.appUrl, course: course?.title ?? "your course", courseId: e.courseId, evaluationId: e.id, term: e.term, closesAt: e.closesAt.toUTCString() };
  return Promise.all(
    learners.map(async (l): Promise<NotificationInput> => {
      const email = composeEmail(template, l.locale, l.email, { ...values, name: l.name }, category ? await options.unsubscribeUrl(l.id, category) : undefined);
      return {
        userId: l.id,
        eventId,
        template,
        category,
        title: email.subject,
        body: email.summary,
        url: email.actionUrl,
        subject: { type: "course-evaluation", id: e.id },
        // External users without a known address have a placeholder one: the inbox still has it.
        email: isPlaceholderEmail(l.email) ? null : email,
      };
    }),
  );
}
