/**
 * The Postgres store: index generations in Postgres + pgvector, for several API replicas on one
 * database. Tables (migrations/001_index.sql): index_generations (one row each, with the manifest, the
 * LSA model and the BM25 statistics), index_active (the one row naming the active generation), and per
 * generation a partition of index_documents, index_chunks (text, metadata, vector(d) with an HNSW
 * index, cosine) and index_terms (postings from the shared analyzer).
 *
 * A write creates the generation's partitions, fills them one transaction per batch of documents,
 * builds the HNSW index, then switches index_active in one final transaction and notifies the
 * replicas (NOTIFY; they poll as well). Until that switch readers see the old generation; a failed or
 * interrupted write leaves it active and its partitions are dropped (at once, or by the next write once
 * its heartbeat is stale). Retired generations beyond the previous one are dropped after a switch.
 *
 * A snapshot holds the generation's chunks and vocabulary (term -> document frequency, documents using
 * it) in memory, what query analysis and the reader read synchronously; BM25 and k-NN run in SQL.
 */
import pg from "pg";
import pgvector from "pgvector";
import { ArrayChunkStore } from "../chunks.js";
import { AppError } from "../../errors.js";
import { buildLexical } from "../file/lexical.js";
import {
  INDEX_SCHEMA_VERSION,
  type Chunk,
  type DocumentFilter,
  type GenerationData,
  type GenerationManifest,
  type IndexManifest,
  type IndexSnapshot,
  type IndexStore,
  type LexicalStore,
  type OpenOptions,
  type ScoredId,
  type StoreHealth,
  type VectorStore,
} from "../types.js";
import { acquireDatabase, isUnavailable, releaseDatabase, type Database, type PgSettings } from "./db.js";
import { PostgresJobStore } from "./jobs.js";

type Manifest = IndexManifest & { generation: string };

export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 64;
/** pgvector's upper bound for hnsw.ef_search. */
const MAX_EF_SEARCH = 1000;
/** The channel a switch is announced on. */
export const CHANNEL = "llmops_qa_index";
/** A generation still "building" whose writer has not beaten for this long was abandoned. */
const STALE_BUILD_MS = 10 * 60_000;
/** Rows and postings per write transaction. */
const CHUNK_BATCH = 500;
const POSTING_BATCH = 200_000;

const table = (base: "index_chunks" | "index_terms" | "index_documents", id: string | number) => {
  const n = String(id);
  if (!/^\d+$/.test(n)) throw new Error(`bad generation id ${n}`);
  return `${base}_g${n}`;
};

const vectorLiteral = (v: readonly number[]): string => {
  for (const x of v) if (!Number.isFinite(x)) throw new Error("a vector holds a non-finite number");
  return pgvector.toSql(Array.from(v)) as string;
};

