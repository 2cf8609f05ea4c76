import { and, asc, eq, inArray, isNotNull, isNull, or } from "drizzle-orm";
import type { ActivityStore } from "../activity/statements.js";
import { answerFilePrefix } from "../assessment/answer-files.js";
import type { Executor } from "../db/client.js";
import {
  assessments,
  attempts,
  attendanceAlerts,
  attendanceMarks,
  auditLog,
  calendarFeeds,
  certificates,
  classSessions,
  courseProgress,
  courseStaff,
  courses,
  emailDeliveries,
  enrollments,
  externalIdentities,
  rosterSources,
  grades,
  groupMembers,
  groups,
  leaveApplications,
  manualScores,
  refreshTokens,
  sections,
  twoFactorCredentials,
  twoFactorRecoveryCodes,
  users,
} from "../db/schema/index.js";
import { discussionsPart } from "../discussions/discussion-personal-data.js";
import { announcementsPart } from "../announcements/announcement-personal-data.js";
import { financeParts } from "../finance/finance-personal-data.js";
import { channelsPart, inboxPart } from "../notifications/channel-personal-data.js";
import { preferencesOf } from "../notifications/preferences.js";
import { after, byId, once, PAGE } from "./pages.js";

/** Where personal data is read from: PostgreSQL and the learning-activity store. */
export interface PersonalDataSources {
  db: Executor;
  activity: ActivityStore;
}

/**
 * One part of what is held about a person: a JSON file of the export, read in pages so no part has to fit in
 * memory at once. Only what describes the person or their own work; never a secret (no password hash, no token
 * hash, no email body, which may carry a link) and nothing about other people beyond a course title.
 */
export interface PersonalDataPart {
  name: string;
  file: string;
  description: string;
  pages(sources: PersonalDataSources, userId: string): AsyncIterable<unknown[]>;
}

/** A file held for the person (an answer file, a certificate PDF) and where it goes in the archive. */
export interface PersonalFile {
  blobName: string;
  archivePath: string;
}



