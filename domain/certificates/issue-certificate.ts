import { randomBytes } from "node:crypto";
import { and, desc, eq, lt } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { certificates, courses, users } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { renderCertificatePdf } from "./certificate-pdf.js";

/** Stores certificate PDFs; the domain chooses the names. */
export interface BlobWriter {
  write(blobName: string, bytes: Uint8Array, contentType: string): Promise<void>;
}

// Unambiguous characters only (no 0/O, 1/I/L): codes are read off paper and typed in.
const ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
export function verificationCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

export type CertificateRow = typeof certificates.$inferSelect;

/** Where a learner's certificate PDFs of a course live (erasure deletes the prefix: a PDF may outlive a rolled-back row). */
export const certificatePrefix = (courseId: string, userId: string) => `certificates/${courseId}/${userId}/`;

/**
 * Issues the certificate of a completed course once per (learner, course): a redelivered or repeated
 * course.completed finds it issued. The PDF is written before the row, so a row always has its file.
 */
export async function issueCertificate(ctx: DomainContext, store: BlobWriter, input: { courseId: string; userId: string; verifyBaseUrl: string }): Promise<{ certificate: CertificateRow; first: boolean } | null> {
  const [existing] = await ctx.db.select().from(certificates).where(and(eq(certificates.courseId, input.courseId), eq(certificates.userId, input.userId)));
  if (existing) return { certificate: existing, first: false };
  const [user] = await ctx.db.select({ name: users.displayName }).from(users).where(eq(users.id, input.userId));
  const [course] = await ctx.db.select({ title: courses.title }).from(courses).where(eq(courses.id, input.courseId));
  if (!user || !course) return null;
  const id = ctx.newId();
  const code = verificationCode();
  const issuedAt = ctx.now();
  const blobName = `${certificatePrefix(input.courseId, input.userId)}${id}.pdf`;
  const pdf = await renderCertificatePdf({ learnerName: user.name, courseTitle: course.title, issuedAt, code, verifyUrl: `${input.verifyBaseUrl.replace(/\/+$/, "")}/${code}` });
  await store.write(blobName, pdf, "application/pdf");
  const [row] = await ctx.db
    .insert(certificates)
    .values({ id, courseId: input.courseId, userId: input.userId, code, learnerName: user.name, courseTitle: course.title, blobName, issuedAt })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    // A concurrent delivery issued it first; our PDF is an unused orphan (harmless, never linked).
    const [winner] = await ctx.db.select().from(certificates).where(and(eq(certificates.courseId, input.courseId), eq(certificates.userId, input.userId)));
    return winner ? { certificate: winner, first: false } : null;
  }
  await recordEvent(ctx, {
    type: "certificate.issued",
    aggregateType: "certificate",
    aggregateId: id,
    courseId: input.courseId,
    data: { certificateId: id, courseId: input.courseId, userId: input.userId, code, issuedAt: issuedAt.toISOString() },
  });
  return { certificate: row, first: true };
}

export async function myCertificates(db: Executor, userId: string, q: { limit: number; beforeId?: string }): Promise<CertificateRow[]> {
  return db
    .select()
    .from(certificates)
    .where(and(eq(certificates.userId, userId), q.beforeId ? lt(certificates.id, q.beforeId) : undefined))
    .orderBy(desc(certificates.id))
    .limit(q.limit + 1);
}

export async function certificateByCode(db: Executor, code: string): Promise<CertificateRow | null> {
  const [row] = await db.select().from(certificates).where(eq(certificates.code, code.toUpperCase()));
  return row ?? null;
}
