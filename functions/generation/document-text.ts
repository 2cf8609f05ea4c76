import type { GenerationSource } from "../../domain/db/schema/index.js";
import type { BlobFileStore } from "../platform/file-store.js";

/**
 * The text of an uploaded generation document: plain text and markdown as they are (UTF-8), a PDF's text through
 * unpdf (PDF.js, loaded on first use). Null when the blob is gone. Read whole: the start route checked its size.
 */
export async function documentText(files: BlobFileStore, source: Extract<GenerationSource, { kind: "document" }>): Promise<string | null> {
  const blob = files.blobClient(source.blobName);
  if (!(await blob.exists())) return null;
  const bytes = await blob.downloadToBuffer();
  if (source.contentType !== "application/pdf") return new TextDecoder("utf-8").decode(bytes).replaceAll("\u0000", "");
  const { extractText, getDocumentProxy } = await import("unpdf");
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const { text } = await extractText(pdf, { mergePages: true });
    return text.replaceAll("\u0000", "");
  } catch {
    // Not a readable PDF: no text (the job fails saying so) rather than a fault retried until dead-lettered.
    return "";
  }
}
