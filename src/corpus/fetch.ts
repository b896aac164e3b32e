/**
 * Puts every manifest document into the corpus directory, as one of its editions (see manifest.ts):
 *   1. a file of either edition already there and verified is kept (nothing is copied or downloaded);
 *   2. otherwise, with a mirror, the mirror edition is copied from it;
 *   3. otherwise (no mirror, or the mirror lacks it) the original edition is downloaded from its URL.
 * Every file is verified before it is renamed into place, so a partial or wrong file never appears:
 * against the manifest's pinned SHA-256, or, for an edition with none, against the SHA-256 recorded
 * on its first fetch (trust on first use, kept in editions.lock.json beside the documents). A first
 * fetch records it and says so. The lock also records which edition each document has (for ingest).
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileSize } from "./files.js";
import { LOCK_FILE, readLock, writeLock, type EditionsLock, type FirstUseRecord } from "./lock.js";
import { editionsOf, sha256File, type CorpusDocument, type Edition, type EditionName, type MediaType } from "./manifest.js";

export type FetchStatus = "present" | "copied" | "downloaded" | "checksum-mismatch" | "missing";

/**
 * How a file was verified: against the manifest's pinned checksum, against the checksum recorded on
 * its first fetch, or not at all because this was its first fetch (its checksum is now recorded).
 */
export type ChecksumCheck = "pinned" | "recorded" | "first-use";

export interface FetchResult {
  id: string;
  /** The file in the corpus folder (for a document that could not be had: the one it would have been). */
  file: string;
  /** The edition now in the corpus folder. */
  edition?: EditionName;
  status: FetchStatus;
  /** Why a document is missing or failed its checksum. */
  reason?: string;
  bytes?: number;
  sha256?: string;
  checksum?: ChecksumCheck;
}

export interface FetchReport {
  results: FetchResult[];
  /** True when every document is in the corpus directory and verified. */
  ok: boolean;
  /** The editions lock of the corpus folder (present editions, checksums recorded on first fetch). */
  lockFile: string;
}

export type FetchEvent = { type: "start"; document: CorpusDocument } | { type: "result"; result: FetchResult };

export interface FetchOptions {
  documents: CorpusDocument[];
  corpusDir: string;
  mirrorDir?: string;
  fetchImpl?: typeof fetch;
  onEvent?: (e: FetchEvent) => void;
  /** Per-download limit, covering the response body too. */
  timeoutMs?: number;
}

export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_MISSING = 2;
export const EXIT_CHECKSUM = 3;

const USER_AGENT = "llmops-qa-corpus-fetch/1 (fetches each corpus document once)";

/**
 * 0 = every document available, or some missing but reported (the rest carry on, so
 * `corpus:fetch && ingest` works offline); 2 = some missing under --strict;
 * 3 = a checksum mismatch, pinned or recorded (wins over missing).
 */
export function exitCodeFor(report: FetchReport, strict = false): number {
  if (report.results.some((r) => r.status === "checksum-mismatch")) return EXIT_CHECKSUM;
  if (strict && report.results.some((r) => r.status === "missing")) return EXIT_MISSING;
  return EXIT_OK;
}

export async function fetchCorpus(opts: FetchOptions): Promise<FetchReport> {
  await mkdir(opts.corpusDir, { recursive: true });
  const lock = await readLock(opts.corpusDir);
  const results: FetchResult[] = [];
  for (const doc of opts.documents) {
    opts.onEvent?.({ type: "start", document: doc });
    const before = JSON.stringify(lock);
    const result = await fetchOne(doc, opts, lock);
    // Saved after each document: a checksum recorded on first use is never lost to a later failure.
    if (JSON.stringify(lock) !== before) await writeLock(opts.corpusDir, lock);
    results.push(result);
    opts.onEvent?.({ type: "result", result });
  }
  const ok = results.every((r) => r.status === "present" || r.status === "copied" || r.status === "downloaded");
  return { results, ok, lockFile: path.join(opts.corpusDir, LOCK_FILE) };
}

/** The checksum a file must have: pinned in the manifest, else recorded on first fetch, else none yet. */
interface Expected {
  sha256: string;
  check: "pinned" | "recorded";
  record?: FirstUseRecord;
}

