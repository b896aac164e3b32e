/** Turns text into vectors. Implementations: the bundled sentence encoder (default) and OpenAI. */
export interface Embedder {
  /** Identifies the model and its settings; stored in the index manifest and checked on load. */
  readonly id: string;
  readonly dimensions: number;
  /** Embeds passages; `onProgress` receives the number of texts done so far. */
  embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
  /** Releases workers and other resources. */
  close(): Promise<void>;
}
