/**
 * Latent semantic analysis: the default embedder. Fitted to the corpus at ingest, in-process, in well
 * under a second: a TF-IDF matrix of the chunks (the same analyzer as BM25: stems, stop words, compound
 * parts), its truncated SVD by randomized subspace iteration (Halko, Martinsson & Tropp 2011), and a
 * term table: each term's row of V. A text's vector is its TF-IDF vector times that table (folding-in,
 * as for queries in LSI: a chunk gets its row of U Σ), L2-normalised; a query costs a few table lookups (~0.1 ms).
 *
 * Why this and not the bundled Universal Sentence Encoder: measured on the dev set, LSA alone ranks the
 * right passage in the top 5 for 0.73 of the questions against 0.42 for the encoder, embeds a query in
 * ~0.1 ms against ~10 ms and needs no worker threads; the encoder stays available (EMBEDDER=use), and
 * OpenAI or compatible embedders (EMBEDDER=openai) are what a user with a real embedding model uses.
 * `npm run eval -- --compare-env` reproduces the comparison (README "Quality").
 *
 * Written here rather than taken from a library: the npm SVD implementations (ml-matrix) are dense,
 * and a dense SVD of a chunks x vocabulary matrix takes minutes in JS; the randomized method needs only
 * sparse products and small dense steps. ml-matrix does the small symmetric eigendecomposition.
 */
import { terms } from "../text/analyze.js";
import type { Embedder } from "./types.js";

/** Version of the fitting procedure (weighting, vocabulary rule, iterations, seed). */
export const LSA_VERSION = 1;

export interface LsaOptions {
  /** Dimensions kept (LSA_DIMENSIONS). */
  dimensions: number;
  /** A term must occur in at least this many chunks to be part of the space. */
  minDf?: number;
  /** Subspace (power) iterations (3: more change retrieval by less than the choice of random seed does). */
  iterations?: number;
  seed?: number;
}

export interface LsaModel {
  dimensions: number;
  vocabulary: string[];
  idf: Float32Array;
  /** vocabulary.length x dimensions, row-major: term j's coordinates. */
  table: Float32Array;
}

export interface LsaFit {
  model: LsaModel;
  /** The fitted texts' own vectors (rows of U Σ, L2-normalised): what folding each of them in would give. */
  vectors: number[][];
}

interface SparseRow {
  ids: Int32Array;
  values: Float64Array;
}

/** Sublinear TF x IDF, L2-normalised; terms outside the vocabulary are ignored. */
function tfidf(textTerms: readonly string[], index: ReadonlyMap<string, number>, idf: ArrayLike<number>): SparseRow {
  const tf = new Map<number, number>();
  for (const t of textTerms) {
    const j = index.get(t);
    if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
  }
  const ids = new Int32Array(tf.size);
  const values = new Float64Array(tf.size);
  let norm = 0;
  let a = 0;
  for (const [j, f] of tf) {
    const v = (1 + Math.log(f)) * idf[j]!;
    ids[a] = j;
    values[a++] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < values.length; i++) values[i]! /= norm;
  return { ids, values };
}

/** Deterministic standard normal numbers (LCG + Box-Muller): the same corpus gives the same space. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

/** Gram matrix MᵀM (cols x cols) of a rows x cols row-major matrix. */
function gramOf(m: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let a = 0; a < cols; a++) {
      const x = m[base + a]!;
      if (x === 0) continue;
      for (let b = a; b < cols; b++) g[a * cols + b]! += x * m[base + b]!;
    }
  }
  for (let a = 0; a < cols; a++) for (let b = 0; b < a; b++) g[a * cols + b] = g[b * cols + a]!;
  return g;
}

/**
 * Orthonormalises the columns of a rows x cols row-major matrix in place: Cholesky QR, twice (CholQR2),
 * which is as accurate as Householder here and touches memory row by row.
 */
function orthonormalize(m: Float64Array, rows: number, cols: number): void {
  for (let pass = 0; pass < 2; pass++) {
    const g = gramOf(m, rows, cols);
    // Cholesky: G = RᵀR, R upper triangular (a tiny ridge keeps rank-deficient columns finite).
    const r = new Float64Array(cols * cols);
    for (let a = 0; a < cols; a++) {
      let d = g[a * cols + a]! + 1e-12;
      for (let p = 0; p < a; p++) d -= r[p * cols + a]! ** 2;
      const diag = Math.sqrt(Math.max(d, 1e-12));
      r[a * cols + a] = diag;
      for (let b = a + 1; b < cols; b++) {
        let s = g[a * cols + b]!;
        for (let p = 0; p < a; p++) s -= r[p * cols + a]! * r[p * cols + b]!;
        r[a * cols + b] = s / diag;
      }
    }
    // M := M R⁻¹, row by row (forward substitution on each row).
    for (let i = 0; i < rows; i++) {
      const base = i * cols;
      for (let b = 0; b < cols; b++) {
        let s = m[base + b]!;
        for (let p = 0; p < b; p++) s -= m[base + p]! * r[p * cols + b]!;
        m[base + b] = s / r[b * cols + b]!;
      }
    }
  }
}

