/**
 * The ingestion job: corpus files -> cleaned, page-aware chunks -> vectors -> index on disk.
 *
 * Incremental: a document whose sha256, chunking parameters and embedder are unchanged keeps its
 * chunks from the live index without being parsed again; any chunk whose embedded text is unchanged
 * (same content hash) keeps its vector. A rerun with nothing changed writes nothing at all.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isFile } from "../corpus/files.js";
import { sha256File, type CorpusEntry } from "../corpus/manifest.js";
import type { Embedder } from "../embed/types.js";
import { AppError, isAppError } from "../errors.js";
import type { Chunk, IndexedDocument, IndexManifest, IndexSnapshot, IndexStore } from "../store/index.js";
import { CHUNKER_VERSION, chunkDocument, indexedText } from "./chunk.js";
import { loadDocument } from "./load.js";
import { unreadable } from "./types.js";

export interface ChunkingOptions {
  size: number;
  overlap: number;
  prefix: boolean;
}

export type IngestEvent =
  | { type: "start"; documents: number }
  | { type: "document"; id: string; status: "parsed" | "reused"; pages: number | null; chunks: number }
  | { type: "skipped"; id: string; file: string; reason: string }
  | { type: "missing"; id: string; file: string }
  | { type: "embed-start"; total: number; cached: number }
  | { type: "embed-progress"; done: number; total: number }
  | { type: "write" };

export interface IngestOptions {
  corpusDir: string;
  /** Where the index lives; the new generation is written there. */
  store: IndexStore;
  entries: CorpusEntry[];
  embedder: Embedder;
  chunking: ChunkingOptions;
  /** Parse and chunk every document again even when nothing changed (unchanged vectors are still reused). */
  force?: boolean;
  onEvent?: (event: IngestEvent) => void;
}

export interface IngestResult {
  upToDate: boolean;
  documents: number;
  pages: number;
  chunks: number;
  /** Chunks embedded in this run (0 when every vector came from the previous index). */
  embedded: number;
  reusedVectors: number;
  skipped: Array<{ id: string; file: string; reason: string }>;
  missing: Array<{ id: string; file: string }>;
  seconds: number;
  manifest: (IndexManifest & { generation?: string }) | null;
}

interface DocBuild {
  doc: IndexedDocument;
  chunks: Chunk[];
}

