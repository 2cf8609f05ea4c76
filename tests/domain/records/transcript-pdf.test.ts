import { PDFDocument } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { renderTranscriptPdf } from "../../../domain/records/transcript-pdf.js";
import type { Transcript, TranscriptCourse } from "../../../domain/records/transcript.js";

const at = new Date("2026-12-06T10:00:00Z");
const course = (i: number, over: Partial<TranscriptCourse> = {}): TranscriptCourse => ({
  courseId: `00000000-0000-7000-8000-${String(i).padStart(12, "0")}`,
  title: `Course ${i}`,
  code: `C-${i}`,
  status: "active",
  enrolledAt: at,
  endedAt: null,
  finalGradePercent: 81.5,
  completion: { percent: 40, completedAt: null },
  attendance: { ratePercent: 90, present: 9, late: 0, absent: 1, excused: 0 },
  certificates: [],
  ...over,
});
const transcript = (courses: TranscriptCourse[]): Transcript => ({ learner: { id: "00000000-0000-7000-8000-000000000001", name: "Zoë Łukasik" }, generatedAt: at, courses });

describe("renderTranscriptPdf", () => {
  it("adds pages as the courses need them, and is the same bytes for the same transcript", async () => {
    const many = transcript(Array.from({ length: 60 }, (_, i) => course(i, i % 5 === 0 ? { certificates: [{ id: "x", code: "ABCD-EFGH-JKMN", issuedAt: at, verifyUrl: "https://ringlet.example/certificates/verify/ABCD-EFGH-JKMN" }] } : {})));
    const bytes = await renderTranscriptPdf(many);
    const doc = await PDFDocument.load(bytes);
    expect(doc.getPageCount()).toBeGreaterThan(1);
    // Characters the standard fonts lack become "?" rather than failing the document.
    expect(doc.getTitle()).toBe("Transcript: Zoë ?ukasik");
    expect(Buffer.from(await renderTranscriptPdf(many)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("renders a transcript without courses on one page", async () => {
    expect((await PDFDocument.load(await renderTranscriptPdf(transcript([])))).getPageCount()).toBe(1);
  });
});
