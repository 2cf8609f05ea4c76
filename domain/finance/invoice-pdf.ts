import type { PDFFont, PDFPage } from "pdf-lib";
import { winAnsi } from "../certificates/certificate-pdf.js";
import { dayOf } from "../shared/day.js";
import { formatMoney } from "./money.js";

/** What an invoice or credit-note PDF shows: the document as issued (it never changes, so neither does its PDF). */
export interface FinanceDocument {
  kind: "invoice" | "credit-note";
  number: string;
  issuedAt: Date;
  /** invoice: the last instalment's due date */
  dueAt?: Date;
  billToName: string;
  billToEmail: string;
  courseTitle: string;
  currency: string;
  lines: { description: string; amountMinor: number }[];
  totalMinor: number;
  instalments?: { seq: number; amountMinor: number; dueAt: Date }[];
  /** credit note: the invoice it takes back from, and why */
  invoiceNumber?: string;
  reason?: string;
}

const A4: [number, number] = [595, 842];
const MARGIN = 56;

/** One A4 page per document (more when the instalment schedule is long); deterministic for the same document. */
export async function renderFinancePdf(doc: FinanceDocument): Promise<Uint8Array> {
  // pdf-lib (about 170 modules) loads on the first document, not with the app: most instances never render one.
  const { PDFDocument, rgb, StandardFonts } = await import("pdf-lib");
  const ink = rgb(0.1, 0.1, 0.2);
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const title = doc.kind === "invoice" ? "Invoice" : "Credit note";
  pdf.setTitle(winAnsi(`${title} ${doc.number}`));
  const regular = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  let page = pdf.addPage(A4);
  let y = A4[1] - MARGIN;
  const text = (s: string, x: number, size = 10, font: PDFFont = regular) => page.drawText(winAnsi(s), { x, y, size, font, color: ink });
  const right = (s: string, size = 10, font: PDFFont = regular) => {
    const t = winAnsi(s);
    page.drawText(t, { x: A4[0] - MARGIN - font.widthOfTextAtSize(t, size), y, size, font, color: ink });
  };
  const next = (gap: number) => {
    y -= gap;
    if (y < MARGIN) {
      page = pdf.addPage(A4) as PDFPage;
      y = A4[1] - MARGIN;
    }
  };
  const money = (amountMinor: number) => formatMoney(amountMinor, doc.currency);

  text(title, MARGIN, 24, bold);
  right(doc.number, 14, bold);
  next(36);
  text(`Issued ${dayOf(doc.issuedAt)}`, MARGIN);
  if (doc.dueAt) right(`Due ${dayOf(doc.dueAt)}`);
  next(28);
  text("Bill to", MARGIN, 10, bold);
  next(14);
  text(doc.billToName, MARGIN);
  next(14);
  text(doc.billToEmail, MARGIN);
  next(24);
  text(`Course: ${doc.courseTitle}`, MARGIN);
  if (doc.invoiceNumber) {
    next(14);
    text(`For invoice ${doc.invoiceNumber}`, MARGIN);
  }
  if (doc.reason) {
    next(14);
    text(`Reason: ${doc.reason}`, MARGIN);
  }
  next(28);
  text("Description", MARGIN, 10, bold);
  right(`Amount (${doc.currency})`, 10, bold);
  next(6);
  page.drawLine({ start: { x: MARGIN, y }, end: { x: A4[0] - MARGIN, y }, thickness: 0.5, color: ink });
  for (const line of doc.lines) {
    next(16);
    text(line.description.slice(0, 90), MARGIN);
    right(money(line.amountMinor));
  }
  next(10);
  page.drawLine({ start: { x: MARGIN, y }, end: { x: A4[0] - MARGIN, y }, thickness: 0.5, color: ink });
  next(18);
  text(doc.kind === "invoice" ? "Total" : "Credited", MARGIN, 12, bold);
  right(money(doc.totalMinor), 12, bold);
  if (doc.instalments && doc.instalments.length > 1) {
    next(32);
    text("Instalments", MARGIN, 10, bold);
    for (const part of doc.instalments) {
      next(16);
      text(`${part.seq}. due ${dayOf(part.dueAt)}`, MARGIN);
      right(money(part.amountMinor));
    }
  }
  return pdf.save();
}