const profile: PersonalDataPart = {
  name: "profile",
  file: "profile.json",
  description:
    "Your account (without its password hash), whether two-factor sign-in is on (never its secret), the external sign-ins and roster ids linked to it, your roles in courses, your sessions (without their tokens) and whether you have a calendar feed (never its URL).",
  pages: ({ db }, userId) =>
    once(async () => {
      const [account] = await db
        .select({
          id: users.id,
          email: users.email,
          displayName: users.displayName,
          locale: users.locale,
          isAdmin: users.isAdmin,
          emailVerifiedAt: users.emailVerifiedAt,
          disabledAt: users.disabledAt,
          passwordChangedAt: users.passwordChangedAt,
          createdAt: users.createdAt,
          updatedAt: users.updatedAt,
        })
        .from(users)
        .where(eq(users.id, userId));
      const externalSignIns = await db
        .select({ issuer: externalIdentities.issuer, subject: externalIdentities.subject, createdAt: externalIdentities.createdAt, lastSeenAt: externalIdentities.lastSeenAt })
        .from(externalIdentities)
        .where(eq(externalIdentities.userId, userId));
      // The OneRoster sourcedId a school's roster import linked the account to.
      const rosterIds = await db
        .select({ sourcedId: rosterSources.sourcedId, since: rosterSources.createdAt })
        .from(rosterSources)
        .where(and(eq(rosterSources.entity, "user"), eq(rosterSources.entityId, userId)));
      const courseRoles = await db
        .select({ courseId: courseStaff.courseId, courseTitle: courses.title, role: courseStaff.role, since: courseStaff.createdAt })
        .from(courseStaff)
        .innerJoin(courses, eq(courses.id, courseStaff.courseId))
        .where(eq(courseStaff.userId, userId));
      const groupMemberships = await db
        .select({ courseId: groups.courseId, courseTitle: courses.title, group: groups.name, since: groupMembers.addedAt })
        .from(groupMembers)
        .innerJoin(groups, eq(groups.id, groupMembers.groupId))
        .innerJoin(courses, eq(courses.id, groups.courseId))
        .where(eq(groupMembers.userId, userId));
      const sessions = await db
        .select({
          id: refreshTokens.id,
          sessionId: refreshTokens.familyId,
          createdAt: refreshTokens.createdAt,
          expiresAt: refreshTokens.expiresAt,
          rotatedAt: refreshTokens.rotatedAt,
          revokedAt: refreshTokens.revokedAt,
          revokedReason: refreshTokens.revokedReason,
          clientIp: refreshTokens.clientIp,
        })
        .from(refreshTokens)
        .where(eq(refreshTokens.userId, userId))
        .orderBy(asc(refreshTokens.createdAt));
      // Whether a second factor is on, never its secret; how many recovery codes are left, never their hashes.
      const [authenticator] = await db.select({ confirmedAt: twoFactorCredentials.confirmedAt }).from(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId));
      const unusedCodes = await db
        .select({ id: twoFactorRecoveryCodes.id })
        .from(twoFactorRecoveryCodes)
        .where(and(eq(twoFactorRecoveryCodes.userId, userId), isNull(twoFactorRecoveryCodes.usedAt)));
      const twoFactor = { enabled: Boolean(authenticator?.confirmedAt), enabledAt: authenticator?.confirmedAt ?? null, recoveryCodesLeft: unusedCodes.length };
      // Whether a calendar feed URL is live and when it was made and last read, never its token (only a hash is kept).
      const [feed] = await db
        .select({ createdAt: calendarFeeds.createdAt, lastFetchedAt: calendarFeeds.lastFetchedAt })
        .from(calendarFeeds)
        .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)));
      const calendarFeed = { active: feed !== undefined, createdAt: feed?.createdAt ?? null, lastFetchedAt: feed?.lastFetchedAt ?? null };
      return [{ account: account ?? null, twoFactor, externalSignIns, rosterIds, courseRoles, groupMemberships, sessions, calendarFeed }];
    }),
};

const enrollmentsPart: PersonalDataPart = {
  name: "enrollments",
  file: "enrollments.json",
  description: "Every enrollment, whatever its status (active, waitlisted, offered, dropped, removed, expired or declined offers).",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: enrollments.id,
          courseId: enrollments.courseId,
          courseTitle: courses.title,
          status: enrollments.status,
          source: enrollments.source,
          sectionName: sections.name,
          enrolledAt: enrollments.enrolledAt,
          waitlistedAt: enrollments.waitlistedAt,
          offeredAt: enrollments.offeredAt,
          offerExpiresAt: enrollments.offerExpiresAt,
          endedAt: enrollments.endedAt,
          completedAt: enrollments.completedAt,
          createdAt: enrollments.createdAt,
        })
        .from(enrollments)
        .innerJoin(courses, eq(courses.id, enrollments.courseId))
        .leftJoin(sections, eq(sections.id, enrollments.sectionId))
        .where(and(eq(enrollments.userId, userId), after(enrollments.id, afterId)))
        .orderBy(asc(enrollments.id))
        .limit(PAGE),
    ),
};

/** An answer that names a blob under its attempt's prefix is an uploaded file, exported under `files/`. */
const answerFileEntries = (a: { id: string; courseId: string; answers: Record<string, unknown> }): (PersonalFile & { itemId: string })[] => {
  const prefix = answerFilePrefix(a.courseId, a.id);
  return Object.entries(a.answers).flatMap(([itemId, value]) =>
    typeof value === "string" && value.startsWith(prefix) ? [{ itemId, blobName: value, archivePath: `files/submissions/${a.id}/${value.slice(prefix.length)}` }] : [],
  );
};