export async function fitLsa(texts: string[], opts: LsaOptions): Promise<LsaFit> {
  // Imported when fitting: serving and an up-to-date ingest never need it.
  const { EigenvalueDecomposition, Matrix } = await import("ml-matrix");
  const minDf = opts.minDf ?? 2;
  const df = new Map<string, number>();
  const analysed = texts.map((t) => terms(t));
  for (const ts of analysed) for (const term of new Set(ts)) df.set(term, (df.get(term) ?? 0) + 1);
  const vocabulary = [...df].filter(([, n]) => n >= minDf).map(([t]) => t).sort();
  const index = new Map(vocabulary.map((t, j) => [t, j]));
  const n = texts.length;
  const V = vocabulary.length;
  const idf = new Float32Array(V);
  vocabulary.forEach((t, j) => (idf[j] = Math.log(n / df.get(t)!) + 1));
  const rows = analysed.map((ts) => tfidf(ts, index, idf));
  const k = Math.max(1, Math.min(opts.dimensions, n - 1, V - 1));
  const l = Math.min(k + 20, n, V);

  // Row-major products with the sparse matrix A (n x V).
  const timesA = (x: Float64Array): Float64Array => {
    // x: V x l -> A x: n x l
    const out = new Float64Array(n * l);
    rows.forEach((row, i) => {
      const o = i * l;
      for (let a = 0; a < row.ids.length; a++) {
        const xj = row.ids[a]! * l;
        const v = row.values[a]!;
        for (let c = 0; c < l; c++) out[o + c]! += v * x[xj + c]!;
      }
    });
    return out;
  };
  const timesAt = (y: Float64Array): Float64Array => {
    // y: n x l -> Aᵀ y: V x l
    const out = new Float64Array(V * l);
    rows.forEach((row, i) => {
      const yi = i * l;
      for (let a = 0; a < row.ids.length; a++) {
        const o = row.ids[a]! * l;
        const v = row.values[a]!;
        for (let c = 0; c < l; c++) out[o + c]! += v * y[yi + c]!;
      }
    });
    return out;
  };

  const random = gaussian(opts.seed ?? 42);
  const omega = new Float64Array(V * l).map(() => random());
  // Subspace iteration on A Aᵀ, orthonormalised on the small (chunks) side only.
  const q = timesA(omega);
  orthonormalize(q, n, l);
  for (let it = 0; it < (opts.iterations ?? 3); it++) {
    q.set(timesA(timesAt(q)));
    orthonormalize(q, n, l);
  }
  // Rayleigh-Ritz: C = Qᵀ A Aᵀ Q (l x l); its eigenpairs give σ² and the left singular vectors in Q's basis.
  const z = timesAt(q); // Aᵀ Q, V x l
  const w = timesA(z); // A Aᵀ Q, n x l
  const c = new Matrix(l, l);
  for (let a = 0; a < l; a++)
    for (let b = a; b < l; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += q[i * l + a]! * w[i * l + b]!;
      c.set(a, b, s);
      c.set(b, a, s);
    }
  const eig = new EigenvalueDecomposition(c, { assumeSymmetric: true });
  const order = eig.realEigenvalues.map((value, i) => ({ value, i })).sort((x, y) => y.value - x.value).slice(0, k);
  const eigenvectors = eig.eigenvectorMatrix.to2DArray();
  // Right singular vector c: v_c = Aᵀ Q u_c / σ_c; the term table holds V, so a chunk's vector is its row of U Σ.
  const table = new Float32Array(V * k);
  order.forEach(({ value, i }, col) => {
    const sigma = Math.sqrt(Math.max(value, 1e-12));
    const u = eigenvectors.map((r) => r[i]!);
    for (let j = 0; j < V; j++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += z[j * l + a]! * u[a]!;
      table[j * k + col] = s / sigma;
    }
  });
  // The fitted texts' vectors: rows of Q U_b Σ (= A V), normalised; the same as folding each text in.
  const vectors = rows.map((_, i) => {
    const out = new Array<number>(k).fill(0);
    order.forEach(({ value, i: e }, col) => {
      const sigma = Math.sqrt(Math.max(value, 1e-12));
      let s = 0;
      for (let a = 0; a < l; a++) s += q[i * l + a]! * vectors_(e, a);
      out[col] = s * sigma;
    });
    const norm = Math.hypot(...out);
    return norm === 0 ? out.map(() => 1 / Math.sqrt(k)) : out.map((x) => x / norm);
  });
  return { model: { dimensions: k, vocabulary, idf, table }, vectors };

  function vectors_(column: number, row: number): number {
    return eigenvectors[row]![column]!;
  }
}

