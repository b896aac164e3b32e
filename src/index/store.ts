/**
 * The index on disk. Layout of INDEX_DIR:
 *
 *   manifest.json          the commit point: names the live generation and every file's sha256
 *   gen-<timestamp>/       chunks.json, vectors.f32, hnsw.bin, lexical.json
 *
 * A build writes a new generation folder beside the live one, then replaces manifest.json with an
 * atomic rename. Until that rename, readers see the old generation; a failed or interrupted build
 * leaves only an orphan folder that the next build removes. Working at file level (not by renaming
 * INDEX_DIR itself) keeps this atomic when INDEX_DIR is a mount point, as in docker compose.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import hnswlib from "hnswlib-node";
import { LexicalIndex, buildLexical, type LexicalData } from "./lexical.js";
import { INDEX_SCHEMA_VERSION, type Chunk, type IndexManifest } from "./types.js";

const { HierarchicalNSW } = hnswlib;
export type Hnsw = InstanceType<typeof HierarchicalNSW>;

const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 200;

export interface IndexData {
  chunks: Chunk[];
  /** One vector per chunk, same order. */
  vectors: number[][];
  /** The text each chunk was indexed under (title/section prefix + text). */
  indexedTexts: string[];
  /** A corpus-fitted embedder's model (LSA), stored as embedder.bin. */
  embedderModel?: Uint8Array;
}

export interface LoadedIndex {
  dir: string;
  manifest: IndexManifest & { generation: string };
  chunks: Chunk[];
  vectors: Float32Array;
  hnsw: Hnsw;
  lexical: LexicalIndex;
  /** The corpus-fitted embedder's model the vectors were made with, when there is one. */
  embedderModel?: Uint8Array;
}

export class IndexLoadError extends Error {
  constructor(
    public readonly code: "INDEX_MISSING" | "INDEX_INVALID",
    message: string,
  ) {
    super(message);
    this.name = "IndexLoadError";
  }
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Writes a new generation and commits it by replacing manifest.json. Returns the manifest written. */
export async function writeIndex(
  dir: string,
  data: IndexData,
  manifest: Omit<IndexManifest, "schemaVersion" | "files" | "hnsw" | "createdAt">,
): Promise<IndexManifest & { generation: string }> {
  await mkdir(dir, { recursive: true });
  const generation = `gen-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  const genDir = path.join(dir, generation);
  await mkdir(genDir);
  try {
    const dims = manifest.embedder.dimensions;
    const vectors = new Float32Array(data.chunks.length * dims);
    data.vectors.forEach((v, i) => {
      if (v.length !== dims) throw new Error(`vector ${i} has ${v.length} dimensions, expected ${dims}`);
      vectors.set(v, i * dims);
    });
    const hnsw = buildHnsw(vectors, dims, data.chunks.length);
    const files: Record<string, Buffer> = {
      "chunks.json": Buffer.from(JSON.stringify(data.chunks)),
      "vectors.f32": Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength),
      "lexical.json": Buffer.from(JSON.stringify(buildLexical(data.indexedTexts))),
      ...(data.embedderModel ? { "embedder.bin": Buffer.from(data.embedderModel.buffer, data.embedderModel.byteOffset, data.embedderModel.byteLength) } : {}),
    };
    const hashes: Record<string, string> = {};
    for (const [name, buf] of Object.entries(files)) {
      await writeFile(path.join(genDir, name), buf);
      hashes[`${generation}/${name}`] = sha256(buf);
    }
    const hnswFile = path.join(genDir, "hnsw.bin");
    await hnsw.writeIndex(hnswFile);
    hashes[`${generation}/hnsw.bin`] = sha256(await readFile(hnswFile));

    const full = {
      schemaVersion: INDEX_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      generation,
      ...manifest,
      hnsw: { space: "cosine" as const, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION },
      files: hashes,
    };
    const tmp = path.join(dir, `.manifest.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(full, null, 2));
    await rename(tmp, path.join(dir, "manifest.json"));
    await pruneGenerations(dir, generation);
    return full;
  } catch (err) {
    await rm(genDir, { recursive: true, force: true });
    throw err;
  }
}

