/**
 * Adding and removing documents through the admin API. An added file is checked (type by content,
 * size, name), stored in the corpus folder under a safe name, and recorded in uploads.json; a
 * re-index job then makes it searchable. Nothing is written when a check fails.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import writeFileAtomic from "write-file-atomic";
import type { Config } from "../config/index.js";
import { loadCorpusEntries, loadUploads, saveUploads } from "../corpus/catalog.js";
import { DOCUMENT_ID, DOCUMENT_ID_RULE, type CorpusEntry } from "../corpus/manifest.js";
import { AppError } from "../errors.js";
import { guardedDownload, type FetchLimits, type GuardDeps } from "./fetch-guard.js";

export interface NewDocument {
  originalName: string;
  data: Buffer;
  id?: string;
  title?: string;
  url?: string;
}

type MediaType = CorpusEntry["mediaType"];

/** The media type from the content (PDF magic bytes) and the name; throws INVALID_DOCUMENT / UNSUPPORTED_MEDIA_TYPE. */
export function detectMediaType(name: string, data: Buffer): MediaType {
  const ext = path.extname(name).toLowerCase();
  const isPdf = data.subarray(0, 5).toString("latin1") === "%PDF-";
  if (data.length === 0) throw new AppError("INVALID_DOCUMENT", `${name} is empty`);
  if (ext === ".pdf" && !isPdf)
    throw new AppError("INVALID_DOCUMENT", `${name} is named .pdf but is not a PDF (it does not start with %PDF-)`);
  if (isPdf) return "application/pdf";
  const text = data.subarray(0, 4096).toString("utf8");
  if (text.includes("\u0000") || text.includes("\ufffd"))
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `${name} is neither a PDF nor UTF-8 text; upload a PDF, markdown or HTML file`);
  if (ext === ".html" || ext === ".htm" || /^\s*<(!doctype html|html)/i.test(text)) return "text/html";
  if (ext === ".md" || ext === ".markdown" || ext === ".txt") return "text/markdown";
  throw new AppError("UNSUPPORTED_MEDIA_TYPE", `${name}: only .pdf, .md, .markdown, .txt and .html documents are accepted`);
}

const EXT: Record<MediaType, string> = { "application/pdf": ".pdf", "text/markdown": ".md", "text/html": ".html" };

export function slug(name: string): string {
  const base = path
    .basename(name, path.extname(name))
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return base || "document";
}

export async function addDocument(config: Pick<Config, "corpusDir" | "corpusManifest">, doc: NewDocument): Promise<CorpusEntry> {
  const mediaType = detectMediaType(doc.originalName, doc.data);
  const id = doc.id ?? `upload-${slug(doc.originalName)}`;
  if (!DOCUMENT_ID.test(id)) throw new AppError("VALIDATION_FAILED", `id "${id}" ${DOCUMENT_ID_RULE}`);
  const entries = await loadCorpusEntries(config);
  if (entries.some((e) => e.id === id)) throw new AppError("DOCUMENT_EXISTS", `a document with id "${id}" already exists; DELETE it first or choose another id`);
  const sha256 = createHash("sha256").update(doc.data).digest("hex");
  const file = `${id}${EXT[mediaType]}`;
  const entry: CorpusEntry = {
    id,
    title: doc.title ?? path.basename(doc.originalName, path.extname(doc.originalName)),
    authors: [],
    year: new Date().getFullYear(),
    kind: "paper",
    url: doc.url ?? `upload:${file}`,
    file,
    mediaType,
    sha256,
  } as CorpusEntry;
  // Atomic (temp file, fsync, rename): ingest never reads half an upload.
  await writeFileAtomic(path.join(config.corpusDir, file), doc.data);
  const uploads = await loadUploads(config.corpusDir);
  uploads.documents.push(entry);
  uploads.removed = uploads.removed.filter((r) => r !== id);
  await saveUploads(config.corpusDir, uploads);
  return entry;
}

/** Removes a document from the corpus (uploaded: file deleted; from the manifest: marked removed). */
export async function removeDocument(config: Pick<Config, "corpusDir" | "corpusManifest">, id: string): Promise<void> {
  const entries = await loadCorpusEntries(config);
  const entry = entries.find((e) => e.id === id);
  if (!entry) throw new AppError("NOT_FOUND", `no document with id "${id}"; GET /v1/documents lists them`);
  const uploads = await loadUploads(config.corpusDir);
  const uploaded = uploads.documents.find((d) => d.id === id);
  if (uploaded) {
    uploads.documents = uploads.documents.filter((d) => d.id !== id);
    await rm(path.join(config.corpusDir, uploaded.file), { force: true });
  } else uploads.removed.push(id);
  await saveUploads(config.corpusDir, uploads);
}

/**
 * Downloads a document to add, through the SSRF guard (fetch-guard.ts: public addresses only unless
 * ALLOWED_FETCH_HOSTS says otherwise, every redirect hop checked, size and time limits).
 */
export async function downloadDocument(url: string, limits: FetchLimits, deps: GuardDeps = {}): Promise<{ originalName: string; data: Buffer }> {
  const got = await guardedDownload(url, limits, deps);
  const name = decodeURIComponent(got.url.pathname.split("/").pop() || "document");
  const type = got.contentType;
  const withExt = /\.[a-z]{2,8}$/i.test(name) ? name : `${name}${type.includes("pdf") ? ".pdf" : type.includes("html") ? ".html" : ".md"}`;
  return { originalName: withExt, data: got.data };
}
