import type { PDFFont, PDFPage } from "pdf-lib";
import { winAnsi } from "../certificates/certificate-pdf.js";
import type { Executor } from "../db/client.js";
import type { Result } from "../shared/result.js";
import { type Transcript, transcriptOf } from "./transcript.js";

const pageSize: [number, number] = [595, 842]; // A4 portrait
const margin = 48;
// Column left edges and widths: course, status, grade, completion, attendance.
const columns = [
  { title: "Course", x: margin, width: 215 },
  { title: "Status", x: 268, width: 70 },
  { title: "Grade", x: 343, width: 55 },
  { title: "Completion", x: 403, width: 70 },
  { title: "Attendance", x: 478, width: 70 },
] as const;

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : "");
const percent = (n: number | null) => (n === null ? "-" : `${Math.round(n * 100) / 100}%`);

/** Text cut to a width, with "..." when it had to be cut (the standard fonts have no ellipsis glyph in every viewer). */
function fit(text: string, font: PDFFont, size: number, width: number): string {
  const t = winAnsi(text);
  if (font.widthOfTextAtSize(t, size) <= width) return t;
  let end = t.length;
  while (end > 0 && font.widthOfTextAtSize(`${t.slice(0, end)}...`, size) > width) end--;
  return `${t.slice(0, end)}...`;
}

/**
 * The transcript as an A4 PDF: a header, then one row per course (title and code, status, final grade, completion,
 * attendance rate) with the course's certificates and their verification URLs under it; pages added as needed.
 * Deterministic for the same transcript (no creation time inside).
 */
export async function renderTranscriptPdf(t: Transcript): Promise<Uint8Array> {
  // pdf-lib (about 170 modules) loads on the first document, not with the app: most instances never render one.
  const { PDFDocument, rgb, StandardFonts } = await import("pdf-lib");
  const ink = rgb(0.1, 0.1, 0.2);
  const muted = rgb(0.35, 0.35, 0.4);
  const pdf = await PDFDocument.create({ updateMetadata: false });
  pdf.setTitle(winAnsi(`Transcript: ${t.learner.name}`));
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  let page: PDFPage = pdf.addPage(pageSize);
  let y = pageSize[1] - margin;
  const text = (s: string, x: number, size: number, font = regular, color = ink) => page.drawText(s, { x, y, size, font, color });
  const header = () => {
    for (const c of columns) text(c.title, c.x, 9, bold, muted);
    y -= 6;
    page.drawLine({ start: { x: margin, y }, end: { x: pageSize[0] - margin, y }, thickness: 0.5, color: muted });
    y -= 14;
  };
  const room = (needed: number) => {
    if (y - needed >= margin) return;
    page = pdf.addPage(pageSize);
    y = pageSize[1] - margin;
    header();
  };

  text("Academic transcript", margin, 20, bold);
  y -= 26;
  text(fit(t.learner.name, regular, 12, pageSize[0] - 2 * margin), margin, 12);
  y -= 16;
  text(`Issued ${day(t.generatedAt)}`, margin, 9, regular, muted);
  y -= 28;
  if (t.courses.length === 0) {
    text("No courses yet.", margin, 11);
    return pdf.save();
  }
  header();
  for (const c of t.courses) {
    room(28 + c.certificates.length * 12);
    text(fit(c.title, bold, 10, columns[0].width), columns[0].x, 10, bold);
    text(c.status, columns[1].x, 10);
    text(percent(c.finalGradePercent), columns[2].x, 10);
    text(percent(c.completion.percent), columns[3].x, 10);
    text(percent(c.attendance.ratePercent), columns[4].x, 10);
    y -= 12;
    const dates = [c.code, `enrolled ${day(c.enrolledAt)}`, c.completion.completedAt ? `completed ${day(c.completion.completedAt)}` : null, c.endedAt ? `ended ${day(c.endedAt)}` : null];
    text(fit(dates.filter(Boolean).join(" | "), regular, 8, pageSize[0] - 2 * margin), columns[0].x, 8, regular, muted);
    y -= 12;
    for (const cert of c.certificates) {
      text(fit(`Certificate ${cert.code}, issued ${day(cert.issuedAt)}: ${cert.verifyUrl}`, regular, 8, pageSize[0] - 2 * margin - 10), columns[0].x + 10, 8, regular, muted);
      y -= 12;
    }
    y -= 6;
  }
  return pdf.save();
}

/** The user's transcript (transcriptOf) rendered as a PDF. */
export async function transcriptPdfOf(db: Executor, userId: string, opts: { now: Date; verifyBaseUrl: string }): Promise<Result<Uint8Array, "USER_NOT_FOUND">> {
  const transcript = await transcriptOf(db, userId, opts);
  return transcript.ok ? { ok: true, value: await renderTranscriptPdf(transcript.value) } : transcript;
}
