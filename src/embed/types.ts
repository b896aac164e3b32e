/** Turns text into vectors. Implementations: LSA fitted to the corpus (default), the bundled sentence encoder, OpenAI. */
export interface Embedder {
  /** Identifies the model and its settings; stored in the index manifest and checked on load. */
  readonly id: string;
  readonly dimensions: number;
  /** Embeds passages; `onProgress` receives the number of texts done so far. */
  embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
  /** Releases workers and other resources. */
  close(): Promise<void>;
  /**
   * Corpus-fitted embedders only (LSA): learns the vector space from the texts about to be indexed and
   * returns the model, which is stored with the index (a pretrained model has no such step), and the
   * texts' vectors in that space.
   */
  fit?(texts: string[]): Promise<{ model: Uint8Array; vectors: number[][] }>;
  /** Corpus-fitted embedders only: this embedder in the space of a stored model. */
  withModel?(model: Uint8Array): Embedder;
}

/** Output sizes of OpenAI's embedding models (an unknown model is assumed to give 1536). */
export const OPENAI_DIMENSIONS: Readonly<Record<string, number>> = { "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536 };
