
export interface CertificateText {
  learnerName: string;
  courseTitle: string;
  issuedAt: Date;
  code: string;
  verifyUrl: string;
}

// The standard fonts cover WinAnsi only: other characters are replaced rather than failing the PDF.
export const winAnsi = (s: string) => s.normalize("NFC").replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, "?");

/** A one-page landscape A4 certificate; deterministic for the same text (no creation time inside). */
export async function renderCertificatePdf(c: CertificateText): Promise<Uint8Array> {
  // pdf-lib (about 170 modules) loads on the first document, not with the app: most instances never render one.
  const { PDFDocument, rgb, StandardFonts } = await import("pdf-lib");
  const pdf = await PDFDocument.create({ updateMetadata: false });
  pdf.setTitle(winAnsi(`Certificate: ${c.courseTitle}`));
  const page = pdf.addPage([842, 595]);
  const serif = await pdf.embedFont(StandardFonts.TimesRoman);
  const bold = await pdf.embedFont(StandardFonts.TimesRomanBold);
  const centered = (text: string, y: number, size: number, font = serif) => {
    const t = winAnsi(text);
    page.drawText(t, { x: (842 - font.widthOfTextAtSize(t, size)) / 2, y, size, font, color: rgb(0.1, 0.1, 0.2) });
  };
  page.drawRectangle({ x: 24, y: 24, width: 794, height: 547, borderColor: rgb(0.2, 0.3, 0.5), borderWidth: 3 });
  centered("Certificate of Completion", 470, 36, bold);
  centered("This certifies that", 410, 16);
  centered(c.learnerName, 365, 30, bold);
  centered("has completed the course", 320, 16);
  centered(c.courseTitle, 280, 24, bold);
  centered(`on ${c.issuedAt.toISOString().slice(0, 10)}`, 240, 14);
  centered(`Verification code ${c.code}`, 110, 12);
  centered(c.verifyUrl, 90, 10);
  return pdf.save();
}
