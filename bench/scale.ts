/**
 * npm run bench -- --scale 10k,100k[,1m] [--stores file,postgres]: how cost grows with the corpus.
 *
 * For each size, a synthetic corpus of that many chunks: real sentences of the indexed corpus (the
 * file index in INDEX_DIR, built by `npm run ingest`) recombined 3 to 6 at a time with a seeded PRNG,
 * so the lexical statistics stay realistic, in 40 documents. Vectors: the default embedder (LSA) fitted
 * on the synthetic texts up to LSA_LIMIT chunks; past that LSA is fitted on the first LSA_LIMIT texts
 * (queries are embedded with that model) and the chunks get random unit vectors, which the output says.
 * Per store (file: a temp INDEX_DIR; postgres: DATABASE_URL, a new generation there):
 *   - ingest chunks/s of the store's write (the generation's rows, postings and HNSW index);
 *   - index size on disk (files: the generation's folder; Postgres: pg_total_relation_size of its partitions);
 *   - resident memory (VmRSS) of `npm run serve` on it, idle after warm-up and after the load;
 *   - POST /v1/search p50/p99 at c=1 and accepted req/s at c=16 (autocannon, BENCH_DURATION s each);
 *   - recall@10 of the store's HNSW k-NN against exact search over the same vectors, with ef raised
 *     from HNSW_EF until recall ≥ 0.98 (the ef used is reported; the server runs with it).
 * Writes reports/bench-scale-<timestamp>.json.
 */
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, PROJECT_ROOT, type Config } from "../src/config/index.js";
import { createEmbedder } from "../src/embed/index.js";
import type { Embedder } from "../src/embed/types.js";
import { seededRandom } from "../src/eval/cv.js";
import { textTable, timestamp } from "../src/eval/report/index.js";
import { createIndexStore, type Chunk, type IndexedDocument, type IndexStore } from "../src/store/index.js";
import { PostgresIndexStore } from "../src/store/postgres/store.js";
import { freePort, killGroup, loadEndpoint, mb, procMemory, waitReady } from "./lib.js";

const LSA_LIMIT = 20_000;
const DOCS = 40;
const RECALL_QUERIES = 100;
const K = 10;

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`--scale: "${s}" is not a size like 10k, 100k or 1m`);
  return Math.round(Number(m[1]) * (m[2]!.toLowerCase() === "k" ? 1e3 : m[2]!.toLowerCase() === "m" ? 1e6 : 1));
}

function unitRandom(dims: number, rnd: () => number): number[] {
  // Box-Muller normals, normalised: uniform on the sphere.
  const v = Array.from({ length: dims }, () => Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd()));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

interface Synthetic {
  chunks: Chunk[];
  texts: string[];
  documents: IndexedDocument[];
}

function synthesise(size: number, sentences: string[], template: IndexedDocument): Synthetic {
  const rnd = seededRandom(size); // seeded by the size: a size always gives the same corpus
  const chunks: Chunk[] = [];
  const texts: string[] = [];
  const perDoc = Math.ceil(size / DOCS);
  for (let i = 0; i < size; i++) {
    const n = 3 + Math.floor(rnd() * 4);
    const text = Array.from({ length: n }, () => sentences[Math.floor(rnd() * sentences.length)]!).join(" ");
    const docId = `syn-${String(Math.floor(i / perDoc)).padStart(2, "0")}`;
    const position = i % perDoc;
    chunks.push({ id: `${docId}:${position}`, docId, title: `Synthetic ${docId}`, page: null, pageEnd: null, section: null, position, text, hash: createHash("sha256").update(text).digest("hex") });
    texts.push(text);
  }
  const counts = new Map<string, number>();
  for (const c of chunks) counts.set(c.docId, (counts.get(c.docId) ?? 0) + 1);
  const documents = [...counts].map(([id, n]) => ({ ...template, id, title: `Synthetic ${id}`, aliases: [], file: `${id}.md`, sha256: id, pages: null, chunks: n }));
  return { chunks, texts, documents };
}

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? await du(p) : (await stat(p)).size;
  }
  return total;
}

async function pgSize(store: PostgresIndexStore, generation: string): Promise<number> {
  const id = /^pg-(\d+)-/.exec(generation)![1];
  const { rows } = await store.database.query<{ bytes: string }>(
    `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c WHERE c.relname IN ($1, $2, $3)`,
    [`index_chunks_g${id}`, `index_terms_g${id}`, `index_documents_g${id}`],
  );
  return Number(rows[0]!.bytes);
}

