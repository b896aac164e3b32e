/**
 * The documents to index: the project's manifest (corpus/manifest.json) plus documents added through
 * the admin API, which are recorded in `uploads.json` inside the corpus folder (never in the repo).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/index.js";
import { loadCorpusManifest, type CorpusEntry } from "./manifest.js";

export const UPLOADS_FILE = "uploads.json";

export async function loadCorpusEntries(config: Pick<Config, "corpusManifest" | "corpusDir">): Promise<CorpusEntry[]> {
  const base = await loadCorpusManifest(config.corpusManifest);
  const uploads = await loadUploads(config.corpusDir);
  const removed = new Set(uploads.removed);
  const ids = new Set(base.map((e) => e.id));
  return [...base.filter((e) => !removed.has(e.id)), ...uploads.documents.filter((e) => !ids.has(e.id))];
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
  const file = path.join(corpusDir, UPLOADS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(uploads, null, 2));
  await rename(tmp, file);
}
