/**
 * The documents to index: the project's manifest (corpus/manifest.json) plus documents added through
 * the admin API, which are recorded in `uploads.json` inside the corpus folder (never in the repo).
 *
 * A manifest document is indexed from the edition that is in the corpus folder: the one
 * editions.lock.json names (written by corpus:fetch), else the first edition whose file is there
 * (a folder filled by hand or by an older version), else its mirror edition (reported missing).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import writeFileAtomic from "write-file-atomic";
import type { Config } from "../config/index.js";
import { isAppError } from "../errors.js";
import { isFile } from "./files.js";
import { emptyLock, readLock } from "./lock.js";
import { editionsOf, loadCorpusManifest, type CorpusDocument, type CorpusEntry, type Edition, type EditionName } from "./manifest.js";

export const UPLOADS_FILE = "uploads.json";

type CatalogConfig = Pick<Config, "corpusManifest" | "corpusDir">;

/** The manifest's documents, less those removed through the admin API: what corpus fetching gets. */
export async function loadCorpusDocuments(config: CatalogConfig): Promise<CorpusDocument[]> {
  const documents = await loadCorpusManifest(config.corpusManifest);
  const removed = new Set((await loadUploads(config.corpusDir)).removed);
  return documents.filter((d) => !removed.has(d.id));
}

/** Every document to index, each as the one file that represents it in the corpus folder. */
export async function loadCorpusEntries(config: CatalogConfig): Promise<CorpusEntry[]> {
  const base = await resolveEntries(await loadCorpusDocuments(config), config.corpusDir);
  const ids = new Set(base.map((e) => e.id));
  const uploads = await loadUploads(config.corpusDir);
  return [...base, ...uploads.documents.filter((e) => !ids.has(e.id))];
}

/**
 * Each document as its present edition (see the module comment). The lock only says which edition
 * is present; an unreadable lock is reported by corpus:fetch, and here the files alone decide.
 */
export async function resolveEntries(documents: CorpusDocument[], corpusDir: string): Promise<CorpusEntry[]> {
  const lock = await readLock(corpusDir).catch((err: unknown) => {
    if (isAppError(err, "CORPUS_LOCK_INVALID")) return emptyLock();
    throw err;
  });
  const entries: CorpusEntry[] = [];
  for (const doc of documents) {
    const recorded = lock.present[doc.id];
    const inLock = recorded && doc.editions[recorded.edition];
    const named: Array<[EditionName, Edition]> = inLock && inLock.file === recorded.file ? [[recorded.edition, inLock]] : [];
    const all = editionsOf(doc);
    let chosen: [EditionName, Edition] = all[0]!;
    for (const candidate of [...named, ...all]) {
      if (await isFile(path.join(corpusDir, candidate[1].file))) {
        chosen = candidate;
        break;
      }
    }
    const [edition, e] = chosen;
    const { editions: _editions, ...meta } = doc;
    entries.push({ ...meta, file: e.file, mediaType: e.mediaType, sha256: e.sha256 ?? lock.firstUse[e.file]?.sha256 ?? null, edition });
  }
  return entries;
}

export interface Uploads {
  documents: CorpusEntry[];
  /** Manifest documents removed through the admin API. */
  removed: string[];
}

export async function loadUploads(corpusDir: string): Promise<Uploads> {
  try {
    const data = JSON.parse(await readFile(path.join(corpusDir, UPLOADS_FILE), "utf8")) as Partial<Uploads>;
    return { documents: data.documents ?? [], removed: data.removed ?? [] };
  } catch {
    return { documents: [], removed: [] };
  }
}

export async function saveUploads(corpusDir: string, uploads: Uploads): Promise<void> {
  // Temp file, fsync, rename: a reader never sees half of it.
  await writeFileAtomic(path.join(corpusDir, UPLOADS_FILE), JSON.stringify(uploads, null, 2));
}