export async function ingest(opts: IngestOptions): Promise<IngestResult> {
  const started = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const { embedder, chunking } = opts;
  // The up-to-date check needs only the previous manifest and the files' checksums; the previous index
  // itself (chunks and vectors to reuse) is read only when something changed.
  const before = await opts.store.current().catch(() => null);
  const sameSettings =
    before !== null &&
    before.embedder?.id === embedder.id &&
    before.embedder?.dimensions === embedder.dimensions &&
    before.chunking.size === chunking.size &&
    before.chunking.overlap === chunking.overlap &&
    before.chunking.prefix === chunking.prefix &&
    before.chunking.version === CHUNKER_VERSION;
  const shas = new Map<string, string>();
  for (const entry of opts.entries) {
    const file = path.join(opts.corpusDir, entry.file);
    if (await isFile(file)) shas.set(entry.id, await sha256File(file));
  }
  const unchanged =
    sameSettings &&
    !opts.force &&
    shas.size === opts.entries.length &&
    before!.documents.length === opts.entries.length &&
    opts.entries.every((e) => before!.documents.some((d) => d.id === e.id && d.sha256 === shas.get(e.id) && sameList(d.aliases, e.aliases)));
  if (unchanged) {
    emit({ type: "start", documents: opts.entries.length });
    for (const d of before!.documents) emit({ type: "document", id: d.id, status: "reused", pages: d.pages, chunks: d.chunks });
    const { documents, pages, chunks } = before!.totals;
    return { upToDate: true, documents, pages, chunks, embedded: 0, reusedVectors: chunks, skipped: [], missing: [], seconds: elapsed(started), manifest: before };
  }
  const previous = await openPrevious(opts.store, embedder);

  emit({ type: "start", documents: opts.entries.length });
  const builds: DocBuild[] = [];
  const skipped: IngestResult["skipped"] = [];
  const missing: IngestResult["missing"] = [];

  for (const entry of opts.entries) {
    const file = path.join(opts.corpusDir, entry.file);
    if (!(await isFile(file))) {
      missing.push({ id: entry.id, file: entry.file });
      emit({ type: "missing", id: entry.id, file: entry.file });
      continue;
    }
    const sha = shas.get(entry.id) ?? (await sha256File(file));
    const old = sameSettings && previous && !opts.force
      ? previous!.manifest.documents.find((d) => d.id === entry.id && d.sha256 === sha && sameList(d.aliases, entry.aliases))
      : undefined;
    if (old && previous) {
      const chunks = previous.chunks.all().filter((c) => c.docId === entry.id);
      builds.push({ doc: { ...describe(entry, sha, old.pages), chunks: chunks.length }, chunks });
      emit({ type: "document", id: entry.id, status: "reused", pages: old.pages, chunks: chunks.length });
      continue;
    }
    try {
      const loaded = await loadDocument(await readFile(file), entry.file, entry.mediaType);
      const parts = await chunkDocument(loaded, { docId: entry.id, title: entry.title }, chunking);
      const chunks = parts.map((c) => ({ ...c, hash: contentHash(embedder.id, indexedText(c, chunking.prefix, entry.aliases)) }));
      if (chunks.length === 0) throw unreadable(entry.file, "no text to index");
      builds.push({ doc: { ...describe(entry, sha, loaded.pages), chunks: chunks.length }, chunks });
      emit({ type: "document", id: entry.id, status: "parsed", pages: loaded.pages, chunks: chunks.length });
    } catch (err) {
      const reason = isAppError(err, "DOCUMENT_UNREADABLE") ? (err.details?.reason ?? err.message) : `unexpected error: ${(err as Error).message}`;
      skipped.push({ id: entry.id, file: entry.file, reason });
      emit({ type: "skipped", id: entry.id, file: entry.file, reason });
    }
  }

  const base = { skipped, missing, documents: builds.length };
  if (builds.length === 0) throw new AppError("NOTHING_TO_INDEX", "nothing could be indexed: no document was present and readable", { details: base });

  const chunks = builds.flatMap((b) => b.chunks);
  const documents = builds.map((b) => b.doc);
  const aliases = new Map(documents.map((d) => [d.id, d.aliases]));
  const textOf = (c: Chunk) => indexedText(c, chunking.prefix, aliases.get(c.docId));
  const pages = documents.reduce((n, d) => n + (d.pages ?? 0), 0);
  // Vectors. A corpus-fitted embedder (LSA) learns its space from these texts first and embeds them all
  // (in milliseconds); a pretrained one reuses every vector whose text is unchanged (content hash).
  const texts = chunks.map(textOf);
  let vectors: Array<number[] | undefined>;
  let embedderModel: Uint8Array | undefined;
  let todo: number[];
  if (embedder.fit && embedder.withModel) {
    emit({ type: "embed-start", total: chunks.length, cached: 0 });
    const fitted = await embedder.fit(texts);
    embedderModel = fitted.model;
    vectors = fitted.vectors;
    emit({ type: "embed-progress", done: chunks.length, total: chunks.length });
    todo = chunks.map((_, i) => i);
  } else {
    // Reuse by content hash: a chunk whose embedded text is unchanged keeps its stored vector.
    const cache = new Map<string, number[]>();
    if (previous) {
      const old = previous.chunks.all();
      const stored = await previous.vectors.get(old.map((c) => c.id));
      old.forEach((c, i) => stored[i] && cache.set(c.hash, stored[i]!));
    }
    vectors = chunks.map((c) => cache.get(c.hash));
    todo = chunks.map((_, i) => i).filter((i) => vectors[i] === undefined);
    emit({ type: "embed-start", total: todo.length, cached: chunks.length - todo.length });
    if (todo.length) {
      const fresh = await embedder.embedDocuments(
        todo.map((i) => texts[i]!),
        (done) => emit({ type: "embed-progress", done, total: todo.length }),
      );
      todo.forEach((chunkIndex, j) => (vectors[chunkIndex] = fresh[j]));
    }
  }

  emit({ type: "write" });
  const manifest = await opts.store.write(
    { chunks, vectors: vectors as number[][], indexedTexts: texts, ...(embedderModel ? { embedderModel } : {}) },
    {
      embedder: { id: embedder.id, dimensions: embedder.dimensions },
      chunking: { ...chunking, version: CHUNKER_VERSION },
      documents,
      totals: { documents: documents.length, pages, chunks: chunks.length },
    },
  );
  return { ...base, upToDate: false, pages, chunks: chunks.length, embedded: todo.length, reusedVectors: chunks.length - todo.length, seconds: elapsed(started), manifest };
}

/** The current generation, when it can be read with this embedder; otherwise null (full rebuild). */
async function openPrevious(store: IndexStore, embedder: Embedder): Promise<IndexSnapshot | null> {
  try {
    return await store.open({ embedder, ef: 10 });
  } catch (err) {
    if (isAppError(err, "INDEX_MISSING", "INDEX_INVALID")) return null;
    throw err;
  }
}

function describe(entry: CorpusEntry, sha256: string, pages: number | null): Omit<IndexedDocument, "chunks"> {
  return {
    id: entry.id,
    title: entry.title,
    authors: entry.authors,
    aliases: entry.aliases ?? [],
    year: entry.year ?? null,
    kind: entry.kind,
    url: entry.url,
    file: entry.file,
    sha256,
    pages,
  };
}

export function contentHash(embedderId: string, text: string): string {
  return createHash("sha256").update(embedderId).update("\0").update(text).digest("hex");
}

const sameList = (a: string[] | undefined, b: string[] | undefined) => (a ?? []).join("\n") === (b ?? []).join("\n");

const elapsed = (t0: number) => Math.round((performance.now() - t0) / 10) / 100;