const submissions: PersonalDataPart = {
  name: "submissions",
  file: "submissions.json",
  description: "Your attempts and submissions with your answers, the time you spent on each item, the files you uploaded (their copies are under files/submissions/) and graders' feedback on them.",
  pages: ({ db }, userId) => ({
    async *[Symbol.asyncIterator]() {
      for await (const page of byId((afterId) =>
        db
          .select({
            id: attempts.id,
            courseId: attempts.courseId,
            assessmentId: attempts.assessmentId,
            assessmentTitle: assessments.title,
            number: attempts.number,
            status: attempts.status,
            startedAt: attempts.startedAt,
            deadlineAt: attempts.deadlineAt,
            submittedAt: attempts.submittedAt,
            submittedBy: attempts.submittedBy,
            answers: attempts.answers,
            // seconds the learner's client timed per item
            itemSeconds: attempts.itemSeconds,
          })
          .from(attempts)
          .innerJoin(assessments, eq(assessments.id, attempts.assessmentId))
          .where(and(eq(attempts.userId, userId), after(attempts.id, afterId)))
          .orderBy(asc(attempts.id))
          .limit(PAGE),
      )) {
        // Graders' feedback without who graded: that is the grader's data, not the learner's.
        const feedback = await db
          .select({ submissionId: manualScores.submissionId, itemId: manualScores.itemId, points: manualScores.points, feedback: manualScores.feedback, scoredAt: manualScores.updatedAt })
          .from(manualScores)
          .where(inArray(manualScores.submissionId, page.map((a) => a.id)));
        yield page.map((a) => ({
          ...a,
          files: answerFileEntries(a).map(({ itemId, archivePath }) => ({ itemId, archivePath })),
          feedback: feedback.filter((f) => f.submissionId === a.id).map(({ submissionId: _s, ...f }) => f),
        }));
      }
    },
  }),
};

const gradesPart: PersonalDataPart = {
  name: "grades",
  file: "grades.json",
  description: "Every version of every grade recorded for your submissions, with its item scores and the explanation of how it was computed.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: grades.id,
          submissionId: grades.submissionId,
          courseId: grades.courseId,
          assessmentId: grades.assessmentId,
          version: grades.version,
          percent: grades.percent,
          itemScores: grades.itemScores,
          explanation: grades.explanation,
          createdAt: grades.createdAt,
        })
        .from(grades)
        .where(and(eq(grades.userId, userId), after(grades.id, afterId)))
        .orderBy(asc(grades.id))
        .limit(PAGE),
    ),
};

const progress: PersonalDataPart = {
  name: "progress",
  file: "progress.json",
  description: "Your progress in each course and when you completed it.",
  pages: ({ db }, userId) =>
    once(() =>
      db
        .select({ courseId: courseProgress.courseId, courseTitle: courses.title, percent: courseProgress.percent, completedAt: courseProgress.completedAt, updatedAt: courseProgress.updatedAt })
        .from(courseProgress)
        .innerJoin(courses, eq(courses.id, courseProgress.courseId))
        .where(eq(courseProgress.userId, userId)),
    ),
};

const activity: PersonalDataPart = {
  name: "activity",
  file: "activity.json",
  description: "Your learning-activity statements (what you viewed, started, completed, answered), newest first.",
  pages: ({ activity: store }, userId) => ({
    async *[Symbol.asyncIterator]() {
      let continuation: string | undefined;
      do {
        const page = await store.timeline(userId, { limit: PAGE, ...(continuation ? { continuation } : {}) });
        if (page.items.length > 0) yield page.items;
        continuation = page.continuation ?? undefined;
      } while (continuation);
    },
  }),
};

const certificateFile = (c: { code: string }) => `files/certificates/${c.code}.pdf`;

const certificatesPart: PersonalDataPart = {
  name: "certificates",
  file: "certificates.json",
  description: "Your certificates as issued; their PDFs are under files/certificates/.",
  pages: ({ db }, userId) =>
    once(async () =>
      (
        await db
          .select({ id: certificates.id, courseId: certificates.courseId, code: certificates.code, learnerName: certificates.learnerName, courseTitle: certificates.courseTitle, issuedAt: certificates.issuedAt })
          .from(certificates)
          .where(eq(certificates.userId, userId))
      ).map((c) => ({ ...c, archivePath: certificateFile(c) })),
    ),
};