function expectedFor(edition: Edition, lock: EditionsLock): Expected | null {
  if (edition.sha256) return { sha256: edition.sha256, check: "pinned" };
  const record = lock.firstUse[edition.file];
  return record ? { sha256: record.sha256, check: "recorded", record } : null;
}

const firstUse = (sha256: string, source: string): FirstUseRecord => ({ sha256, source, recordedAt: new Date().toISOString() });

interface Obtained {
  edition: EditionName;
  file: string;
  how: "copied" | "downloaded";
  /** The mirror file or the URL. */
  from: string;
  written: Written;
  expected: Expected | null;
}

async function fetchOne(doc: CorpusDocument, opts: FetchOptions, lock: EditionsLock): Promise<FetchResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const order: EditionName[] = opts.mirrorDir ? ["mirror", "original"] : ["original", "mirror"];
  const targetOf = (e: Edition) => path.join(opts.corpusDir, e.file);

  // 1. A verified file of either edition is kept. A file with the wrong bytes is stale or corrupt:
  //    it is replaced, or, if that is impossible, deleted anyway so nothing downstream indexes it.
  const stale: Array<{ file: string; message: string; advice: string }> = [];
  for (const [name, edition] of editionsOf(doc, order)) {
    const bytes = await fileSize(targetOf(edition));
    if (bytes === undefined) continue;
    const sha256 = await sha256File(targetOf(edition));
    const expected = expectedFor(edition, lock);
    if (expected === null) lock.firstUse[edition.file] = firstUse(sha256, "already in the corpus folder");
    if (expected === null || expected.sha256 === sha256) {
      lock.present[doc.id] = { edition: name, file: edition.file };
      return { id: doc.id, file: edition.file, edition: name, status: "present", bytes, sha256, checksum: expected?.check ?? "first-use" };
    }
    stale.push({ file: targetOf(edition), message: mismatch(edition.file, expected, sha256), advice: advice(edition.file, expected) });
  }

  // 2. The mirror edition from the mirror, else 3. the original edition from its URL.
  const tried: string[] = [];
  let got: Obtained | undefined;
  const mirror = doc.editions.mirror;
  if (!opts.mirrorDir) tried.push("no mirror given");
  else if (!mirror) tried.push("the manifest lists no mirror edition");
  else {
    const source = path.join(opts.mirrorDir, mirror.file);
    if ((await fileSize(source)) === undefined) tried.push(`not in mirror ${opts.mirrorDir}`);
    else {
      const expected = expectedFor(mirror, lock);
      try {
        const written = await writeVerified(createReadStream(source), targetOf(mirror), expected, (head) => formatProblem(mirror.mediaType, head));
        got = { edition: "mirror", file: mirror.file, how: "copied", from: source, written, expected };
      } catch (err) {
        tried.push(`copy from mirror ${source} failed: ${describe(err, timeoutMs)}`);
      }
    }
  }
  const original = doc.editions.original;
  if (!got && !original) tried.push("the manifest lists no original edition to download");
  if (!got && original) {
    const expected = expectedFor(original, lock);
    try {
      const written = await download(original, targetOf(original), expected, opts.fetchImpl ?? fetch, timeoutMs);
      got = { edition: "original", file: original.file, how: "downloaded", from: original.url, written, expected };
    } catch (err) {
      tried.push(`download from ${original.url} failed: ${describe(err, timeoutMs)}`);
    }
  }

  const keepFile = got?.written.verified ? path.join(opts.corpusDir, got.file) : undefined;
  for (const s of stale) if (s.file !== keepFile) await rm(s.file, { force: true });

  if (got?.written.verified) {
    const { sha256, bytes } = got.written;
    if (got.expected === null) lock.firstUse[got.file] = firstUse(sha256, got.from);
    lock.present[doc.id] = { edition: got.edition, file: got.file };
    return { id: doc.id, file: got.file, edition: got.edition, status: got.how, bytes, sha256, checksum: got.expected?.check ?? "first-use" };
  }

  delete lock.present[doc.id];
  const staleNote = stale.length ? `; ${stale.map((s) => s.message).join("; ")} (deleted)` : "";
  if (got) {
    const expected = got.expected!; // an unverified file always had an expected checksum
    return {
      id: doc.id,
      file: got.file,
      status: "checksum-mismatch",
      reason: `${mismatch(got.file, expected, got.written.sha256)} (${got.how === "copied" ? "copy from mirror" : "download from"} ${got.from}; discarded)${staleNote}${advice(got.file, expected)}`,
      bytes: got.written.bytes,
      sha256: got.written.sha256,
    };
  }
  // The file the document would have had: the edition this fetch was after.
  const wanted = opts.mirrorDir ? (mirror ?? original)! : (original ?? mirror)!;
  if (stale.length) {
    const reason = `${stale.map((s) => s.message).join("; ")} (deleted); could not replace it: ${tried.join("; ")}${stale[0]!.advice}`;
    return { id: doc.id, file: wanted.file, status: "checksum-mismatch", reason };
  }
  return { id: doc.id, file: wanted.file, status: "missing", reason: tried.join("; ") };
}

