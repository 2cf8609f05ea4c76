import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { notificationPreferences, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import type { TemplateKey } from "./templates.js";

export const notificationCategories = ["courseUpdates", "grades", "reminders", "announcements", "discussions"] as const;
export type NotificationCategory = (typeof notificationCategories)[number];
/** Which optional emails the user gets, one flag per category. */
export type EmailPreferences = Record<NotificationCategory, boolean>;
/** "HH:MM" local to `timeZone` (IANA); a window may wrap midnight. */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}
/** The categories sent by push and by SMS, the quiet hours for non-urgent ones, and the discussion digest. */
export interface ChannelPreferences {
  push: NotificationCategory[];
  sms: NotificationCategory[];
  quietHours: QuietHours | null;
  discussionDigest: boolean;
}
export type NotificationPreferences = EmailPreferences & ChannelPreferences;

/**
 * The category of every optional email, the one place that decides which emails a user may turn off. A
 * template not listed here is system mail (welcome, verification, password reset or change, account invitation,
 * data export, erasure notices, webhook disabled): always sent, without an unsubscribe link.
 * - The course invitation is not listed: a person sends it to an address that may have no account (so no
 *   preferences), and it is the only way in to the course.
 * - Seat offers are course updates even though they expire: a learner who turned those off chose so.
 * - Grading requests and overdue grading are reminders for staff, like due reminders for learners.
 */
export const templateCategories: Partial<Record<TemplateKey, NotificationCategory>> = {
  enrolled: "courseUpdates",
  waitlisted: "courseUpdates",
  "seat-offered": "courseUpdates",
  "class-cancelled": "courseUpdates",
  "grade-published": "grades",
  "results-released": "grades",
  "certificate-issued": "grades",
  "due-reminder": "reminders",
  "attendance-low": "reminders",
  "attendance-low-staff": "reminders",
  "grading-requested": "reminders",
  "grading-overdue": "reminders",
  "discussion-reply": "discussions",
  "discussion-mention": "discussions",
  "discussion-digest": "discussions",
  announcement: "announcements",
  "evaluation-opened": "courseUpdates",
  "evaluation-reminder": "reminders",
};

export const categoryOf = (key: TemplateKey): NotificationCategory | null => templateCategories[key] ?? null;

/** What a user without a preferences row (or with a column not set) gets. */
export const defaultPreferences: Readonly<NotificationPreferences> = {
  courseUpdates: true,
  grades: true,
  reminders: true,
  announcements: true,
  discussions: true,
  push: [...notificationCategories],
  sms: [],
  quietHours: null,
  discussionDigest: false,
};

type PreferencesRow = typeof notificationPreferences.$inferSelect;
// Stored lists keep only known categories, in the catalogue's order.
const categories = (stored: string[]): NotificationCategory[] => notificationCategories.filter((c) => stored.includes(c));

const fromRow = (r: PreferencesRow): NotificationPreferences => ({
  courseUpdates: r.courseUpdates,
  grades: r.grades,
  reminders: r.reminders,
  announcements: r.announcements,
  discussions: r.discussions,
  push: categories(r.pushCategories),
  sms: categories(r.smsCategories),
  quietHours: r.quietHoursStart && r.quietHoursEnd && r.timeZone ? { start: r.quietHoursStart, end: r.quietHoursEnd, timeZone: r.timeZone } : null,
  discussionDigest: r.discussionDigest,
});

const toRow = (p: NotificationPreferences) => ({
  courseUpdates: p.courseUpdates,
  grades: p.grades,
  reminders: p.reminders,
  announcements: p.announcements,
  discussions: p.discussions,
  pushCategories: categories(p.push),
  smsCategories: categories(p.sms),
  quietHoursStart: p.quietHours?.start ?? null,
  quietHoursEnd: p.quietHours?.end ?? null,
  timeZone: p.quietHours?.timeZone ?? null,
  discussionDigest: p.discussionDigest,
});

export async function preferencesOf(db: Executor, userId: string): Promise<NotificationPreferences> {
  const [row] = await db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, userId));
  return row ? fromRow(row) : defaultPreferences;
}

/**
 * Replaces the user's preferences; channel choices left out stay as stored. The row is created with the defaults
 * and locked first, so `precondition` (the edge's If-Match check) compares against what is stored while no
 * other change can slip in between.
 */
export async function changePreferences(
  ctx: DomainContext,
  userId: string,
  next: EmailPreferences & Partial<ChannelPreferences>,
  precondition: (current: NotificationPreferences) => void = () => {},
): Promise<NotificationPreferences> {
  const t = notificationPreferences;
  await ctx.db.insert(t).values({ userId, updatedAt: ctx.now() }).onConflictDoNothing();
  const [row] = await ctx.db.select().from(t).where(eq(t.userId, userId)).for("update");
  const current = row ? fromRow(row) : defaultPreferences;
  precondition(current);
  const wanted: NotificationPreferences = { ...current, ...next };
  const [saved] = await ctx.db.update(t).set({ ...toRow(wanted), updatedAt: ctx.now() }).where(eq(t.userId, userId)).returning();
  await recordAudit(ctx, { action: "user.notification-preferences-changed", targetType: "user", targetId: userId, details: { ...next, via: "settings" } });
  return saved ? fromRow(saved) : wanted;
}

/**
 * Turns one category off for a user named by a signed unsubscribe link (no sign-in). Repeating it changes
 * nothing more, and records nothing more: only a real change is audited. False when the user no longer exists
 * or was erased: there is nobody to write to anyway, and an old link clicked after the erasure must not bring
 * back a preferences row, nor an audit entry with the clicker's address.
 */
export async function optOut(ctx: DomainContext, userId: string, category: NotificationCategory): Promise<boolean> {
  const [known] = await ctx.db.select({ erasedAt: users.erasedAt }).from(users).where(eq(users.id, userId)).for("share");
  if (!known || known.erasedAt !== null) return false;
  const t = notificationPreferences;
  // A row comes back only when it was made (no row meant everything on) or the category was still on; the
  // conditional update decides under the row lock, so of two racing clicks one changes it.
  const changed = await ctx.db
    .insert(t)
    .values({ userId, [category]: false, updatedAt: ctx.now() })
    .onConflictDoUpdate({ target: t.userId, set: { [category]: false, updatedAt: ctx.now() }, setWhere: eq(t[category], true) })
    .returning({ userId: t.userId });
  if (changed.length > 0) {
    await recordAudit(ctx, { action: "user.notification-preferences-changed", targetType: "user", targetId: userId, details: { [category]: false, via: "unsubscribe-link" }, actorUserId: userId });
  }
  return true;
}
