/**
 * Puts every manifest document into the corpus directory: kept if already there and intact,
 * otherwise copied from a local mirror or downloaded from its URL, and always checked against
 * the manifest's SHA-256. A file only appears under its final name once it has been verified.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { sha256File, type CorpusEntry } from "./manifest.js";

export type FetchStatus = "present" | "copied" | "downloaded" | "checksum-mismatch" | "missing";

export interface FetchResult {
  id: string;
  file: string;
  status: FetchStatus;
  /** Why a document is missing or failed its checksum. */
  reason?: string;
  bytes?: number;
  sha256?: string;
}

export interface FetchReport {
  results: FetchResult[];
  /** True when every document is in the corpus directory and verified. */
  ok: boolean;
}

export type FetchEvent = { type: "start"; entry: CorpusEntry } | { type: "result"; result: FetchResult };

export interface FetchOptions {
  entries: CorpusEntry[];
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

/**
 * 0 = every document available, or some missing but reported (the rest carry on, so
 * `corpus:fetch && ingest` works offline); 2 = some missing under --strict;
 * 3 = a checksum mismatch (wins over missing).
 */
export function exitCodeFor(report: FetchReport, strict = false): number {
  if (report.results.some((r) => r.status === "checksum-mismatch")) return EXIT_CHECKSUM;
  if (strict && report.results.some((r) => r.status === "missing")) return EXIT_MISSING;
  return EXIT_OK;
}

export async function fetchCorpus(opts: FetchOptions): Promise<FetchReport> {
  await mkdir(opts.corpusDir, { recursive: true });
  const results: FetchResult[] = [];
  for (const entry of opts.entries) {
    opts.onEvent?.({ type: "start", entry });
    const result = await fetchOne(entry, opts);
    results.push(result);
    opts.onEvent?.({ type: "result", result });
  }
  const ok = results.every((r) => r.status === "present" || r.status === "copied" || r.status === "downloaded");
  return { results, ok };
}

async function fetchOne(entry: CorpusEntry, opts: FetchOptions): Promise<FetchResult> {
  const base = { id: entry.id, file: entry.file };
  const target = path.join(opts.corpusDir, entry.file);
  const timeoutMs = opts.timeoutMs ?? 120_000;

  // A file already in place but with the wrong hash is stale or corrupt: replace it, and if that
  // is impossible, delete it anyway so nothing downstream indexes the wrong bytes.
  let stale: string | undefined;
  const existing = await fileSize(target);
  if (existing !== undefined) {
    const sha256 = await sha256File(target);
    if (entry.sha256 === null || sha256 === entry.sha256) return { ...base, status: "present", bytes: existing, sha256 };
    stale = mismatch(target, entry.sha256, sha256);
  }

  const tried: string[] = [];
  let outcome: Written | undefined;
  let status: "copied" | "downloaded" = "copied";

  if (opts.mirrorDir) {
    const source = path.join(opts.mirrorDir, entry.file);
    if ((await fileSize(source)) === undefined) tried.push(`not in mirror ${opts.mirrorDir}`);
    else {
      try {
        outcome = await writeVerified(createReadStream(source), target, entry.sha256);
      } catch (err) {
        tried.push(`copy from mirror ${source} failed: ${describe(err, timeoutMs)}`);
      }
    }
  } else tried.push("no mirror given");

  if (!outcome) {
    try {
      status = "downloaded";
      outcome = await download(entry.url, target, entry.sha256, opts.fetchImpl ?? fetch, timeoutMs);
    } catch (err) {
      tried.push(`download from ${entry.url} failed: ${describe(err, timeoutMs)}`);
    }
  }

  if (outcome && outcome.verified) return { ...base, status, bytes: outcome.bytes, sha256: outcome.sha256 };
  if (outcome) {
    if (stale) await rm(target, { force: true });
    const from = status === "copied" ? `copy from mirror ${opts.mirrorDir}` : `download from ${entry.url}`;
    return {
      ...base,
      status: "checksum-mismatch",
      reason: `${mismatch(entry.file, entry.sha256, outcome.sha256)} (${from}; discarded)`,
      bytes: outcome.bytes,
      sha256: outcome.sha256,
    };
  }
  if (stale) {
    await rm(target, { force: true });
    return { ...base, status: "checksum-mismatch", reason: `${stale} (deleted); could not replace it: ${tried.join("; ")}` };
  }
  return { ...base, status: "missing", reason: tried.join("; ") };
}

async function download(url: string, target: string, expected: string | null, fetchImpl: typeof fetch, timeoutMs: number): Promise<Written> {
  const res = await fetchImpl(url, { redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
  }
  if (!res.body) throw new Error("empty response body");
  return writeVerified(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), target, expected);
}

interface Written {
  bytes: number;
  sha256: string;
  verified: boolean;
}

/** Streams into a temp file next to the target, hashing on the way; renames only if the hash matches. */
async function writeVerified(source: Readable, target: string, expected: string | null): Promise<Written> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.part`);
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(tmp, { flags: "wx" }),
    );
    const sha256 = hash.digest("hex");
    const verified = expected === null || sha256 === expected;
    if (verified) await rename(tmp, target);
    else await rm(tmp, { force: true });
    return { bytes, sha256, verified };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

function mismatch(file: string, expected: string | null, actual: string): string {
  return `${file}: sha256 mismatch, expected ${expected}, got ${actual}`;
}

/** One line for a failure, e.g. "fetch failed (ENOTFOUND)", without a stack trace. */
function describe(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "TimeoutError") return `timed out after ${timeoutMs} ms`;
  const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