function buildHnsw(vectors: Float32Array, dims: number, count: number): Hnsw {
  const index = new HierarchicalNSW("cosine", dims);
  index.initIndex({ maxElements: Math.max(1, count), m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: 42 });
  for (let i = 0; i < count; i++) index.addPoint(Array.from(vectors.subarray(i * dims, (i + 1) * dims)), i);
  return index;
}

/** Keeps the live generation and the one before it (a server may still be loading it); removes the rest. */
async function pruneGenerations(dir: string, live: string): Promise<void> {
  const gens = (await readdir(dir)).filter((n) => n.startsWith("gen-") && n !== live).sort();
  for (const old of gens.slice(0, -1)) await rm(path.join(dir, old), { recursive: true, force: true });
}

export async function readManifest(dir: string): Promise<(IndexManifest & { generation: string }) | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, "manifest.json"), "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new IndexLoadError("INDEX_INVALID", `${path.join(dir, "manifest.json")} is not valid JSON: ${(err as Error).message}`);
  }
}

export interface LoadOptions {
  /** The configured embedder: an index built with another one is refused. */
  embedder: { id: string; dimensions: number };
  ef: number;
}

/** Loads and checks an index: schema version, embedder and dimensions, file integrity. */
export async function loadIndex(dir: string, opts: LoadOptions): Promise<LoadedIndex> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new IndexLoadError("INDEX_MISSING", `no index in ${dir} (run: npm run ingest)`);
  const invalid = (msg: string) => new IndexLoadError("INDEX_INVALID", `index in ${dir}: ${msg}`);
  if (manifest.schemaVersion !== INDEX_SCHEMA_VERSION)
    throw invalid(`schema version ${manifest.schemaVersion}, this build reads ${INDEX_SCHEMA_VERSION}; rebuild it with npm run ingest`);
  if (manifest.embedder?.id !== opts.embedder.id || manifest.embedder?.dimensions !== opts.embedder.dimensions)
    throw invalid(
      `built with embedder ${manifest.embedder?.id} (${manifest.embedder?.dimensions}-d) but ${opts.embedder.id} (${opts.embedder.dimensions}-d) is configured; set EMBEDDER to match or rebuild with npm run ingest`,
    );
  const read = async (name: string): Promise<Buffer> => {
    const rel = `${manifest.generation}/${name}`;
    let buf: Buffer;
    try {
      buf = await readFile(path.join(dir, rel));
    } catch {
      throw invalid(`file ${rel} is missing`);
    }
    if (manifest.files?.[rel] !== sha256(buf)) throw invalid(`file ${rel} does not match its checksum (corrupt or partly written)`);
    return buf;
  };
  const [chunksBuf, vectorsBuf, lexicalBuf] = await Promise.all([read("chunks.json"), read("vectors.f32"), read("lexical.json")]);
  await read("hnsw.bin");
  const embedderModel = manifest.files?.[`${manifest.generation}/embedder.bin`] ? new Uint8Array(await read("embedder.bin")) : undefined;
  const chunks = JSON.parse(chunksBuf.toString("utf8")) as Chunk[];
  const dims = manifest.embedder.dimensions;
  const vectors = new Float32Array(vectorsBuf.buffer.slice(vectorsBuf.byteOffset, vectorsBuf.byteOffset + vectorsBuf.byteLength));
  if (vectors.length !== chunks.length * dims) throw invalid(`vectors.f32 holds ${vectors.length / dims} vectors for ${chunks.length} chunks`);
  const hnsw = new HierarchicalNSW("cosine", dims);
  await hnsw.readIndex(path.join(dir, manifest.generation, "hnsw.bin"));
  if (hnsw.getCurrentCount() !== chunks.length) throw invalid(`hnsw.bin holds ${hnsw.getCurrentCount()} points for ${chunks.length} chunks`);
  hnsw.setEf(Math.max(opts.ef, 10));
  const lexical = new LexicalIndex(JSON.parse(lexicalBuf.toString("utf8")) as LexicalData);
  return { dir, manifest, chunks, vectors, hnsw, lexical, ...(embedderModel ? { embedderModel } : {}) };
}

/** The stored vector of chunk `ordinal` (used to reuse embeddings of unchanged chunks). */
export function vectorOf(index: Pick<LoadedIndex, "vectors" | "manifest">, ordinal: number): number[] {
  const d = index.manifest.embedder.dimensions;
  return Array.from(index.vectors.subarray(ordinal * d, (ordinal + 1) * d));
}
