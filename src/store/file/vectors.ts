/**
 * The file store's vector store: hnswlib-node (HNSW, cosine), one label per chunk. Chunk ids are
 * mapped to labels here and nowhere else; retrieval sees ids and cosine similarities.
 */
import hnswlib from "hnswlib-node";
import type { Chunk, DocumentFilter, ScoredId, VectorStore } from "../types.js";

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 200;

export class HnswVectorStore implements VectorStore {
  private readonly labels = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly docOf: string[] = [];
  /** Vectors by label: the loaded block, then vectors added since. */
  private readonly added = new Map<number, number[]>();

  private constructor(
    private readonly index: Hnsw,
    readonly dimensions: number,
    chunks: readonly Pick<Chunk, "id" | "docId">[],
    private readonly block: Float32Array,
  ) {
    chunks.forEach((c, label) => {
      this.labels.set(c.id, label);
      this.ids[label] = c.id;
      this.docOf[label] = c.docId;
    });
  }

  /** A new index over the chunks' vectors (row i of `vectors` is chunk i). */
  static build(chunks: readonly Pick<Chunk, "id" | "docId">[], vectors: Float32Array, dims: number): HnswVectorStore {
    const index = new HierarchicalNSW("cosine", dims);
    index.initIndex({ maxElements: Math.max(1, chunks.length), m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION, randomSeed: 42 });
    for (let i = 0; i < chunks.length; i++) index.addPoint(Array.from(vectors.subarray(i * dims, (i + 1) * dims)), i);
    return new HnswVectorStore(index, dims, chunks, vectors);
  }

  /** An index saved by save(); `chunks` and `vectors` are the generation's, in label order. */
  static async load(file: string, chunks: readonly Pick<Chunk, "id" | "docId">[], vectors: Float32Array, dims: number, ef: number): Promise<HnswVectorStore> {
    const index = new HierarchicalNSW("cosine", dims);
    await index.readIndex(file);
    if (index.getCurrentCount() !== chunks.length) throw new Error(`hnsw.bin holds ${index.getCurrentCount()} points for ${chunks.length} chunks`);
    index.setEf(Math.max(ef, 10));
    return new HnswVectorStore(index, dims, chunks, vectors);
  }

  async save(file: string): Promise<void> {
    await this.index.writeIndex(file);
  }

  async search(vector: readonly number[], k: number, filter?: DocumentFilter): Promise<ScoredId[]> {
    const count = this.index.getCurrentCount();
    if (count === 0 || k <= 0) return [];
    const docs = filter?.docs;
    const allow = docs ? (label: number) => docs.has(this.docOf[label]!) : undefined;
    const { neighbors, distances } = this.index.searchKnn(vector as number[], Math.min(k, count), allow);
    return neighbors.map((label, i) => ({ id: this.ids[label]!, score: 1 - distances[i]! }));
  }

  async add(items: ReadonlyArray<{ id: string; docId: string; vector: readonly number[] }>): Promise<void> {
    const needed = this.ids.length + items.length;
    if (needed > this.index.getMaxElements()) this.index.resizeIndex(Math.max(needed, this.index.getMaxElements() * 2));
    for (const item of items) {
      if (item.vector.length !== this.dimensions) throw new Error(`vector for ${item.id} has ${item.vector.length} dimensions, expected ${this.dimensions}`);
      const old = this.labels.get(item.id);
      if (old !== undefined) this.index.markDelete(old);
      const label = this.ids.length;
      this.index.addPoint(item.vector as number[], label);
      this.labels.set(item.id, label);
      this.ids[label] = item.id;
      this.docOf[label] = item.docId;
      this.added.set(label, [...item.vector]);
    }
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const label = this.labels.get(id);
      if (label === undefined) continue;
      this.index.markDelete(label);
      this.labels.delete(id);
      this.added.delete(label);
    }
  }

  async get(ids: readonly string[]): Promise<Array<number[] | undefined>> {
    return ids.map((id) => {
      const label = this.labels.get(id);
      if (label === undefined) return undefined;
      const added = this.added.get(label);
      if (added) return [...added];
      return label * this.dimensions < this.block.length ? Array.from(this.block.subarray(label * this.dimensions, (label + 1) * this.dimensions)) : undefined;
    });
  }
}