export class PostgresIndexStore implements IndexStore {
  readonly jobs: PostgresJobStore;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly release: (db: Database) => Promise<void> = async () => {},
  ) {
    this.jobs = new PostgresJobStore(db);
  }

  /** A store on the process's shared pool for these settings. */
  static connect(settings: PgSettings): PostgresIndexStore {
    return new PostgresIndexStore(acquireDatabase(settings), releaseDatabase);
  }

  get location(): string {
    return this.db.location;
  }

  get database(): Database {
    return this.db;
  }

  async init(): Promise<void> {
    await this.db.ready();
  }

  health(): StoreHealth {
    return this.db.health();
  }

  watchHealth(onChange: (health: StoreHealth) => void): () => void {
    return this.db.watchHealth(onChange);
  }

  async current(): Promise<Manifest | null> {
    const { rows } = await this.db.query<{ name: string; manifest: IndexManifest }>(
      "SELECT g.name, g.manifest FROM index_active a JOIN index_generations g ON g.id = a.generation_id",
    );
    return rows[0] ? { ...rows[0].manifest, generation: rows[0].name } : null;
  }

  async open(opts: OpenOptions): Promise<IndexSnapshot> {
    const { rows } = await this.db.backgroundQuery<GenerationRow>(
      `SELECT g.id::text AS id, g.name, g.manifest, g.dimensions, g.embedder_model, g.chunk_count, g.avg_length, g.bm25_k1, g.bm25_b
         FROM index_active a JOIN index_generations g ON g.id = a.generation_id`,
    );
    const g = rows[0];
    if (!g) throw new AppError("INDEX_MISSING", `no index generation in ${this.location} (run: npm run ingest)`);
    const manifest: Manifest = { ...g.manifest, generation: g.name };
    const invalid = (msg: string) => new AppError("INDEX_INVALID", `index generation ${g.name} in ${this.location}: ${msg}`);
    if (manifest.schemaVersion !== INDEX_SCHEMA_VERSION)
      throw invalid(`schema version ${manifest.schemaVersion}, this build reads ${INDEX_SCHEMA_VERSION}; rebuild it with npm run ingest`);
    if (manifest.embedder?.id !== opts.embedder.id || manifest.embedder?.dimensions !== opts.embedder.dimensions)
      throw invalid(
        `built with embedder ${manifest.embedder?.id} (${manifest.embedder?.dimensions}-d) but ${opts.embedder.id} (${opts.embedder.dimensions}-d) is configured; set EMBEDDER to match or rebuild with npm run ingest`,
      );
    let chunkRows: ChunkRow[];
    let termRows: Array<{ term: string; df: number; doc_ords: number[] }>;
    try {
      [chunkRows, termRows] = await Promise.all([
        this.db
          .backgroundQuery<ChunkRow>(`SELECT id, doc_id, title, page, page_end, section, position, text, hash FROM ${table("index_chunks", g.id)} ORDER BY ord`)
          .then((r) => r.rows),
        this.db.backgroundQuery<{ term: string; df: number; doc_ords: number[] }>(`SELECT term, df, doc_ords FROM ${table("index_terms", g.id)}`).then((r) => r.rows),
      ]);
    } catch (err) {
      // 42P01: the partitions were dropped between reading index_active and now (two switches in between).
      if ((err as { code?: string }).code === "42P01") throw invalid("its data was garbage-collected while loading; the next reload takes the newer one");
      throw err;
    }
    if (chunkRows.length !== g.chunk_count) throw invalid(`holds ${chunkRows.length} chunks, its manifest says ${g.chunk_count}`);
    const list: Chunk[] = chunkRows.map((r) => ({
      id: r.id,
      docId: r.doc_id,
      title: r.title,
      page: r.page,
      pageEnd: r.page_end,
      section: r.section,
      position: r.position,
      text: r.text,
      hash: r.hash,
    }));
    const chunks = new ArrayChunkStore(list);
    const docOrd = new Map(manifest.documents.map((d, i) => [d.id, i]));
    const lexical = new PgLexicalStore(this.db, g, termRows, docOrd);
    const vectors = new PgVectorStore(this.db, g.id, g.dimensions, opts.ef);
    const embedderModel = g.embedder_model ? new Uint8Array(g.embedder_model) : undefined;
    return { manifest, chunks, vectors, lexical, ...(embedderModel ? { embedderModel } : {}) };
  }

  async write(data: GenerationData, manifest: GenerationManifest): Promise<Manifest> {
    const dims = manifest.embedder.dimensions;
    data.vectors.forEach((v, i) => {
      if (v.length !== dims) throw new Error(`vector ${i} has ${v.length} dimensions, expected ${dims}`);
    });
    if (data.indexedTexts.length !== data.chunks.length) throw new Error("one indexed text per chunk is needed");
    // The same postings and lengths the file store writes to lexical.json, from the same analyzer.
    const lex = buildLexical(data.indexedTexts);
    const n = lex.lengths.length;
    const avgLength = n ? lex.lengths.reduce((a, b) => a + b, 0) / n : 1;
    const createdAt = new Date().toISOString();
    const base = {
      schemaVersion: INDEX_SCHEMA_VERSION,
      createdAt,
      ...manifest,
      hnsw: { space: "cosine" as const, m: HNSW_M, efConstruction: HNSW_EF_CONSTRUCTION },
      files: {},
    };
    const model = data.embedderModel ? Buffer.from(data.embedderModel.buffer, data.embedderModel.byteOffset, data.embedderModel.byteLength) : null;

    // 1. The generation's row and partitions.
    const { id, name } = await this.db.backgroundTx(async (c) => {
      const r = await c.query<{ id: string }>(
        `INSERT INTO index_generations (name, status, manifest, dimensions, embedder_model, chunk_count, avg_length, bm25_k1, bm25_b, writer)
         VALUES ('pending-' || gen_random_uuid(), 'building', $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text AS id`,
        [base, dims, model, n, avgLength, lex.k1, lex.b, this.db.owner],
      );
      const id = r.rows[0]!.id;
      const name = `pg-${id}-${createdAt.replace(/[:.]/g, "-")}`;
      await c.query("UPDATE index_generations SET name = $2, manifest = $3 WHERE id = $1", [id, name, base]);
      for (const t of ["index_documents", "index_chunks", "index_terms"] as const)
        await c.query(`CREATE TABLE ${table(t, id)} PARTITION OF ${t} FOR VALUES IN (${id})`);
      return { id, name };
    });

    try {
      await this.fill(id, data, manifest, lex);
      // 3. The switch, in one transaction: readers move from the old generation to this one.
      const full: Manifest = { ...base, generation: name };
      await this.db.backgroundTx(async (c) => {
        await c.query("SELECT generation_id FROM index_active FOR UPDATE");
        const up = await c.query("UPDATE index_generations SET status = 'active', activated_at = now(), heartbeat_at = now() WHERE id = $1 AND status = 'building'", [id]);
        if (up.rowCount !== 1) throw new Error(`generation ${name} was garbage-collected while it was being written (its writer stalled for ${STALE_BUILD_MS / 60000} minutes)`);
        await c.query("UPDATE index_generations SET status = 'retired', retired_at = now() WHERE status = 'active' AND id <> $1", [id]);
        await c.query(
          `INSERT INTO index_active (singleton, generation_id) VALUES (true, $1)
           ON CONFLICT (singleton) DO UPDATE SET generation_id = EXCLUDED.generation_id, switched_at = now()`,
          [id],
        );
        await c.query("SELECT pg_notify($1, $2)", [CHANNEL, name]);
      });
      await this.collectGarbage().catch(() => {});
      return full;
    } catch (err) {
      // The previous generation stays active; this one's partitions go now (or at the next write's
      // garbage collection when the database is not reachable now).
      await this.drop(id, "failed").catch(() => {});
      throw err;
    }
  }

  /** 2. Documents and chunks one transaction per batch of documents, then postings, then the HNSW index. */
  private async fill(id: string, data: GenerationData, manifest: GenerationManifest, lex: ReturnType<typeof buildLexical>): Promise<void> {
    const docOrd = new Map(manifest.documents.map((d, i) => [d.id, i]));
    const chunksT = table("index_chunks", id);
    const beat = (c: pg.PoolClient) => c.query("UPDATE index_generations SET heartbeat_at = now() WHERE id = $1", [id]);
    // Batches of whole documents (at least one) of about CHUNK_BATCH chunks: chunks come grouped by document.
    const batches: Array<{ start: number; end: number; docs: Set<string> }> = [];
    for (let start = 0; start < data.chunks.length; ) {
      let end = start;
      const docs = new Set<string>();
      while (end < data.chunks.length && (end - start < CHUNK_BATCH || docs.has(data.chunks[end]!.docId))) docs.add(data.chunks[end++]!.docId);
      batches.push({ start, end, docs });
      start = end;
    }
    const placed = new Set(batches.flatMap((b) => [...b.docs]));
    const unplaced = manifest.documents.filter((d) => !placed.has(d.id)).map((d) => d.id);
    if (unplaced.length && !batches.length) batches.push({ start: 0, end: 0, docs: new Set() });
    for (const d of unplaced) batches[0]!.docs.add(d);
    for (const { start, end, docs } of batches) {
      const batch = data.chunks.slice(start, end);
      const ords = batch.map((_, i) => start + i);
      const ds = manifest.documents.filter((d) => docs.has(d.id));
      await this.db.backgroundTx(async (c) => {
        await c.query("SET LOCAL statement_timeout = 0");
        await c.query(
          `INSERT INTO ${table("index_documents", id)} (generation_id, ord, doc_id, document)
           SELECT $1, o, d, j FROM unnest($2::int[], $3::text[], $4::jsonb[]) AS u(o, d, j)`,
          [id, ds.map((d) => docOrd.get(d.id)!), ds.map((d) => d.id), ds.map((d) => JSON.stringify(d))],
        );
        await c.query(
          `INSERT INTO ${chunksT} (generation_id, ord, id, doc_id, title, page, page_end, section, position, text, hash, term_count, embedding)
           SELECT $1, o, i, d, t, p, pe, s, pos, tx, h, tc, e::vector
             FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::int[], $10::text[], $11::text[], $12::int[], $13::text[])
               AS u(o, i, d, t, p, pe, s, pos, tx, h, tc, e)`,
          [
            id,
            ords,
            batch.map((c) => c.id),
            batch.map((c) => c.docId),
            batch.map((c) => c.title),
            batch.map((c) => c.page),
            batch.map((c) => c.pageEnd),
            batch.map((c) => c.section),
            batch.map((c) => c.position),
            batch.map((c) => c.text),
            batch.map((c) => c.hash),
            ords.map((o) => lex.lengths[o]!),
            ords.map((o) => vectorLiteral(data.vectors[o]!)),
          ],
        );
        await beat(c);
      });
    }

    // Postings, in batches of about POSTING_BATCH entries.
    const terms = Object.keys(lex.postings);
    for (let i = 0; i < terms.length; ) {
      const rows: { term: string; df: number; ords: number[]; tfs: number[]; lens: number[]; docs: number[] }[] = [];
      let size = 0;
      while (i < terms.length && (size < POSTING_BATCH || rows.length === 0)) {
        const term = terms[i++]!;
        const list = lex.postings[term]!;
        const ords: number[] = [];
        const tfs: number[] = [];
        const lens: number[] = [];
        const docs = new Set<number>();
        for (let j = 0; j < list.length; j += 2) {
          ords.push(list[j]!);
          tfs.push(list[j + 1]!);
          lens.push(lex.lengths[list[j]!]!);
          docs.add(docOrd.get(data.chunks[list[j]!]!.docId) ?? -1);
        }
        rows.push({ term, df: ords.length, ords, tfs, lens, docs: [...docs].sort((a, b) => a - b) });
        size += ords.length;
      }
      const arr = (xs: number[]) => `{${xs.join(",")}}`;
      await this.db.backgroundTx(async (c) => {
        await c.query("SET LOCAL statement_timeout = 0");
        await c.query(
          `INSERT INTO ${table("index_terms", id)} (generation_id, term, df, chunk_ords, tfs, lengths, doc_ords)
           SELECT $1, t, df, o::int[], f::int[], l::int[], d::int[] FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(t, df, o, f, l, d)`,
          [id, rows.map((r) => r.term), rows.map((r) => r.df), rows.map((r) => arr(r.ords)), rows.map((r) => arr(r.tfs)), rows.map((r) => arr(r.lens)), rows.map((r) => arr(r.docs))],
        );
        await beat(c);
      });
    }

    // The HNSW index, built once the rows are in (faster than growing it row by row), and statistics.
    const dims = manifest.embedder.dimensions;
    await this.db.backgroundTx(async (c) => {
      await c.query("SET LOCAL statement_timeout = 0");
      await c.query("SET LOCAL maintenance_work_mem = '256MB'");
      await c.query(
        `CREATE INDEX ${chunksT}_hnsw ON ${chunksT} USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) WITH (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION})`,
      );
      await c.query(`CREATE INDEX ${chunksT}_doc ON ${chunksT} (doc_id)`);
      await beat(c);
    });
    for (const t of ["index_documents", "index_chunks", "index_terms"] as const) await this.db.backgroundQuery(`ANALYZE ${table(t, id)}`);
  }

  /** Drops a generation's partitions and marks it (failed, or its data dropped). */
  private async drop(id: string, status?: "failed"): Promise<void> {
    await this.db.backgroundTx(async (c) => {
      for (const t of ["index_chunks", "index_terms", "index_documents"] as const) await c.query(`DROP TABLE IF EXISTS ${table(t, id)}`);
      await c.query(`UPDATE index_generations SET dropped_at = now()${status ? ", status = 'failed'" : ""} WHERE id = $1`, [id]);
    });
  }

  /**
   * Keeps the active generation and the one before it (a replica may still be serving or loading it);
   * drops retired ones older than that, failed ones, and builds abandoned by a writer that died.
   */
  async collectGarbage(): Promise<string[]> {
    const { rows } = await this.db.backgroundQuery<{ id: string; name: string; status: string }>(
      `SELECT id::text AS id, name, status FROM index_generations
        WHERE dropped_at IS NULL AND (
              status = 'failed'
           OR (status = 'building' AND heartbeat_at < now() - make_interval(secs => $1::float8 / 1000))
           OR (status = 'retired' AND id NOT IN (SELECT id FROM index_generations WHERE status = 'retired' ORDER BY retired_at DESC, id DESC LIMIT 1)))`,
      [STALE_BUILD_MS],
    );
    for (const r of rows) await this.drop(r.id, r.status === "building" ? "failed" : undefined);
    return rows.map((r) => r.name);
  }

  /**
   * LISTEN for switches on a connection of its own (reconnected after a failure) and poll the active
   * generation every PG_POLL_MS as the fallback (a notification can be missed while reconnecting, and
   * a pooler in transaction mode does not carry them). The poll also tells the database's health.
   */
  watch(onChange: () => void): () => void {
    const { pollMs, databaseUrl } = this.db.settings;
    let last: string | null | undefined;
    let stopped = false;
    let listener: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const check = async () => {
      try {
        const name = (await this.current())?.generation ?? null;
        if (name !== last) {
          const first = last === undefined;
          last = name;
          if (!first || name !== null) onChange();
        }
      } catch {
        // health() now says why; the next tick tries again
        last = last === undefined ? undefined : "(unknown)";
      }
    };
    const listen = async () => {
      if (stopped) return;
      const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: this.db.settings.poolWaitMs, keepAlive: true });
      client.on("notification", () => void check());
      client.on("error", () => {
        client.end().catch(() => {});
        if (listener === client) listener = undefined;
        if (!stopped) retry = setTimeout(listen, pollMs).unref();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
        if (stopped) await client.end();
        else listener = client;
      } catch {
        client.end().catch(() => {});
        if (!stopped) retry = setTimeout(listen, pollMs).unref();
      }
    };
    void check();
    void listen();
    const timer = setInterval(() => void check(), pollMs).unref();
    return () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      listener?.end().catch(() => {});
      listener = undefined;
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release(this.db);
  }
}

