/**
 * The local documents behind citations: the file each indexed document was read from, in the corpus
 * folder, served as it was indexed. A file whose bytes are no longer the indexed ones (replaced by
 * hand, an edition swapped before a re-index) is refused rather than shown with pages that do not
 * match the citations. Its checksum is computed once per file version (size, mtime, inode).
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { sha256File } from "../corpus/manifest.js";
import { AppError } from "../errors.js";
import { detectFormat, type DocumentFormat } from "../ingest/load.js";
import { renderDocumentPage } from "../ingest/render.js";
import type { IndexedDocument } from "../store/index.js";

export interface DocumentFile {
  id: string;
  title: string;
  /** Absolute path of the indexed copy. */
  path: string;
  /** The name it is offered under (the corpus file name). */
  fileName: string;
  format: DocumentFormat;
  mediaType: string;
  size: number;
  modified: Date;
  sha256: string;
  /** The original's URL. */
  sourceUrl: string;
}

export interface DocumentPage {
  file: DocumentFile;
  html: string;
  /** The section anchors on the page. */
  anchors: string[];
}

const MEDIA: Record<DocumentFormat, string> = { pdf: "application/pdf", markdown: "text/markdown", html: "text/html" };

export class LocalFiles {
  /** path -> checksum of the version last checked. */
  private readonly checked = new Map<string, { version: string; sha256: string }>();
  /** sha256 -> rendered page (a few documents; pages are small). */
  private readonly pages = new Map<string, DocumentPage>();

  constructor(private readonly corpusDir: string) {}

  async file(doc: IndexedDocument): Promise<DocumentFile> {
    const file = path.join(this.corpusDir, doc.file);
    // The manifest's file names are plain names (corpus/manifest.ts); this keeps a bad index from reaching outside.
    if (path.dirname(file) !== path.resolve(this.corpusDir)) throw new AppError("NOT_FOUND", `document "${doc.id}" has no servable file`);
    const format = detectFormat(doc.file);
    if (!format) throw new AppError("NOT_FOUND", `document "${doc.id}": ${doc.file} is of no type this server shows`);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile()) throw new AppError("NOT_FOUND", `the indexed file of "${doc.id}" (${doc.file}) is no longer in the corpus folder; run npm run corpus:fetch and re-index`);
    const version = `${s.size}:${s.mtimeMs}:${s.ino}`;
    let known = this.checked.get(file);
    if (known?.version !== version) {
      known = { version, sha256: await sha256File(file) };
      this.checked.set(file, known);
    }
    if (known.sha256 !== doc.sha256)
      throw new AppError("DOCUMENT_CHANGED", `${doc.file} changed since "${doc.id}" was indexed (sha256 ${known.sha256.slice(0, 12)}…, indexed ${doc.sha256.slice(0, 12)}…); re-index to serve it`);
    return { id: doc.id, title: doc.title, path: file, fileName: doc.file, format, mediaType: MEDIA[format], size: s.size, modified: s.mtime, sha256: known.sha256, sourceUrl: doc.url };
  }

  async page(doc: IndexedDocument): Promise<DocumentPage> {
    const file = await this.file(doc);
    if (file.format === "pdf") throw new AppError("UNSUPPORTED_MEDIA_TYPE", `"${doc.id}" is a PDF: it is served as it is, not as a page`);
    const cached = this.pages.get(file.sha256);
    if (cached) return { ...cached, file };
    const text = new TextDecoder("utf-8").decode(await readFile(file.path));
    const rendered = renderDocumentPage({ title: doc.title, format: file.format, text, sourceUrl: doc.url, rawUrl: "?raw" });
    const page = { file, ...rendered };
    if (this.pages.size >= 32) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(file.sha256, page);
    return page;
  }
}
