/**
 * Any LangChain VectorStore behind the VectorStore port (Qdrant, Chroma, pgvector through LangChain,
 * the in-memory one in tests): chunk ids travel as document metadata, the document filter as a
 * metadata predicate. Shown working with LangChain's MemoryVectorStore in the tests.
 */
import type { Document } from "@langchain/core/documents";
import type { VectorStore as LcVectorStore } from "@langchain/core/vectorstores";
import type { DocumentFilter, ScoredId, VectorStore } from "./types.js";

type Filterable = LcVectorStore & {
  similaritySearchVectorWithScore(query: number[], k: number, filter?: unknown): Promise<Array<[Document, number]>>;
};

export class LangChainVectorStore implements VectorStore {
  private readonly vectors = new Map<string, number[]>();

  constructor(
    private readonly store: Filterable,
    readonly dimensions: number,
    /** How the wrapped store takes a filter: a predicate on documents (MemoryVectorStore) or its own object. */
    private readonly toFilter: (docs: ReadonlySet<string>) => unknown = (docs) => (doc: Document) => docs.has(String(doc.metadata.docId)),
  ) {}

  async search(vector: readonly number[], k: number, filter?: DocumentFilter): Promise<ScoredId[]> {
    const found = await this.store.similaritySearchVectorWithScore([...vector], k, filter?.docs ? this.toFilter(filter.docs) : undefined);
    return found.map(([doc, score]) => ({ id: String(doc.metadata.id), score }));
  }

  async add(items: ReadonlyArray<{ id: string; docId: string; vector: readonly number[] }>): Promise<void> {
    await this.delete(items.map((i) => i.id).filter((id) => this.vectors.has(id)));
    const docs = items.map((i) => ({ pageContent: "", metadata: { id: i.id, docId: i.docId }, id: i.id }) as Document);
    await this.store.addVectors(items.map((i) => [...i.vector]), docs, { ids: items.map((i) => i.id) });
    for (const i of items) this.vectors.set(i.id, [...i.vector]);
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store.delete({ ids: [...ids] });
    for (const id of ids) this.vectors.delete(id);
  }

  async get(ids: readonly string[]): Promise<Array<number[] | undefined>> {
    return ids.map((id) => this.vectors.get(id));
  }
}