interface GenerationRow {
  id: string;
  name: string;
  manifest: IndexManifest;
  dimensions: number;
  embedder_model: Buffer | null;
  chunk_count: number;
  avg_length: number;
  bm25_k1: number;
  bm25_b: number;
}

interface ChunkRow {
  id: string;
  doc_id: string;
  title: string;
  page: number | null;
  page_end: number | null;
  section: string | null;
  position: number;
  text: string;
  hash: string;
}

/**
 * BM25 in SQL over the generation's postings: the same formula, parameters and statistics as the file
 * store's LexicalIndex (idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf saturation k1, length
 * normalisation b against the average length), ties broken by chunk ordinal, so both rank alike.
 * The vocabulary statistics query analysis needs (idf, has, documentUses) are held in memory.
 */
export class PgLexicalStore implements LexicalStore {
  private readonly df = new Map<string, number>();
  private readonly docs = new Map<string, number[]>();
  private readonly terms: string;
  private readonly chunksT: string;

  constructor(
    private readonly db: Database,
    private readonly g: Pick<GenerationRow, "id" | "chunk_count" | "avg_length" | "bm25_k1" | "bm25_b">,
    rows: Array<{ term: string; df: number; doc_ords: number[] }>,
    private readonly docOrd: Map<string, number>,
  ) {
    for (const r of rows) {
      this.df.set(r.term, r.df);
      this.docs.set(r.term, r.doc_ords);
    }
    this.terms = table("index_terms", g.id);
    this.chunksT = table("index_chunks", g.id);
  }

