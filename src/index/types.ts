/** One retrievable passage, as stored in index/chunks.json. */
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
