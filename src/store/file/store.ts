/**
 * The file store: index generations as files, vectors in hnswlib. Layout of INDEX_DIR:
 *
 *   manifest.json          the commit point: names the current generation and every file's sha256
 *   gen-<timestamp>/       chunks.json, vectors.f32, hnsw.bin, lexical.json, embedder.bin (LSA)
 *
 * A write builds a new generation folder beside the current one, then replaces manifest.json with an
 * atomic rename. Until that rename, readers see the old generation; a failed or interrupted write
 * leaves only an orphan folder that the next write removes. Working at file level (not by renaming
 * INDEX_DIR itself) keeps this atomic when INDEX_DIR is a mount point, as in docker compose.
 */
import { createHash } from "node:crypto";
import { watch as watchDir } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import writeFileAtomic from "write-file-atomic";
import { AppError } from "../../errors.js";
import { ArrayChunkStore } from "../chunks.js";
import { INDEX_SCHEMA_VERSION, type Chunk, type GenerationData, type GenerationManifest, type IndexManifest, type IndexSnapshot, type IndexStore, type OpenOptions } from "../types.js";
import { buildLexical, FileLexicalStore, LexicalIndex, type LexicalData } from "./lexical.js";
import { HnswVectorStore, HNSW_EF_CONSTRUCTION, HNSW_M } from "./vectors.js";

type Manifest = IndexManifest & { generation: string };

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

export class FileIndexStore implements IndexStore {
  constructor(readonly dir: string) {}

  get location(): string {
    return `files in ${this.dir}`;
  }

  async current(): Promise<Manifest | null> {
    return readManifest(this.dir);
  }

  async open(opts: OpenOptions): Promise<IndexSnapshot> {
    return openGeneration(this.dir, opts);
  }

  async write(data: GenerationData, manifest: GenerationManifest): Promise<Manifest> {
    return writeGeneration(this.dir, data, manifest);
  }

  /** Watches manifest.json's folder (the folder may not exist yet: then only SIGHUP reloads). */
  watch(onChange: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    try {
      const watcher = watchDir(this.dir, (_event, name) => {
        if (name !== "manifest.json") return;
        clearTimeout(timer);
        timer = setTimeout(onChange, 200);
      });
      watcher.on("error", () => watcher.close());
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    } catch {
      return () => {};
    }
  }
}

async function writeGeneration(dir: string, data: GenerationData, manifest: GenerationManifest): Promise<Manifest> {
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
    const hnsw = HnswVectorStore.build(data.chunks, vectors, dims);
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
    await hnsw.save(hnswFile);
    hashes[`${generation}/hnsw.bin`] = sha256(await readFile(hnswFile));

    const full: Manifest = {
      schemaVersion: INDEX_SCHEMA_VERSION,
      createdAt: new Date().toISOString(),
      generation,
      ...manifest,
      hnsw: { space: "cosine" as const, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION },
      files: hashes,
    };
    // The commit point: manifest.json replaced by an atomic rename.
    await writeFileAtomic(path.join(dir, "manifest.json"), JSON.stringify(full, null, 2));
    await pruneGenerations(dir, generation);
    return full;
  } catch (err) {
    await rm(genDir, { recursive: true, force: true });
    throw err;
  }
}

/** Keeps the current generation and the one before it (a server may still be loading it); removes the rest. */
async function pruneGenerations(dir: string, live: string): Promise<void> {
  const gens = (await readdir(dir)).filter((n) => n.startsWith("gen-") && n !== live).sort();
  for (const old of gens.slice(0, -1)) await rm(path.join(dir, old), { recursive: true, force: true });
}

export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, "manifest.json"), "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError("INDEX_INVALID", `${path.join(dir, "manifest.json")} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Opens and checks a generation: schema version, embedder and dimensions, file integrity. */
async function openGeneration(dir: string, opts: OpenOptions): Promise<IndexSnapshot> {
  const manifest = await readManifest(dir);
  if (!manifest) throw new AppError("INDEX_MISSING", `no index in ${dir} (run: npm run ingest)`);
  const invalid = (msg: string, cause?: unknown) => new AppError("INDEX_INVALID", `index in ${dir}: ${msg}`, { cause });
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
    } catch (err) {
      throw invalid(`file ${rel} is missing`, err);
    }
    if (manifest.files?.[rel] !== sha256(buf)) throw invalid(`file ${rel} does not match its checksum (corrupt or partly written)`);
    return buf;
  };
  const [chunksBuf, vectorsBuf, lexicalBuf] = await Promise.all([read("chunks.json"), read("vectors.f32"), read("lexical.json")]);
  await read("hnsw.bin");
  const embedderModel = manifest.files?.[`${manifest.generation}/embedder.bin`] ? new Uint8Array(await read("embedder.bin")) : undefined;
  const list = JSON.parse(chunksBuf.toString("utf8")) as Chunk[];
  const dims = manifest.embedder.dimensions;
  const vectors = new Float32Array(vectorsBuf.buffer.slice(vectorsBuf.byteOffset, vectorsBuf.byteOffset + vectorsBuf.byteLength));
  if (vectors.length !== list.length * dims) throw invalid(`vectors.f32 holds ${vectors.length / dims} vectors for ${list.length} chunks`);
  const chunks = new ArrayChunkStore(list);
  const hnsw = await HnswVectorStore.load(path.join(dir, manifest.generation, "hnsw.bin"), list, vectors, dims, opts.ef).catch((err: Error) => {
    throw invalid(err.message, err);
  });
  const lexical = new FileLexicalStore(new LexicalIndex(JSON.parse(lexicalBuf.toString("utf8")) as LexicalData), list);
  return { manifest, chunks, vectors: hnsw, lexical, ...(embedderModel ? { embedderModel } : {}) };
}
