/**
 * Fetching the original editions over HTTP, as a user with internet and no mirror does, against a
 * local server on 127.0.0.1 that serves files shaped like the real ones: arXiv-like PDF paths (one
 * behind a redirect), a blog's HTML page, PDFs with and without a known checksum, a 404. Then the
 * downloaded editions are ingested, and npm start's fetch step is run with and without a mirror.
 * The tests of the first describe run in order on one corpus folder, as a user's successive fetches do.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/fetch.js";
import { fetchMissingDocuments } from "../../src/cli/start.js";
import { loadConfig } from "../../src/config/index.js";
import { loadCorpusEntries } from "../../src/corpus/catalog.js";
import { exitCodeFor, fetchCorpus } from "../../src/corpus/fetch.js";
import { LOCK_FILE, readLock } from "../../src/corpus/lock.js";
import { loadCorpusManifest, type CorpusDocument } from "../../src/corpus/manifest.js";
import type { Embedder } from "../../src/embed/types.js";
import { createIndexStore, type OpenOptions } from "../../src/store/index.js";
import { ingest } from "../../src/ingest/pipeline.js";
import { BLOG_PAGE_HTML } from "../helpers/blog-page.js";
import { makePdf, tempDir } from "../helpers/fixtures.js";

/** The test's view of an index folder through the store port. */
const loadIndex = async (indexDir: string, opts: OpenOptions) => {
  const index = await createIndexStore({ indexDir }).open(opts);
  return { ...index, chunks: index.chunks.all() };
};
const readManifest = (indexDir: string) => createIndexStore({ indexDir }).current();

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

// --- the server -----------------------------------------------------------------------------------

interface Route {
  status?: number;
  type?: string;
  body?: Buffer | string;
  /** Redirect target (status 301 unless given). */
  location?: string;
}
const routes = new Map<string, Route>();
const requests: string[] = [];
let server: http.Server;
let base: string;

