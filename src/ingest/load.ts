/**
 * One entry point for every supported format: picks the loader by media type, else by file extension,
 * and guarantees that what comes back has text (or throws DOCUMENT_UNREADABLE naming the file and the reason).
 */
import path from "node:path";
import { unreadable, type LoadedDocument } from "./types.js";

export type DocumentFormat = "pdf" | "markdown" | "html";

const BY_MEDIA_TYPE: Record<string, DocumentFormat> = {
  "application/pdf": "pdf",
  "application/x-pdf": "pdf",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/plain": "markdown",
  "text/html": "html",
  "application/xhtml+xml": "html",
};

const BY_EXTENSION: Record<string, DocumentFormat> = {
  ".pdf": "pdf",
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "markdown",
  ".html": "html",
  ".htm": "html",
};

/** The format for a file: its media type when known (parameters like "; charset=utf-8" ignored), else its extension. */
export function detectFormat(file: string, mediaType?: string): DocumentFormat | null {
  const type = mediaType?.split(";")[0]?.trim().toLowerCase();
  if (type && BY_MEDIA_TYPE[type]) return BY_MEDIA_TYPE[type];
  return BY_EXTENSION[path.extname(file).toLowerCase()] ?? null;
}

/** UTF-8 text of a text document (BOM removed); binary content is DOCUMENT_UNREADABLE, not mojibake. */
function decodeText(data: Buffer, file: string): string {
  if (data.subarray(0, 4096).includes(0)) throw unreadable(file, "binary content, not a text document");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    throw unreadable(file, "not valid UTF-8 text");
  }
}

/**
 * Loads a document from its bytes. `file` names it in errors and gives the extension; `mediaType`
 * (from the corpus manifest or an upload) takes precedence over the extension.
 * Throws DOCUMENT_UNREADABLE for: unsupported type, empty file, unreadable/non-PDF/encrypted PDF, non-text bytes,
 * and documents with no text left after cleaning ("no extractable text").
 */
export async function loadDocument(data: Buffer, file: string, mediaType?: string): Promise<LoadedDocument> {
  const format = detectFormat(file, mediaType);
  if (format === null) {
    const what = mediaType ? `media type ${mediaType}` : path.extname(file) ? `extension ${path.extname(file)}` : "no extension";
    throw unreadable(file, `unsupported file type (${what})`);
  }
  if (data.length === 0) throw unreadable(file, "empty file");

  let doc: LoadedDocument;
  // Each loader (pdf.js, the HTML parser) is imported when a document of its format is read, so an
  // ingest with nothing to parse starts in a fraction of a second.
  if (format === "pdf") doc = await (await import("./pdf.js")).loadPdf(data, file);
  else {
    const text = decodeText(data, file);
    doc = format === "html" ? (await import("./html.js")).loadHtml(text) : (await import("./markdown.js")).loadMarkdown(text);
  }
  const segments = doc.segments.filter((s) => s.text.trim() !== "");
  if (segments.length === 0) {
    throw unreadable(file, format === "pdf" ? "no extractable text (scanned or image-only PDF?)" : "no extractable text");
  }
  return { pages: doc.pages, segments };
}
