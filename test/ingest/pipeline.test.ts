/** The ingestion job end to end on PDFs and markdown the test generates: bad input, incremental reruns, atomic writes. */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Embedder } from "../../src/embed/types.js";
import { UseEmbedder } from "../../src/embed/use.js";
import { CHUNKER_VERSION } from "../../src/ingest/chunk.js";
import { ingest, type IngestEvent, type IngestOptions } from "../../src/ingest/pipeline.js";
import { createIndexStore, type OpenOptions } from "../../src/store/index.js";
import { resolveEntries } from "../../src/corpus/catalog.js";
import { loadCorpusManifest } from "../../src/corpus/manifest.js";
import { makePdf, SAMPLE_DOCS, sha256, tempDir, writeCorpus } from "../helpers/fixtures.js";

/** The test's view of an index folder through the store port. */
const loadIndex = async (indexDir: string, opts: OpenOptions) => {
  const index = await createIndexStore({ indexDir }).open(opts);
  return { ...index, chunks: index.chunks.all() };
};
const readManifest = (indexDir: string) => createIndexStore({ indexDir }).current();

/** Wraps an embedder and counts the texts it embeds. */
function counting(inner: Embedder): Embedder & { count: number } {
  const c = {
    id: inner.id,
    dimensions: inner.dimensions,
    count: 0,
    embedDocuments: async (texts: string[], p?: (n: number) => void) => {
      c.count += texts.length;
      return inner.embedDocuments(texts, p);
    },
    embedQuery: (t: string) => inner.embedQuery(t),
    close: () => inner.close(),
  };
  return c;
}

const chunking = { size: 400, overlap: 80, prefix: true };
let embedder: Embedder & { count: number };

beforeAll(() => {
  embedder = counting(new UseEmbedder(2));
});

async function setup(extra: Array<{ file: string; data: Buffer }> = []) {
  const corpus = await writeCorpus(SAMPLE_DOCS);
  const entries = await resolveEntries(await loadCorpusManifest(corpus.manifest), corpus.corpusDir);
  for (const e of extra) {
    await writeFile(path.join(corpus.corpusDir, e.file), e.data);
    entries.push({ ...entries[0]!, id: e.file.replace(/\W+/g, "-").toLowerCase(), file: e.file, sha256: sha256(e.data) });
  }
  const indexDir = await tempDir("index");
  const events: IngestEvent[] = [];
  const opts: IngestOptions = { corpusDir: corpus.corpusDir, store: createIndexStore({ indexDir }), entries, embedder, chunking, onEvent: (e) => events.push(e) };
  return { ...corpus, indexDir, entries, events, opts };
}