function exactTop(vectors: number[][], q: number[], k: number): string[] {
  const scored = vectors.map((v, i) => {
    let s = 0;
    for (let j = 0; j < v.length; j++) s += v[j]! * q[j]!;
    return [s, i] as const;
  });
  scored.sort((a, b) => b[0] - a[0]);
  return scored.slice(0, k).map(([, i]) => String(i));
}

interface Row {
  size: number;
  store: string;
  vectors: string;
  ingestChunksPerSecond: number;
  sizeBytes: number;
  rssIdleKb: number | null;
  rssAfterKb: number | null;
  searchP50: number | null;
  searchP99: number | null;
  searchRps16: number;
  failed: number;
  ef: number;
  recall: number;
}

export async function runScale(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sizes = (arg("--scale") ?? "10k").split(",").map(parseSize);
  const stores = (arg("--stores") ?? (env.DATABASE_URL ? "file,postgres" : "file")).split(",");
  const duration = Number(env.BENCH_DURATION ?? 5);
  const base = loadConfig(env);
  const source = createIndexStore({ indexDir: base.indexDir });
  const embedder0 = createEmbedder(base);
  const real = await source.open({ embedder: embedder0, ef: base.retrieval.ef }).catch((err: Error) => {
    throw new Error(`bench --scale needs the corpus index (npm run ingest) for its sentences: ${err.message}`);
  });
  const sentences = [...new Set(real.chunks.all().flatMap((c) => c.text.split(/(?<=[.!?])\s+/)).filter((s) => s.length >= 30 && s.length <= 300))];
  const template = real.manifest.documents[0]!;
  console.error(`bench --scale: ${sentences.length} distinct sentences from ${real.chunks.size} chunks; sizes ${sizes.join(", ")}; stores ${stores.join(", ")}`);
  const rows: Row[] = [];
  const questions = real.manifest.documents.map((d) => d.title).concat(sentences.slice(0, 50).map((s) => s.split(" ").slice(0, 8).join(" ")));

  for (const size of sizes) {
    const syn = synthesise(size, sentences, template);
    const embedder: Embedder = createEmbedder(base);
    let vectors: number[][];
    let model: Uint8Array | undefined;
    let vectorKind: string;
    const t0 = performance.now();
    if (!embedder.fit) throw new Error("bench --scale expects the default, corpus-fitted embedder (EMBEDDER=lsa)");
    if (size <= LSA_LIMIT) {
      const fit = await embedder.fit(syn.texts);
      vectors = fit.vectors;
      model = fit.model;
      vectorKind = `LSA (${embedder.id}), fitted on all ${size} in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    } else {
      const fit = await embedder.fit(syn.texts.slice(0, LSA_LIMIT));
      model = fit.model;
      const rnd = seededRandom(size + 1);
      vectors = syn.chunks.map(() => unitRandom(embedder.dimensions, rnd));
      vectorKind = `random unit vectors (${embedder.dimensions}-d; LSA fitted on ${LSA_LIMIT} for queries)`;
    }
    const queryEmbedder = embedder.withModel!(model);
    const queryTexts = Array.from({ length: RECALL_QUERIES }, (_, i) => syn.texts[(i * 7919) % size]!.split(" ").slice(0, 12).join(" "));
    const queryVectors = await Promise.all(queryTexts.map((q) => queryEmbedder.embedQuery(q)));
    const exact = queryVectors.map((q) => exactTop(vectors, q, K));
    console.error(`  ${size} chunks: ${vectorKind}`);

    for (const kind of stores) {
      const work = await mkdtemp(path.join(os.tmpdir(), `llmops-scale-${kind}-`));
      const storeEnv: NodeJS.ProcessEnv = kind === "postgres" ? { ...env, INDEX_STORE: "postgres" } : { ...env, INDEX_STORE: "file", INDEX_DIR: work, DATABASE_URL: "" };
      const config: Config = loadConfig(storeEnv);
      const store: IndexStore = createIndexStore(config);
      let child: ReturnType<typeof spawn> | undefined;
      try {
        await store.init?.();
        const w0 = performance.now();
        const written = await store.write(
          { chunks: syn.chunks, vectors, indexedTexts: syn.texts, ...(model ? { embedderModel: model } : {}) },
          {
            embedder: { id: embedder.id, dimensions: embedder.dimensions },
            chunking: real.manifest.chunking,
            documents: syn.documents,
            totals: { documents: syn.documents.length, pages: 0, chunks: size },
          },
        );
        const ingestChunksPerSecond = size / ((performance.now() - w0) / 1000);
        const sizeBytes = kind === "postgres" ? await pgSize(store as PostgresIndexStore, written.generation) : await du(path.join(work, written.generation));

        // Recall of the store's k-NN against exact search; ef raised until it reaches 0.98.
        const ids = new Map(syn.chunks.map((c, i) => [c.id, String(i)]));
        let ef = base.retrieval.ef;
        let recall = 0;
        for (;;) {
          const snap = await store.open({ embedder: queryEmbedder, ef });
          let hit = 0;
          for (let q = 0; q < queryVectors.length; q++) {
            const got = new Set((await snap.vectors.search(queryVectors[q]!, K)).map((h) => ids.get(h.id)));
            hit += exact[q]!.filter((i) => got.has(i)).length;
          }
          recall = hit / (queryVectors.length * K);
          if (recall >= 0.98 || ef >= 1000) break;
          ef = Math.min(1000, ef * 2);
        }

        // The server on it, as `npm run serve` runs it.
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        child = spawn(process.execPath, ["--import", "tsx", "src/cli/serve.ts"], {
          cwd: PROJECT_ROOT,
          env: { ...storeEnv, PORT: String(port), HOST: "127.0.0.1", HNSW_EF: String(ef), LOG_LEVEL: "warn", RATE_LIMIT_PER_MINUTE: "0", MAX_IN_FLIGHT: "0", MAX_EVENT_LOOP_DELAY_MS: "0" },
          stdio: ["ignore", "ignore", "inherit"],
          detached: true,
        });
        const alive = () => child!.exitCode === null;
        await waitReady(url, 15 * 60_000, alive);
        const bodies = questions.map((q) => ({ query: q, k: 5 }));
        await loadEndpoint({ url, path: "/v1/search", bodies, connections: 1, duration: 2 });
        const idle = await procMemory(child.pid!);
        const c1 = await loadEndpoint({ url, path: "/v1/search", bodies, connections: 1, duration });
        const c16 = await loadEndpoint({ url, path: "/v1/search", bodies, connections: 16, duration });
        const after = await procMemory(child.pid!);
        const row: Row = {
          size,
          store: kind,
          vectors: vectorKind,
          ingestChunksPerSecond,
          sizeBytes,
          rssIdleKb: idle.vmRssKb,
          rssAfterKb: after.vmRssKb,
          searchP50: c1.p50,
          searchP99: c1.p99,
          searchRps16: c16.acceptedRps,
          failed: c1.otherCount + c1.errors + c16.otherCount + c16.errors,
          ef,
          recall,
        };
        rows.push(row);
        console.error(
          `  ${kind}: ${ingestChunksPerSecond.toFixed(0)} chunks/s, ${(sizeBytes / 1048576).toFixed(1)} MB, RSS ${mb(row.rssIdleKb)} / ${mb(row.rssAfterKb)}, search p50 ${c1.p50} ms p99 ${c1.p99} ms, ${c16.acceptedRps.toFixed(1)} req/s at 16, recall@10 ${recall.toFixed(3)} at ef ${ef}`,
        );
      } finally {
        if (child && child.exitCode === null) killGroup(child);
        await store.close?.();
        await rm(work, { recursive: true, force: true });
      }
    }
    await embedder.close();
  }
  await embedder0.close();

  const table = textTable(
    ["chunks", "store", "ingest chunks/s", "size on disk", "RSS idle / after", "search p50 / p99 (c=1)", "req/s (c=16)", "failed", "recall@10 (ef)"],
    rows.map((r) => [
      String(r.size),
      r.store,
      r.ingestChunksPerSecond.toFixed(0),
      `${(r.sizeBytes / 1048576).toFixed(1)} MB`,
      `${mb(r.rssIdleKb)} / ${mb(r.rssAfterKb)}`,
      `${r.searchP50} / ${r.searchP99} ms`,
      r.searchRps16.toFixed(1),
      String(r.failed),
      `${r.recall.toFixed(3)} (${r.ef})`,
    ]),
  );
  console.log(table);
  for (const s of sizes) console.log(`vectors at ${s}: ${rows.find((r) => r.size === s)?.vectors ?? "-"}`);
  await mkdir(path.join(PROJECT_ROOT, "reports"), { recursive: true });
  const file = path.join(PROJECT_ROOT, "reports", `bench-scale-${timestamp()}.json`);
  await writeFile(file, JSON.stringify({ createdAt: new Date().toISOString(), machine: { cpus: os.cpus().length, load: os.loadavg() }, rows }, null, 2));
  console.log(`written: ${path.relative(PROJECT_ROOT, file)}`);
}
