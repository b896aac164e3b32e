/**
 * The store port's contract, run against the file store (hnswlib + files) and against a LangChain
 * VectorStore behind the adapter: chunk ids in and out, document filters, add / delete / get.
 */
import { MemoryVectorStore } from "@langchain/classic/vectorstores/memory";
import type { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.js";
import { createIndexStore, LangChainVectorStore, type Chunk, type VectorStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/fixtures.js";

const chunk = (docId: string, position: number, text: string): Chunk => ({
  id: `${docId}:${position}`,
  docId,
  title: docId,
  page: null,
  pageEnd: null,
  section: null,
  position,
  text,
  hash: `${docId}${position}`,
});
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const chunks = [chunk("a", 0, "adam optimizer learning rate"), chunk("a", 1, "attention heads"), chunk("b", 0, "reward model from human feedback"), chunk("b", 1, "adam with warmup")];
const vectors = [unit([1, 0, 0.1]), unit([0.2, 1, 0]), unit([0, 0.1, 1]), unit([0.9, 0, 0.3])];
const manifest = {
  embedder: { id: "test-3", dimensions: 3 },
  chunking: { size: 900, overlap: 150, prefix: true, version: 1 },
  documents: [],
  totals: { documents: 2, pages: 0, chunks: chunks.length },
};

/** The behaviour every VectorStore implementation must have. */
function vectorContract(name: string, make: () => Promise<VectorStore>) {
  describe(`VectorStore contract: ${name}`, () => {
    it("finds the nearest chunks by id, best first, with cosine similarity", async () => {
      const store = await make();
      const hits = await store.search(unit([1, 0, 0]), 2);
      expect(hits.map((h) => h.id)).toEqual(["a:0", "b:1"]);
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      expect(hits[0]!.score).toBeCloseTo(vectors[0]![0]!, 4);
    });

    it("restricts to the documents of a filter", async () => {
      const store = await make();
      const hits = await store.search(unit([1, 0, 0]), 2, { docs: new Set(["b"]) });
      expect(hits.map((h) => h.id)).toEqual(["b:1", "b:0"]);
    });

    it("adds, replaces and deletes by chunk id, and returns stored vectors", async () => {
      const store = await make();
      await store.add([{ id: "c:0", docId: "c", vector: unit([0, -1, 0]) }]);
      expect((await store.search(unit([0, -1, 0]), 1))[0]!.id).toBe("c:0");
      await store.delete(["c:0", "a:0"]);
      const ids = (await store.search(unit([1, 0, 0]), 4)).map((h) => h.id);
      expect(ids).not.toContain("a:0");
      expect(ids).not.toContain("c:0");
      const [b1, gone] = await store.get(["b:1", "a:0"]);
      expect(b1![0]).toBeCloseTo(vectors[3]![0]!, 5);
      expect(gone).toBeUndefined();
    });
  });
}

vectorContract("file store (hnswlib)", async () => {
  const dir = await tempDir("store");
  const store = createIndexStore({ indexDir: dir });
  await store.write({ chunks, vectors, indexedTexts: chunks.map((c) => c.text) }, manifest);
  return (await store.open({ embedder: { id: "test-3", dimensions: 3 }, ef: 50 })).vectors;
});

/** LangChain's in-memory store, with the delete-by-id its base class leaves unimplemented. */
class DeletableMemoryStore extends MemoryVectorStore {
  override async delete(params: { ids?: string[] }): Promise<void> {
    const ids = new Set(params.ids ?? []);
    this.memoryVectors = this.memoryVectors.filter((v) => !ids.has(String(v.metadata.id)));
  }
}
class NoEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  override async embedDocuments(): Promise<number[][]> {
    throw new Error("vectors are given");
  }
  override async embedQuery(): Promise<number[]> {
    throw new Error("vectors are given");
  }
}
vectorContract("a LangChain VectorStore (MemoryVectorStore)", async () => {
  const store = new LangChainVectorStore(new DeletableMemoryStore(new NoEmbeddings()), 3, (docs) => (doc: Document) => docs.has(String(doc.metadata.docId)));
  await store.add(chunks.map((c, i) => ({ id: c.id, docId: c.docId, vector: vectors[i]! })));
  return store;
});

describe("file index store", () => {
  it("writes a generation, opens it by id, and finds by BM25 with a document filter", async () => {
    const dir = await tempDir("store");
    const store = createIndexStore({ indexDir: dir });
    expect(await store.current()).toBeNull();
    const written = await store.write({ chunks, vectors, indexedTexts: chunks.map((c) => c.text) }, manifest);
    expect((await store.current())?.generation).toBe(written.generation);
    const index = await store.open({ embedder: { id: "test-3", dimensions: 3 }, ef: 50 });
    expect(index.chunks.size).toBe(4);
    expect(index.chunks.get("b:1")?.text).toBe("adam with warmup");
    expect((await index.lexical.search(["adam"], 5)).map((h) => h.id).sort()).toEqual(["a:0", "b:1"]);
    expect((await index.lexical.search(["adam"], 5, { docs: new Set(["b"]) })).map((h) => h.id)).toEqual(["b:1"]);
    expect(index.lexical.documentUses("b", "reward")).toBe(true);
    expect(index.lexical.documentUses("a", "reward")).toBe(false);
  });

  it("refuses an index made with another embedder, naming both", async () => {
    const dir = await tempDir("store");
    const store = createIndexStore({ indexDir: dir });
    await store.write({ chunks, vectors, indexedTexts: chunks.map((c) => c.text) }, manifest);
    const refused = store.open({ embedder: { id: "other-3", dimensions: 3 }, ef: 50 });
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({ code: "INDEX_INVALID" });
    await expect(refused).rejects.toThrow(/test-3 .* but other-3/);
  });
});