  async search(queryTerms: readonly string[], k: number, filter?: DocumentFilter): Promise<ScoredId[]> {
    const wanted = [...new Set(queryTerms)].filter((t) => this.df.has(t));
    if (!wanted.length || k <= 0) return [];
    const { chunk_count: n, avg_length: avg, bm25_k1: k1, bm25_b: b } = this.g;
    const docs = filter?.docs ? [...filter.docs] : null;
    const { rows } = await this.db.query<{ id: string; score: number }>(
      `WITH scored AS (
         SELECT u.ord, sum(ln(1 + ($3::float8 - t.df + 0.5) / (t.df + 0.5)) * u.tf * ($4::float8 + 1)
                            / (u.tf + $4::float8 * (1 - $5::float8 + $5::float8 * u.len / $6::float8))) AS score
           FROM ${this.terms} t CROSS JOIN LATERAL unnest(t.chunk_ords, t.tfs, t.lengths) AS u(ord, tf, len)
          WHERE t.term = ANY($1::text[])
            ${docs ? `AND u.ord IN (SELECT ord FROM ${this.chunksT} WHERE doc_id = ANY($7::text[]))` : ""}
          GROUP BY u.ord
          ORDER BY score DESC, u.ord
          LIMIT $2)
       SELECT c.id, s.score FROM scored s JOIN ${this.chunksT} c ON c.ord = s.ord ORDER BY s.score DESC, s.ord`,
      [wanted, k, n, k1, b, avg, ...(docs ? [docs] : [])],
    );
    return rows.map((r) => ({ id: r.id, score: r.score }));
  }