/** A text in the model's space: TF-IDF folded through the term table, L2-normalised. */
export function lsaVector(model: LsaModel, index: ReadonlyMap<string, number>, text: string): number[] {
  const { ids, values } = tfidf(terms(text), index, model.idf);
  const k = model.dimensions;
  const out = new Float64Array(k);
  for (let a = 0; a < ids.length; a++) {
    const base = ids[a]! * k;
    const v = values[a]!;
    for (let c = 0; c < k; c++) out[c]! += v * model.table[base + c]!;
  }
  let norm = 0;
  for (let c = 0; c < k; c++) norm += out[c]! * out[c]!;
  norm = Math.sqrt(norm);
  // A text with no known term has no direction; a constant vector keeps cosine defined (and low).
  return norm === 0 ? Array.from({ length: k }, () => 1 / Math.sqrt(k)) : Array.from(out, (x) => x / norm);
}

/** Serialises a model for the index folder: a small JSON header line, then idf and table as float32. */
export function encodeLsa(model: LsaModel): Buffer {
  const header = Buffer.from(`${JSON.stringify({ format: "lsa/1", dimensions: model.dimensions, vocabulary: model.vocabulary })}\n`);
  return Buffer.concat([header, Buffer.from(model.idf.buffer, model.idf.byteOffset, model.idf.byteLength), Buffer.from(model.table.buffer, model.table.byteOffset, model.table.byteLength)]);
}

export function decodeLsa(data: Uint8Array): LsaModel {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const nl = buf.indexOf(0x0a);
  if (nl < 0) throw new Error("not an LSA model (no header)");
  const header = JSON.parse(buf.subarray(0, nl).toString("utf8")) as { format: string; dimensions: number; vocabulary: string[] };
  if (header.format !== "lsa/1") throw new Error(`unknown LSA model format ${header.format}`);
  const V = header.vocabulary.length;
  const k = header.dimensions;
  const body = buf.subarray(nl + 1);
  if (body.byteLength !== 4 * (V + V * k)) throw new Error(`LSA model holds ${body.byteLength} bytes, expected ${4 * (V + V * k)}`);
  const floats = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return { dimensions: k, vocabulary: header.vocabulary, idf: floats.subarray(0, V), table: floats.subarray(V) };
}

/**
 * The LSA embedder. Before `fit` (or `withModel`) it has no space and refuses to embed; ingest fits it on
 * the texts to index and stores the model with the index, the server restores it from there.
 */
export class LsaEmbedder implements Embedder {
  readonly id: string;
  readonly fitted = true;
  private readonly index: Map<string, number>;

  constructor(
    readonly dimensions: number,
    private readonly model?: LsaModel,
  ) {
    // The fitting procedure is part of the identity: a change to it rebuilds the index instead of mixing spaces.
    this.id = `lsa${LSA_VERSION}-${dimensions}`;
    this.index = new Map(model?.vocabulary.map((t, j) => [t, j]) ?? []);
  }

  async fit(texts: string[]): Promise<{ model: Uint8Array; vectors: number[][] }> {
    const { model, vectors } = await fitLsa(texts, { dimensions: this.dimensions });
    return { model: encodeLsa(model), vectors: model.dimensions === this.dimensions ? vectors : vectors.map((v) => padVector(v, this.dimensions)) };
  }

  withModel(model: Uint8Array): LsaEmbedder {
    const decoded = decodeLsa(model);
    if (decoded.dimensions !== this.dimensions) {
      // A corpus smaller than the requested dimensions keeps fewer; vectors are padded to the configured size.
      return new LsaEmbedder(this.dimensions, { ...decoded, table: pad(decoded, this.dimensions), dimensions: this.dimensions });
    }
    return new LsaEmbedder(this.dimensions, decoded);
  }

  async embedDocuments(texts: string[], onProgress?: (done: number) => void): Promise<number[][]> {
    const out = texts.map((t) => this.vector(t));
    onProgress?.(texts.length);
    return out;
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }

  private vector(text: string): number[] {
    if (!this.model) throw new Error("the LSA embedder has no model: it is fitted at ingest and loaded with the index");
    return lsaVector(this.model, this.index, text);
  }

  async close(): Promise<void> {}
}

function padVector(v: number[], dimensions: number): number[] {
  return [...v, ...new Array<number>(dimensions - v.length).fill(0)];
}

function pad(model: LsaModel, dimensions: number): Float32Array {
  const V = model.vocabulary.length;
  const out = new Float32Array(V * dimensions);
  for (let j = 0; j < V; j++) out.set(model.table.subarray(j * model.dimensions, (j + 1) * model.dimensions), j * dimensions);
  return out;
}