const audit: PersonalDataPart = {
  name: "audit",
  file: "audit.json",
  description: "Security-relevant entries about your account or made by you: sign-ins, password and role changes, and the like.",
  pages: ({ db }, userId) => ({
    async *[Symbol.asyncIterator]() {
      for await (const page of byId((afterId) =>
        db
          .select({
            id: auditLog.id,
            occurredAt: auditLog.occurredAt,
            action: auditLog.action,
            actorUserId: auditLog.actorUserId,
            targetType: auditLog.targetType,
            targetId: auditLog.targetId,
            clientIp: auditLog.clientIp,
            details: auditLog.details,
          })
          .from(auditLog)
          .where(and(or(eq(auditLog.targetId, userId), eq(auditLog.actorUserId, userId)), after(auditLog.id, afterId)))
          .orderBy(asc(auditLog.id))
          .limit(PAGE),
      )) {
        // Whether you acted, not who else did (an administrator's id, and the address they acted from, are theirs).
        yield page.map(({ actorUserId, clientIp, ...entry }) => {
          const byYou = actorUserId === userId;
          return { ...entry, clientIp: byYou ? clientIp : null, byYou };
        });
      }
    },
  }),
};

const emails: PersonalDataPart = {
  name: "emails",
  file: "emails.json",
  description: "The emails sent to your address: which, when and with what outcome. Their bodies are not kept once sent.",
  pages: ({ db }, userId) => ({
    async *[Symbol.asyncIterator]() {
      const [account] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId));
      if (!account) return;
      yield* byId((afterId) =>
        db
          .select({
            id: emailDeliveries.id,
            template: emailDeliveries.template,
            locale: emailDeliveries.locale,
            subject: emailDeliveries.subject,
            status: emailDeliveries.status,
            attempts: emailDeliveries.attempts,
            createdAt: emailDeliveries.createdAt,
            sentAt: emailDeliveries.sentAt,
          })
          .from(emailDeliveries)
          .where(and(eq(emailDeliveries.recipient, account.email), after(emailDeliveries.id, afterId)))
          .orderBy(asc(emailDeliveries.id))
          .limit(PAGE),
      );
    },
  }),
};

const preferences: PersonalDataPart = {
  name: "notification-preferences",
  file: "notification-preferences.json",
  description: "Which optional emails you chose to receive (every category is on until you change it), what goes to you by push and SMS, your quiet hours and whether discussion emails come as a digest.",
  pages: ({ db }, userId) => once(async () => [await preferencesOf(db, userId)]),
};

/** Everything a data export gathers, one JSON file per part, in this order. */
const attendancePart: PersonalDataPart = {
  name: "attendance",
  file: "attendance.json",
  description: "Your attendance at each class session: the status, the note staff wrote, how it was taken (staff, your check-in, approved leave) and when.",
  pages: ({ db }, userId) =>
    byId((afterSessionId) =>
      db
        .select({
          id: attendanceMarks.sessionId,
          courseId: attendanceMarks.courseId,
          courseTitle: courses.title,
          session: classSessions.title,
          startsAt: classSessions.startsAt,
          status: attendanceMarks.status,
          note: attendanceMarks.note,
          source: attendanceMarks.source,
          markedAt: attendanceMarks.markedAt,
          updatedAt: attendanceMarks.updatedAt,
        })
        .from(attendanceMarks)
        .innerJoin(classSessions, eq(classSessions.id, attendanceMarks.sessionId))
        .innerJoin(courses, eq(courses.id, attendanceMarks.courseId))
        .where(and(eq(attendanceMarks.userId, userId), after(attendanceMarks.sessionId, afterSessionId)))
        .orderBy(asc(attendanceMarks.sessionId))
        .limit(PAGE),
    ),
};

