/** One retrievable passage, as an index stores it. */
export interface Chunk {
  /** Stable id: `${docId}:${position}`. */
  id: string;
  docId: string;
  title: string;
  /** First 1-based PDF page the chunk's text is on; null for documents without pages. */
  page: number | null;
  /** Last page when the chunk spans two pages, otherwise equal to page. */
  pageEnd: number | null;
  section: string | null;
  /** 0-based position of the chunk within its document. */
  position: number;
  /** The chunk's text as stored: what answers are drawn from and citations show. */
  text: string;
  /** sha256 of the embedded text (prefix + text) and embedder id: the embedding cache key. */
  hash: string;
}

export interface IndexedDocument {
  id: string;
  title: string;
  authors: string[];
  aliases: string[];
  year: number | null;
  kind: string;
  url: string;
  file: string;
  sha256: string;
  pages: number | null;
  chunks: number;
}

export const INDEX_SCHEMA_VERSION = 1;

export interface IndexManifest {
  schemaVersion: number;
  createdAt: string;
  embedder: { id: string; dimensions: number };
  chunking: { size: number; overlap: number; prefix: boolean; version: number };
  hnsw: { space: "cosine"; m: number; efConstruction: number };
  documents: IndexedDocument[];
  totals: { documents: number; pages: number; chunks: number };
  /** sha256 of each data file in the index folder, checked on load. */
  files: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// The store port: what retrieval and ingestion need from wherever the index lives (files with
// hnswlib today, Postgres + pgvector next). Everything is addressed by chunk id; how a store numbers
// its rows is its own business.

export interface DocumentFilter {
  /** Only chunks of these document ids. */
  docs?: ReadonlySet<string>;
}

export interface ScoredId {
  id: string;
  score: number;
}

/** The chunks of one index generation. */
export interface ChunkStore {
  readonly size: number;
  get(id: string): Chunk | undefined;
  /** Every chunk, in index order. */
  all(): readonly Chunk[];
}

/**
 * Vectors by chunk id, like LangChain's VectorStore (addVectors, delete by id,
 * similaritySearchVectorWithScore with a filter), so one can sit behind it (store/langchain.ts).
 */
export interface VectorStore {
  readonly dimensions: number;
  /** The k nearest chunks to the vector by cosine similarity (higher is closer). */
  search(vector: readonly number[], k: number, filter?: DocumentFilter): Promise<ScoredId[]>;
  add(items: ReadonlyArray<{ id: string; docId: string; vector: readonly number[] }>): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  /** Stored vectors of these chunks (undefined where there is none): vectors are reused at ingest. */
  get(ids: readonly string[]): Promise<Array<number[] | undefined>>;
}

/** The lexical (BM25) index and the vocabulary statistics query analysis needs. */
export interface LexicalStore {
  /** BM25 over analysed query terms. */
  search(terms: readonly string[], k: number, filter?: DocumentFilter): Promise<ScoredId[]>;
  idf(term: string): number;
  has(term: string): boolean;
  /** Whether a document uses the term anywhere (named-document checks). */
  documentUses(docId: string, term: string): boolean;
}

/** One index generation, opened for reading. */
export interface IndexSnapshot {
  readonly manifest: IndexManifest & { generation: string };
  readonly chunks: ChunkStore;
  readonly vectors: VectorStore;
  readonly lexical: LexicalStore;
  /** The corpus-fitted embedder's model (LSA) the vectors were made with, when there is one. */
  readonly embedderModel?: Uint8Array;
}

export interface OpenOptions {
  /** The configured embedder: an index built with another one is refused. */
  embedder: { id: string; dimensions: number };
  /** HNSW search breadth (or the store's equivalent). */
  ef: number;
}

/** A complete new generation, as ingestion produces it. */
export interface GenerationData {
  chunks: Chunk[];
  /** One vector per chunk, same order. */
  vectors: number[][];
  /** The text each chunk was indexed under (title/section prefix + text). */
  indexedTexts: string[];
  /** A corpus-fitted embedder's model (LSA). */
  embedderModel?: Uint8Array;
}

export type GenerationManifest = Omit<IndexManifest, "schemaVersion" | "files" | "hnsw" | "createdAt">;

/**
 * Where index generations live. A write builds a whole new generation and makes it current in one
 * atomic step; readers see the old one until then, and a failed write leaves it current.
 */
export interface IndexStore {
  /** A short description for logs and errors ("files in ./index"). */
  readonly location: string;
  /** The current generation's manifest, or null when there is none. */
  current(): Promise<(IndexManifest & { generation: string }) | null>;
  open(opts: OpenOptions): Promise<IndexSnapshot>;
  write(data: GenerationData, manifest: GenerationManifest): Promise<IndexManifest & { generation: string }>;
  /** Calls back when another process makes a new generation current; returns the unsubscribe function. */
  watch(onChange: () => void): () => void;
  /** Prepares the backend (schema migrations); throws SCHEMA_TOO_NEW or STORE_UNAVAILABLE. */
  init?(): Promise<void>;
  /** The backend's health as last seen (a store without a backend to lose has none). */
  health?(): StoreHealth;
  /** Calls back when the backend becomes unavailable or available again; returns the unsubscribe function. */
  watchHealth?(onChange: (health: StoreHealth) => void): () => void;
  /** Where this store keeps jobs; without one, jobs live in the process's memory. */
  readonly jobs?: JobStore;
  /** Releases connections. */
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Jobs (re-index, upload, removal): where their status lives. In memory for the file store; a table
// for Postgres, so that every replica reads the same job and a restart keeps it.

export interface JobRecord<P = unknown, R = unknown> {
  jobId: string;
  /** What started it: "reindex", "upload" (a document added), "remove" (a document removed). */
  kind: string;
  status: "running" | "succeeded" | "failed";
  startedAt: string;
  finishedAt?: string;
  /** What the job was asked to do (force, the document id). */
  params?: Record<string, unknown>;
  progress: P;
  result?: R;
  error?: string;
  /** The process running it ("hostname:pid"). */
  owner?: string;
}

export interface JobStore {
  /** Whether jobs outlive the process and are shared with other processes (a heartbeat is then kept). */
  readonly durable: boolean;
  /** Records a new running job; throws REINDEX_RUNNING (store/errors.ts) naming the running one when there is one. */
  create(job: JobRecord): Promise<void>;
  /** Saves the job's status, progress and result; for a durable store, also its heartbeat. */
  update(job: JobRecord): Promise<void>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The running job, if any (in this process or another one sharing the store). */
  running(): Promise<JobRecord | undefined>;
  /** Marks failed the running jobs whose worker has been silent longer than staleMs (it died); returns them. */
  reapStale(staleMs: number): Promise<JobRecord[]>;
}

/** How a store reports its backend's health (only stores with a backend to lose have one). */
export interface StoreHealth {
  available: boolean;
  /** Why it is not, for logs and /readyz. */
  reason?: string;
}