async function download(edition: Edition & { url: string }, target: string, expected: Expected | null, fetchImpl: typeof fetch, timeoutMs: number): Promise<Written> {
  const res = await fetchImpl(edition.url, {
    redirect: "follow",
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: `${edition.mediaType}, */*;q=0.1`, "user-agent": USER_AGENT },
  });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
  }
  if (!res.body) throw new Error("empty response body");
  const contentType = res.headers.get("content-type") ?? undefined;
  return writeVerified(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), target, expected, (head) =>
    formatProblem(edition.mediaType, head, contentType),
  );
}

interface Written {
  bytes: number;
  sha256: string;
  verified: boolean;
}

/**
 * Streams into a temp file next to the target, hashing on the way; renames only if the hash is the
 * expected one. With no expected checksum yet (first use), the bytes must at least look like the
 * edition's format (`firstUseCheck`), so that an error page is never recorded as the document.
 * Not write-file-atomic: that takes the whole content in memory and commits it unconditionally,
 * while this streams (PDFs of several MB), hashes on the way and decides after the last byte whether
 * to rename or discard; the temp-then-rename here is that decision, not a copy of the library.
 */
async function writeVerified(source: Readable, target: string, expected: Expected | null, firstUseCheck: (head: Buffer) => string | undefined): Promise<Written> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.part`);
  const hash = createHash("sha256");
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          if (head.length < 512) head = Buffer.concat([head, chunk.subarray(0, 512 - head.length)]);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(tmp, { flags: "wx" }),
    );
    const sha256 = hash.digest("hex");
    if (expected === null) {
      const problem = firstUseCheck(head);
      if (problem) throw new Error(`${problem}; nothing was kept or recorded`);
    }
    const verified = expected === null || sha256 === expected.sha256;
    if (verified) await rename(tmp, target);
    else await rm(tmp, { force: true });
    return { bytes, sha256, verified };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Why the first bytes (and the server's Content-Type) cannot be an edition of this media type, if they cannot. */
export function formatProblem(mediaType: MediaType, head: Buffer, contentType?: string): string | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  const sent = type ? `the server sent ${type}` : "got";
  const isPdf = head.subarray(0, 5).toString("latin1") === "%PDF-";
  const start = JSON.stringify(head.subarray(0, 24).toString("utf8").replace(/\s+/g, " ").trim());
  if (mediaType === "application/pdf") return isPdf ? undefined : `${sent}, not a PDF (it starts with ${start})`;
  if (isPdf) return `${sent}, a PDF, not ${mediaType}`;
  if (head.includes(0)) return `${sent}, binary content, not ${mediaType}`;
  if (mediaType === "text/html" && type && type !== "text/html" && type !== "application/xhtml+xml") return `${sent}, not an HTML page`;
  return undefined;
}

function mismatch(file: string, expected: Expected, actual: string): string {
  const recorded = expected.record ? ` (recorded on first fetch from ${expected.record.source} at ${expected.record.recordedAt})` : "";
  return `${file}: sha256 mismatch, expected ${expected.sha256}${recorded}, got ${actual}`;
}

/** What a person can do about a file that differs from the checksum recorded on its first fetch. */
function advice(file: string, expected: Expected): string {
  if (expected.check !== "recorded") return "";
  return `. If the new bytes are right (the source changed), remove "${file}" from ${LOCK_FILE} in the corpus folder and fetch again`;
}

/** One line for a failure, e.g. "fetch failed (ENOTFOUND)", without a stack trace. */
function describe(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError") return `timed out after ${timeoutMs} ms`;
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