  idf(term: string): number {
    const df = this.df.get(term) ?? 0;
    return Math.log(1 + (this.g.chunk_count - df + 0.5) / (df + 0.5));
  }

  has(term: string): boolean {
    return this.df.has(term);
  }

  documentUses(docId: string, term: string): boolean {
    const d = this.docOrd.get(docId);
    return d !== undefined && (this.docs.get(term)?.includes(d) ?? false);
  }
}

/**
 * k-NN in pgvector: cosine distance over the partition's HNSW index, hnsw.ef_search set for the query
 * (at least k, and HNSW_EF) and iterative scans on when a document filter would otherwise starve it.
 */
export class PgVectorStore implements VectorStore {
  private readonly chunksT: string;

  constructor(
    private readonly db: Database,
    private readonly generationId: string,
    readonly dimensions: number,
    private readonly ef: number,
  ) {
    this.chunksT = table("index_chunks", generationId);
  }

  async search(vector: readonly number[], k: number, filter?: DocumentFilter): Promise<ScoredId[]> {
    if (k <= 0) return [];
    if (vector.length !== this.dimensions) throw new Error(`query vector has ${vector.length} dimensions, expected ${this.dimensions}`);
    const d = this.dimensions;
    const ef = Math.min(MAX_EF_SEARCH, Math.max(this.ef, k));
    const docs = filter?.docs ? [...filter.docs] : null;
    return this.db.tx(async (c) => {
      await c.query(`SET LOCAL hnsw.ef_search = ${ef}`);
      if (docs) await c.query("SET LOCAL hnsw.iterative_scan = strict_order");
      const { rows } = await c.query<{ id: string; score: number }>(
        `SELECT id, 1 - (embedding::vector(${d}) <=> $1::vector(${d})) AS score FROM ${this.chunksT}
          WHERE embedding IS NOT NULL ${docs ? "AND doc_id = ANY($3::text[])" : ""}
          ORDER BY embedding::vector(${d}) <=> $1::vector(${d}) LIMIT $2`,
        [vectorLiteral(vector), k, ...(docs ? [docs] : [])],
      );
      return rows.map((r) => ({ id: r.id, score: r.score }));
    });
  }