const leavePart: PersonalDataPart = {
  name: "leave",
  file: "leave-applications.json",
  description: "Your leave applications with their reason, dates, outcome and the decision's comment (a confirmed supporting document is under files/leave/).",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: leaveApplications.id,
          kind: leaveApplications.applicantKind,
          startsAt: leaveApplications.startsAt,
          endsAt: leaveApplications.endsAt,
          reason: leaveApplications.reason,
          status: leaveApplications.status,
          documentFileName: leaveApplications.documentFileName,
          escalatedAt: leaveApplications.escalatedAt,
          decidedAt: leaveApplications.decidedAt,
          decisionComment: leaveApplications.decisionComment,
          createdAt: leaveApplications.createdAt,
        })
        .from(leaveApplications)
        .where(and(eq(leaveApplications.applicantUserId, userId), after(leaveApplications.id, afterId)))
        .orderBy(asc(leaveApplications.id))
        .limit(PAGE),
    ),
};

const attendanceAlertsPart: PersonalDataPart = {
  name: "attendance-alerts",
  file: "attendance-alerts.json",
  description: "The low-attendance alerts sent to you: the course, the week and your attendance rate then.",
  pages: ({ db }, userId) =>
    once(() =>
      db
        .select({ courseId: attendanceAlerts.courseId, period: attendanceAlerts.period, ratePercent: attendanceAlerts.ratePercent, sentAt: attendanceAlerts.sentAt })
        .from(attendanceAlerts)
        .where(eq(attendanceAlerts.userId, userId))
        .orderBy(asc(attendanceAlerts.sentAt)),
    ),
};

export const personalDataParts: readonly PersonalDataPart[] = [profile, enrollmentsPart, submissions, gradesPart, progress, activity, certificatesPart, audit, emails, preferences, attendancePart, leavePart, attendanceAlertsPart, discussionsPart, inboxPart, channelsPart, announcementsPart, ...financeParts];

export const personalDataPart = (name: string): PersonalDataPart | undefined => personalDataParts.find((p) => p.name === name);

/** The names of the stored files under a prefix (the file store's listing). */
export type ListFiles = (prefix: string) => AsyncIterable<string>;

/**
 * The files held for the person, in pages, with their place in the archive: every file under each of their
 * attempts' prefixes (answers saved, and uploads replaced or never saved, which stay until erasure), any file an
 * answer names that is not there (listed as missing by the archive), and their certificate PDFs.
 */
export async function* personalFiles(db: Executor, userId: string, listFiles: ListFiles): AsyncIterable<PersonalFile[]> {
  for await (const page of byId((afterId) =>
    db
      .select({ id: attempts.id, courseId: attempts.courseId, answers: attempts.answers })
      .from(attempts)
      .where(and(eq(attempts.userId, userId), after(attempts.id, afterId)))
      .orderBy(asc(attempts.id))
      .limit(PAGE),
  )) {
    const files: PersonalFile[] = [];
    for (const a of page) {
      const prefix = answerFilePrefix(a.courseId, a.id);
      const stored = new Set<string>();
      for await (const blobName of listFiles(prefix)) stored.add(blobName);
      for (const { blobName } of answerFileEntries(a)) stored.add(blobName);
      for (const blobName of [...stored].sort()) files.push({ blobName, archivePath: `files/submissions/${a.id}/${blobName.slice(prefix.length)}` });
    }
    if (files.length > 0) yield files;
  }
  const documents = await db
    .select({ id: leaveApplications.id, blobName: leaveApplications.documentBlob })
    .from(leaveApplications)
    .where(and(eq(leaveApplications.applicantUserId, userId), isNotNull(leaveApplications.documentBlob)));
  if (documents.length > 0) yield documents.map((d) => ({ blobName: d.blobName as string, archivePath: `files/leave/${d.id}/document` }));
  const certs = await db.select({ code: certificates.code, blobName: certificates.blobName }).from(certificates).where(eq(certificates.userId, userId));
  if (certs.length > 0) yield certs.map((c) => ({ blobName: c.blobName, archivePath: certificateFile(c) }));
}
