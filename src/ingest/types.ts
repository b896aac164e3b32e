import { AppError } from "../errors.js";

/** What a loader produces: a document's text as segments, each on one page and in one section. */
export interface Segment {
  /** Cleaned text. */
  text: string;
  /** 1-based PDF page, or null for documents without pages (markdown, HTML). */
  page: number | null;
  /** Nearest section heading above this text, or null before the first heading. */
  section: string | null;
}

export interface LoadedDocument {
  /** Number of pages for paged formats, null otherwise. */
  pages: number | null;
  segments: Segment[];
}

/**
 * A document that could not be loaded (DOCUMENT_UNREADABLE, "<file>: <reason>", both in details):
 * ingestion reports it by file name and reason, then skips it.
 */
export function unreadable(file: string, reason: string, cause?: unknown): AppError<"DOCUMENT_UNREADABLE"> {
  return new AppError("DOCUMENT_UNREADABLE", `${file}: ${reason}`, { cause, details: { file, reason } });
}