  /** Sets the vectors of these chunks (a chunk the generation lacks gets a row of its own, without text). */
  async add(items: ReadonlyArray<{ id: string; docId: string; vector: readonly number[] }>): Promise<void> {
    if (!items.length) return;
    for (const i of items) if (i.vector.length !== this.dimensions) throw new Error(`vector for ${i.id} has ${i.vector.length} dimensions, expected ${this.dimensions}`);
    await this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO ${this.chunksT} (generation_id, ord, id, doc_id, title, position, text, hash, term_count, embedding)
         SELECT $4::bigint, (SELECT coalesce(max(ord), -1) FROM ${this.chunksT}) + row_number() OVER (), u.id, u.doc, '', 0, '', '', 0, u.e::vector
           FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, doc, e)
         ON CONFLICT (generation_id, id) DO UPDATE SET embedding = EXCLUDED.embedding`,
        [items.map((i) => i.id), items.map((i) => i.docId), items.map((i) => vectorLiteral(i.vector)), this.generationId],
      );
    });
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.db.query(`UPDATE ${this.chunksT} SET embedding = NULL WHERE id = ANY($1::text[])`, [[...ids]]);
  }

  async get(ids: readonly string[]): Promise<Array<number[] | undefined>> {
    if (!ids.length) return [];
    const { rows } = await this.db.query<{ id: string; e: string | null }>(`SELECT id, embedding::text AS e FROM ${this.chunksT} WHERE id = ANY($1::text[])`, [[...ids]]);
    const byId = new Map(rows.map((r) => [r.id, r.e === null ? undefined : (pgvector.fromSql(r.e) as number[])]));
    return ids.map((id) => byId.get(id));
  }
}

export { isUnavailable };
