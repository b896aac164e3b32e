/**
 * The editions lock, `editions.lock.json` in the corpus folder, written by corpus:fetch:
 *   - `present`:  for each document, which edition is in the folder (what ingest reads);
 *   - `firstUse`: for each file the manifest pins no checksum for, the SHA-256 it had when it was
 *                 first fetched (trust on first use): a later fetch that gets other bytes is refused.
 * It belongs to the corpus folder it describes, never to the repository. Written atomically.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import writeFileAtomic from "write-file-atomic";
import { z } from "zod";
import { AppError, invalidInput } from "../errors.js";
import { EDITION_NAMES } from "./manifest.js";

export const LOCK_FILE = "editions.lock.json";

const lockSchema = z.strictObject({
  version: z.literal(1),
  present: z.record(z.string(), z.strictObject({ edition: z.enum(EDITION_NAMES), file: z.string().min(1) })),
  firstUse: z.record(
    z.string(),
    z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits"),
      /** Where the bytes came from: the URL, the mirror file, or "already in the corpus folder". */
      source: z.string(),
      recordedAt: z.string(),
    }),
  ),
});

export type EditionsLock = z.infer<typeof lockSchema>;
export type FirstUseRecord = EditionsLock["firstUse"][string];

const LOCK_ADVICE =
  "It records the checksums of files fetched without a pinned checksum; fix it, or delete it to trust the files in the corpus folder again on the next fetch.";

/** CORPUS_LOCK_INVALID for a lock that cannot be read or parsed. */
const lockError = (file: string, reason: string, cause: unknown) =>
  new AppError("CORPUS_LOCK_INVALID", `Invalid editions lock ${file}: ${reason}. ${LOCK_ADVICE}`, { cause, details: { file } });

export const emptyLock = (): EditionsLock => ({ version: 1, present: {}, firstUse: {} });

/** The lock of a corpus folder; an empty one when there is none yet. Throws CORPUS_LOCK_INVALID when it is unreadable. */
export async function readLock(corpusDir: string): Promise<EditionsLock> {
  const file = path.join(corpusDir, LOCK_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyLock();
    throw lockError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw lockError(file, `not valid JSON (${(err as Error).message})`, err);
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) throw invalidInput("CORPUS_LOCK_INVALID", `Invalid editions lock ${file} (${LOCK_ADVICE})`, parsed.error, { file });
  return parsed.data;
}

/** Writes the lock through a temp file and a rename (write-file-atomic), so a reader never sees half of it. */
export async function writeLock(corpusDir: string, lock: EditionsLock): Promise<void> {
  const sorted: EditionsLock = { version: 1, present: sortKeys(lock.present), firstUse: sortKeys(lock.firstUse) };
  await writeFileAtomic(path.join(corpusDir, LOCK_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
}

const sortKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