function startServer(): Promise<void> {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    const route = routes.get(req.url ?? "") ?? { status: 404, type: "text/html", body: "<h1>Not Found</h1>" };
    if (route.location) {
      res.writeHead(route.status ?? 301, { location: route.location });
      res.end();
      return;
    }
    res.writeHead(route.status ?? 200, { "content-type": route.type ?? "application/octet-stream" });
    res.end(route.body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
}

// --- what it serves and the manifest that points at it -----------------------------------------------

/** Pages of different text (text repeated on every page would be dropped as a running header). */
const BODY = [
  "Introduction. We train a language model with many parameters and test it in the few-shot setting.",
  "Approach. The training data is filtered web text, books and an encyclopedia, weighted by quality.",
  "Results. On translation and question answering the largest model comes close to fine-tuned systems.",
];
const pdfPages = (title: string, n: number) => BODY.slice(0, n).map((text, i) => `${title}\n\n${text} This is page ${i + 1} of the arXiv paper.`);

let attentionPdf: Buffer; // pinned, byte-identical in the mirror
let instructPdf: Buffer; // pinned, behind a redirect
let gpt3Pdf: Buffer; // no known checksum
let gpt3PdfChanged: Buffer;
let tamperedPdf: Buffer; // what the server sends for a pinned file: not the pinned bytes
const BLOG_CHANGED = BLOG_PAGE_HTML.replace("</body>", "<script>/* a new analytics snippet */</script></body>");
const GPT3_MD = "# Language Models are Few-Shot Learners\n\nThe mirror's markdown edition.\n";
const BLOG_MD = "# Building LLM applications for production\n\nThe mirror's web clip.\n";

let documents: CorpusDocument[];
let tmp: string;
let manifestFile: string;
let corpusDir: string;
let mirrorDir: string;

const url = (p: string) => `${base}${p}`;

function manifest(): CorpusDocument[] {
  const paper = (id: string, title: string, editions: CorpusDocument["editions"]): CorpusDocument => ({
    id,
    title,
    authors: ["A. Author"],
    year: 2020,
    kind: "paper",
    url: `https://arxiv.org/abs/${id}`,
    editions,
  });
  const pdf = (file: string, data: Buffer | null) => ({ file, mediaType: "application/pdf" as const, sha256: data && sha(data) });
  return [
    paper("attention", "Attention Is All You Need", { mirror: pdf("attention.pdf", attentionPdf), original: { url: url("/pdf/1706.03762v7"), ...pdf("attention.pdf", attentionPdf) } }),
    paper("instructgpt", "Training language models to follow instructions", { original: { url: url("/abs/2203.02155v1"), ...pdf("instructgpt.pdf", instructPdf) } }),
    paper("gpt3", "Language Models are Few-Shot Learners", {
      mirror: { file: "gpt3.md", mediaType: "text/markdown", sha256: sha(GPT3_MD) },
      original: { url: url("/pdf/2005.14165"), ...pdf("gpt3.pdf", null) },
    }),
    {
      ...paper("blog", "Building LLM applications for production", {
        mirror: { file: "blog.md", mediaType: "text/markdown", sha256: sha(BLOG_MD) },
        original: { url: url("/2023/04/11/llm-engineering.html"), file: "blog.html", mediaType: "text/html", sha256: null },
      }),
      kind: "blog",
      url: url("/2023/04/11/llm-engineering.html"),
    },
    paper("tampered", "A pinned PDF the server no longer has", { original: { url: url("/pdf/1706.03741v4"), ...pdf("tampered.pdf", attentionPdf) } }),
    paper("gone", "A paper whose URL is gone", { original: { url: url("/pdf/0000.00000"), ...pdf("gone.pdf", null) } }),
  ];
}

function serveOriginals(): void {
  routes.clear();
  routes.set("/pdf/1706.03762v7", { type: "application/pdf", body: attentionPdf });
  routes.set("/abs/2203.02155v1", { status: 302, location: "/pdf/2203.02155v1" });
  routes.set("/pdf/2203.02155v1", { type: "application/pdf", body: instructPdf });
  routes.set("/pdf/2005.14165", { type: "application/pdf", body: gpt3Pdf });
  routes.set("/2023/04/11/llm-engineering.html", { type: "text/html; charset=utf-8", body: BLOG_PAGE_HTML });
  routes.set("/pdf/1706.03741v4", { type: "application/pdf", body: tamperedPdf });
}

function captureOutput(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  return lines;
}
const lineFor = (lines: string[], id: string) => lines.find((l) => new RegExp(`^[✓✗] ${id}\\s`).test(l)) ?? "";

/** A small deterministic embedder: ingest's loading and chunking are under test here, not the vectors. */
const hashEmbedder: Embedder = {
  id: "test-hash-8",
  dimensions: 8,
  embedDocuments: async (texts) => texts.map(hashVector),
  embedQuery: async (text) => hashVector(text),
  close: async () => {},
};
function hashVector(text: string): number[] {
  const v = Array.from(createHash("sha256").update(text).digest().subarray(0, 8), (b) => b / 255 + 0.01);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

beforeAll(async () => {
  attentionPdf = await makePdf(pdfPages("Attention Is All You Need", 2));
  instructPdf = await makePdf(pdfPages("Training language models to follow instructions", 2));
  gpt3Pdf = await makePdf(pdfPages("Language Models are Few-Shot Learners", 3));
  gpt3PdfChanged = await makePdf(pdfPages("Language Models are Few-Shot Learners (v5, replaced)", 3));
  tamperedPdf = await makePdf(pdfPages("Deep Reinforcement Learning from Human Preferences, re-saved", 2));
  await startServer();
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tmp = await tempDir("online");
  corpusDir = path.join(tmp, "corpus");
  mirrorDir = path.join(tmp, "mirror");
  await mkdir(mirrorDir);
  documents = manifest();
  manifestFile = path.join(tmp, "manifest.json");
  await writeFile(manifestFile, JSON.stringify({ documents }, null, 2));
  expect(await loadCorpusManifest(manifestFile)).toEqual(documents); // the test manifest is a valid one
  serveOriginals();
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(tmp, { recursive: true, force: true });
});

describe("corpus:fetch without a mirror (original editions over HTTP on 127.0.0.1)", () => {
  it("downloads and verifies pinned files, follows a redirect, records unknown checksums, refuses a pinned mismatch, reports a 404", async () => {
    const lines = captureOutput();
    const code = await main(["--corpus", corpusDir, "--manifest", manifestFile], {});

    expect(code).toBe(3); // the pinned mismatch
    expect(lineFor(lines, "attention")).toMatch(/^✓ attention\s+downloaded\s+.*attention\.pdf \(original edition\)$/);
    expect(lineFor(lines, "instructgpt")).toMatch(/downloaded\s+.*instructgpt\.pdf \(original edition\)$/);
    expect(requests).toEqual(expect.arrayContaining(["/abs/2203.02155v1", "/pdf/2203.02155v1"]));
    expect(lineFor(lines, "gpt3")).toMatch(new RegExp(`downloaded .*gpt3\\.pdf \\(original edition\\); recorded checksum ${sha(gpt3Pdf)} on first fetch$`));
    expect(lineFor(lines, "blog")).toMatch(new RegExp(`downloaded .*blog\\.html \\(original edition\\); recorded checksum ${sha(BLOG_PAGE_HTML)} on first fetch$`));
    expect(lineFor(lines, "tampered")).toBe(
      `✗ tampered     checksum-mismatch: tampered.pdf: sha256 mismatch, expected ${sha(attentionPdf)}, got ${sha(tamperedPdf)} (download from ${url("/pdf/1706.03741v4")}; discarded)`,
    );
    expect(lineFor(lines, "gone")).toBe(`✗ gone         missing: no mirror given; download from ${url("/pdf/0000.00000")} failed: HTTP 404 Not Found`);
    expect(lines).toContain(
      `2 checksums recorded on first fetch in ${path.join(corpusDir, LOCK_FILE)} (no checksum is published for those editions): a later fetch that gets other bytes is refused (exit 3).`,
    );

    expect((await readdir(corpusDir)).sort()).toEqual(["attention.pdf", "blog.html", LOCK_FILE, "gpt3.pdf", "instructgpt.pdf"]);
    expect(sha(await readFile(path.join(corpusDir, "gpt3.pdf")))).toBe(sha(gpt3Pdf));
    const lock = await readLock(corpusDir);
    expect(lock.firstUse).toEqual({
      "gpt3.pdf": { sha256: sha(gpt3Pdf), source: url("/pdf/2005.14165"), recordedAt: expect.any(String) },
      "blog.html": { sha256: sha(BLOG_PAGE_HTML), source: url("/2023/04/11/llm-engineering.html"), recordedAt: expect.any(String) },
    });
    expect(lock.present).toEqual({
      attention: { edition: "original", file: "attention.pdf" },
      instructgpt: { edition: "original", file: "instructgpt.pdf" },
      gpt3: { edition: "original", file: "gpt3.pdf" },
      blog: { edition: "original", file: "blog.html" },
    });
  });

  it("a second fetch downloads nothing it already has, and checks the recorded checksums", async () => {
    requests.length = 0;
    const report = await fetchCorpus({ documents, corpusDir });

    expect(report.results.map((r) => [r.id, r.status, r.checksum])).toEqual([
      ["attention", "present", "pinned"],
      ["instructgpt", "present", "pinned"],
      ["gpt3", "present", "recorded"],
      ["blog", "present", "recorded"],
      ["tampered", "checksum-mismatch", undefined],
      ["gone", "missing", undefined],
    ]);
    expect(requests.sort()).toEqual(["/pdf/0000.00000", "/pdf/1706.03741v4"]); // only what it does not have
  });

  it("refuses a later download whose bytes differ from the checksum recorded on first fetch, and reports it", async () => {
    routes.set("/pdf/2005.14165", { type: "application/pdf", body: gpt3PdfChanged });
    routes.set("/2023/04/11/llm-engineering.html", { type: "text/html", body: BLOG_CHANGED });
    await rm(path.join(corpusDir, "gpt3.pdf"));
    await rm(path.join(corpusDir, "blog.html"));
    const lockBefore = (await readLock(corpusDir)).firstUse;

    const lines = captureOutput();
    const code = await main(["--corpus", corpusDir, "--manifest", manifestFile], {});

    expect(code).toBe(3);
    const gpt3 = lineFor(lines, "gpt3");
    expect(gpt3).toContain(`✗ gpt3         checksum-mismatch: gpt3.pdf: sha256 mismatch, expected ${sha(gpt3Pdf)} (recorded on first fetch from ${url("/pdf/2005.14165")} at `);
    expect(gpt3).toContain(`got ${sha(gpt3PdfChanged)} (download from ${url("/pdf/2005.14165")}; discarded)`);
    expect(gpt3).toContain(`remove "gpt3.pdf" from ${LOCK_FILE}`);
    expect(lineFor(lines, "blog")).toContain(`blog.html: sha256 mismatch, expected ${sha(BLOG_PAGE_HTML)} (recorded on first fetch`);
    expect(lines.some((l) => l.startsWith("exit 3"))).toBe(true);
    expect((await readdir(corpusDir)).sort()).toEqual(["attention.pdf", LOCK_FILE, "instructgpt.pdf"]); // nothing kept
    const lock = await readLock(corpusDir);
    expect(lock.firstUse).toEqual(lockBefore); // never silently re-recorded
    expect(lock.present.gpt3).toBeUndefined();
  });

  it("takes the file again once the source serves the recorded bytes", async () => {
    serveOriginals();
    const report = await fetchCorpus({ documents, corpusDir });
    expect(report.results.filter((r) => r.id === "gpt3" || r.id === "blog").map((r) => [r.status, r.checksum])).toEqual([
      ["downloaded", "recorded"],
      ["downloaded", "recorded"],
    ]);
    expect(exitCodeFor(report)).toBe(3); // "tampered" still is
  });

  it("ingest reads each document's downloaded edition: pages for the PDFs, sections for the HTML page", async () => {
    const entries = await loadCorpusEntries({ corpusManifest: manifestFile, corpusDir });
    expect(entries.map((e) => [e.id, e.edition, e.file, e.mediaType])).toEqual([
      ["attention", "original", "attention.pdf", "application/pdf"], // as the lock says (the same file as the mirror's)
      ["instructgpt", "original", "instructgpt.pdf", "application/pdf"],
      ["gpt3", "original", "gpt3.pdf", "application/pdf"],
      ["blog", "original", "blog.html", "text/html"],
      ["tampered", "original", "tampered.pdf", "application/pdf"], // missing: reported by ingest under this name
      ["gone", "original", "gone.pdf", "application/pdf"],
    ]);
    const indexDir = path.join(tmp, "index");
    const result = await ingest({ corpusDir, store: createIndexStore({ indexDir }), entries, embedder: hashEmbedder, chunking: { size: 300, overlap: 0, prefix: true } });

    expect(result.skipped).toEqual([]);
    expect(result.documents).toBe(4);
    expect(result.missing.map((m) => m.id)).toEqual(["tampered", "gone"]);
    expect(Object.fromEntries(result.manifest!.documents.map((d) => [d.id, [d.file, d.pages]]))).toEqual({
      attention: ["attention.pdf", 2],
      instructgpt: ["instructgpt.pdf", 2],
      gpt3: ["gpt3.pdf", 3],
      blog: ["blog.html", null],
    });

    const { chunks } = await loadIndex(indexDir, { embedder: hashEmbedder, ef: 10 });
    const gpt3 = chunks.filter((c) => c.docId === "gpt3");
    expect(gpt3.length).toBeGreaterThan(0);
    expect(gpt3.every((c) => c.page !== null && c.page >= 1 && c.pageEnd !== null && c.pageEnd <= 3)).toBe(true);
    const onPage = (text: string) => gpt3.find((c) => c.text.includes(text));
    expect(onPage("The training data is filtered web text")).toMatchObject({ page: expect.any(Number) });
    const second = onPage("The training data is filtered web text")!;
    expect(second.page! <= 2 && second.pageEnd! >= 2).toBe(true);
    expect(onPage("On translation and question answering")?.pageEnd).toBe(3);
    const blog = chunks.filter((c) => c.docId === "blog");
    expect(blog.every((c) => c.page === null)).toBe(true);
    expect(new Set(blog.map((c) => c.section))).toEqual(new Set([null, "The ambiguity of natural languages", "Cost and latency", "Part II. Task composability"]));
    expect(blog.find((c) => c.text.includes("GPT-4 (32k context) | 10k | 200 | $0.624"))?.section).toBe("Cost and latency");
    expect(blog.some((c) => c.text.includes("NOT-CONTENT"))).toBe(false);
  });
});

describe("npm start's fetch step", () => {
  it("downloads the original editions without CORPUS_MIRROR and copies the mirror editions with it", async () => {
    const online = loadConfig({ CORPUS_DIR: path.join(tmp, "start-online"), CORPUS_MANIFEST: manifestFile, INDEX_DIR: path.join(tmp, "i1") });
    const lines = captureOutput();
    const first = await fetchMissingDocuments(online);
    expect(first.results.map((r) => [r.id, r.status, r.edition])).toEqual([
      ["attention", "downloaded", "original"],
      ["instructgpt", "downloaded", "original"],
      ["gpt3", "downloaded", "original"],
      ["blog", "downloaded", "original"],
      ["tampered", "checksum-mismatch", undefined],
      ["gone", "missing", undefined],
    ]);
    expect(lines.some((l) => l.startsWith("corpus: ✓ gpt3") && l.endsWith(`recorded checksum ${sha(gpt3Pdf)} on first fetch`))).toBe(true);
    expect(lines.some((l) => l.startsWith("corpus: ✗ gone") && l.includes("HTTP 404"))).toBe(true);

    await writeFile(path.join(mirrorDir, "gpt3.md"), GPT3_MD);
    await writeFile(path.join(mirrorDir, "blog.md"), BLOG_MD);
    await writeFile(path.join(mirrorDir, "attention.pdf"), attentionPdf);
    requests.length = 0;
    const offline = loadConfig({ CORPUS_DIR: path.join(tmp, "start-mirror"), CORPUS_MANIFEST: manifestFile, CORPUS_MIRROR: mirrorDir, INDEX_DIR: path.join(tmp, "i2") });
    const second = await fetchMissingDocuments(offline);
    expect(second.results.map((r) => [r.id, r.status, r.edition, r.file])).toEqual([
      ["attention", "copied", "mirror", "attention.pdf"],
      ["instructgpt", "downloaded", "original", "instructgpt.pdf"], // no mirror edition: its URL
      ["gpt3", "copied", "mirror", "gpt3.md"],
      ["blog", "copied", "mirror", "blog.md"],
      ["tampered", "checksum-mismatch", undefined, "tampered.pdf"],
      ["gone", "missing", undefined, "gone.pdf"],
    ]);
    expect(requests).not.toContain("/pdf/2005.14165");
    const entries = await loadCorpusEntries({ corpusManifest: manifestFile, corpusDir: offline.corpusDir });
    expect(entries.find((e) => e.id === "gpt3")).toMatchObject({ file: "gpt3.md", mediaType: "text/markdown", edition: "mirror" });
  });
});