describe("ingest", () => {
  it("indexes PDFs and markdown with pages, skips broken files by name and reason", async () => {
    const good = await makePdf(["A page about nothing much."]);
    const s = await setup([
      { file: "empty.pdf", data: Buffer.alloc(0) },
      { file: "truncated.pdf", data: good.subarray(0, Math.floor(good.length / 2)) },
      { file: "not-a-pdf.pdf", data: Buffer.from("hello, I am plain text pretending to be a PDF") },
    ]);
    const r = await ingest(s.opts);
    expect(r.documents).toBe(3);
    expect(r.skipped.map((x) => x.file).sort()).toEqual(["empty.pdf", "not-a-pdf.pdf", "truncated.pdf"]);
    for (const x of r.skipped) expect(x.reason.length).toBeGreaterThan(5);
    expect(s.events.filter((e) => e.type === "skipped")).toHaveLength(3);

    const manifest = (await readManifest(s.indexDir))!;
    const byId = Object.fromEntries(manifest.documents.map((d) => [d.id, d]));
    expect(byId.transformer!.pages).toBe(3);
    expect(byId.rlhf!.pages).toBe(2);
    expect(byId.ops!.pages).toBeNull();
    expect(manifest.embedder).toEqual({ id: "use-lite-512", dimensions: 512 });
    expect(manifest.chunking).toEqual({ ...chunking, version: CHUNKER_VERSION });
    expect(manifest.totals.chunks).toBe(r.chunks);
    expect(byId.transformer!.sha256).toBe(s.entries.find((e) => e.id === "transformer")!.sha256);

    const index = await loadIndex(s.indexDir, { embedder, ef: 50 });
    const adam = index.chunks.find((c) => c.text.includes("Adam optimizer"))!;
    expect(adam.docId).toBe("transformer");
    // The Adam sentence is on page 2; a chunk carries the page it starts on and the page it ends on.
    expect(adam.page!).toBeLessThanOrEqual(2);
    expect(adam.pageEnd!).toBeGreaterThanOrEqual(2);
    expect(index.chunks.every((c) => c.docId !== "ops" || c.page === null)).toBe(true);
    // The running header the fixture prints on each of the 3 pages is cleaned away (2 pages are too few to tell).
    expect(index.chunks.some((c) => c.docId === "transformer" && c.text.includes("fixture header"))).toBe(false);
  });

  it("reruns without embedding anything, re-embeds only a changed document, drops a removed one", async () => {
    const s = await setup();
    const first = await ingest(s.opts);
    expect(first.embedded).toBe(first.chunks);
    const before = embedder.count;

    const again = await ingest(s.opts);
    expect(again.upToDate).toBe(true);
    expect(again.embedded).toBe(0);
    expect(embedder.count).toBe(before);

    // Change one document: only its changed chunks are embedded.
    const ops = s.entries.find((e) => e.id === "ops")!;
    const text = (await readFile(path.join(s.corpusDir, ops.file), "utf8")) + "\n## Latency\n\nStreaming tokens hides latency from users.\n";
    await writeFile(path.join(s.corpusDir, ops.file), text);
    const changed = await ingest({ ...s.opts, entries: s.entries.map((e) => (e.id === "ops" ? { ...e, sha256: sha256(text) } : e)) });
    expect(changed.upToDate).toBe(false);
    expect(changed.embedded).toBeGreaterThan(0);
    expect(changed.embedded).toBeLessThan(changed.chunks);
    const opsChunks = (await loadIndex(s.indexDir, { embedder, ef: 50 })).chunks.filter((c) => c.docId === "ops").length;
    expect(changed.embedded).toBeLessThanOrEqual(opsChunks);

    // Remove a document: it disappears from the index.
    const fewer = s.entries.filter((e) => e.id !== "rlhf" && e.id !== "ops").concat(s.entries.filter((e) => e.id === "ops").map((e) => ({ ...e, sha256: sha256(text) })));
    const removed = await ingest({ ...s.opts, entries: fewer });
    expect(removed.embedded).toBe(0);
    const index = await loadIndex(s.indexDir, { embedder, ef: 50 });
    expect(index.manifest.documents.map((d) => d.id).sort()).toEqual(["ops", "transformer"]);
    expect(index.chunks.some((c) => c.docId === "rlhf")).toBe(false);
  });

  it("fails when nothing can be indexed, leaving the previous index intact", async () => {
    const s = await setup();
    await ingest(s.opts);
    const manifestBefore = await readFile(path.join(s.indexDir, "manifest.json"), "utf8");
    const broken = path.join(s.corpusDir, "broken.pdf");
    await writeFile(broken, "not a pdf");
    const only = [{ ...s.entries[0]!, id: "broken", file: "broken.pdf", sha256: null }];
    await expect(ingest({ ...s.opts, entries: only })).rejects.toMatchObject({
      code: "NOTHING_TO_INDEX",
      details: { documents: 0, skipped: [{ id: "broken", file: "broken.pdf", reason: expect.stringMatching(/not a PDF/) }] },
    });
    expect(await readFile(path.join(s.indexDir, "manifest.json"), "utf8")).toBe(manifestBefore);
    await expect(loadIndex(s.indexDir, { embedder, ef: 50 })).resolves.toBeTruthy();
  });

  it("leaves the previous index serving when a build fails half-way, and cleans up its partial files", async () => {
    const s = await setup();
    await ingest(s.opts);
    const manifestBefore = await readFile(path.join(s.indexDir, "manifest.json"), "utf8");
    const failing: Embedder = { ...embedder, embedDocuments: async () => Promise.reject(new Error("embedding service down")) };
    await writeFile(path.join(s.corpusDir, SAMPLE_DOCS[2]!.file), "# Changed\n\nEntirely new text about cost.\n");
    const entries = s.entries.map((e) => (e.id === "ops" ? { ...e, sha256: null } : e));
    await expect(ingest({ ...s.opts, entries, embedder: failing })).rejects.toThrow("embedding service down");
    expect(await readFile(path.join(s.indexDir, "manifest.json"), "utf8")).toBe(manifestBefore);
    const gens = (await readdir(s.indexDir)).filter((n) => n.startsWith("gen-"));
    expect(gens).toHaveLength(1);
    const index = await loadIndex(s.indexDir, { embedder, ef: 50 });
    expect(index.chunks.some((c) => c.text.includes("Distillation") || c.text.includes("distillation"))).toBe(true);
    await rm(s.corpusDir, { recursive: true, force: true });
  });
});
