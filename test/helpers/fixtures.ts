/** Small corpora the tests make themselves: markdown and PDF documents, a manifest, and a config over temp dirs. */
import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import PDFDocument from "pdfkit";
import { loadConfig, type Config } from "../../src/config/index.js";
import { ingestWithConfig } from "../../src/ingest/run.js";

export interface FixtureDoc {
  id: string;
  title: string;
  file: string;
  /** Markdown text, or PDF pages (one string per page). */
  content: string | string[];
}

export function makePdf(pages: string[], opts: { header?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, info: { Title: "fixture" } });
    const parts: Buffer[] = [];
    doc.on("data", (b: Buffer) => parts.push(b));
    doc.on("end", () => resolve(Buffer.concat(parts)));
    doc.on("error", reject);
    for (const text of pages) {
      doc.addPage({ size: "A4", margin: 50 });
      if (opts.header) doc.fontSize(9).text(opts.header, { align: "center" }).moveDown();
      doc.fontSize(11).text(text, { align: "left" });
    }
    doc.end();
  });
}

export const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `llmops-qa-${prefix}-`));
}

/** Writes the documents and a manifest into a new temp corpus folder. */
export async function writeCorpus(docs: FixtureDoc[], dir?: string): Promise<{ corpusDir: string; manifest: string }> {
  const corpusDir = dir ?? (await tempDir("corpus"));
  const entries = [];
  for (const d of docs) {
    const data = typeof d.content === "string" ? Buffer.from(d.content) : await makePdf(d.content, { header: `${d.title} — fixture header` });
    await writeFile(path.join(corpusDir, d.file), data);
    entries.push({
      id: d.id,
      title: d.title,
      authors: ["Test Author"],
      year: 2024,
      kind: "paper",
      url: `https://example.org/${d.file}`,
      file: d.file,
      mediaType: d.file.endsWith(".pdf") ? "application/pdf" : "text/markdown",
      sha256: sha256(data),
    });
  }
  const manifest = path.join(corpusDir, "test-manifest.json");
  await writeFile(manifest, JSON.stringify({ documents: entries }, null, 2));
  return { corpusDir, manifest };
}

/** A config over the given folders (feedback beside the index), extractive, quiet, no rate limit, no shedding on event loop delay, ephemeral port. A variable set to undefined takes its default. */
export function testConfig(dirs: { corpusDir: string; manifest: string; indexDir: string }, env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    CORPUS_DIR: dirs.corpusDir,
    CORPUS_MANIFEST: dirs.manifest,
    INDEX_DIR: dirs.indexDir,
    DATA_DIR: `${dirs.indexDir}-data`,
    LLM_PROVIDER: "extractive",
    LOG_LEVEL: "silent",
    RATE_LIMIT_PER_MINUTE: "0",
    // Shedding on event loop delay would make tests depend on how busy the machine is; its own tests turn it on.
    MAX_EVENT_LOOP_DELAY_MS: "0",
    WATCH_INDEX: "false",
    EMBED_WORKERS: "1",
    // Small chunks, so the fixtures' short pages do not all fall into one chunk.
    CHUNK_SIZE: "300",
    CHUNK_OVERLAP: "60",
    ...env,
  });
}

/** The documents most server tests use: two PDFs and a markdown post about well-known facts. */
export const SAMPLE_DOCS: FixtureDoc[] = [
  {
    id: "transformer",
    title: "A Note on Transformers",
    file: "transformer.pdf",
    content: [
      "Introduction. The Transformer relies entirely on attention. It dispenses with recurrence and convolutions entirely. Self-attention relates different positions of a single sequence.",
      "Training. We used the Adam optimizer with beta1 = 0.9 and beta2 = 0.98. The learning rate was warmed up over the first 4000 steps of training. Residual dropout of 0.1 was applied to each sub-layer.",
      "Positional encoding. Since the model contains no recurrence, we add positional encodings to the input embeddings. We use sine and cosine functions of different frequencies.",
    ],
  },
  {
    id: "rlhf",
    title: "Notes on Learning from Human Preferences",
    file: "rlhf.pdf",
    content: [
      "Humans compare pairs of short video clips of the agent. We found it much easier for humans to provide consistent comparisons than consistent absolute scores.",
      "The reward predictor is trained with a loss that follows the Bradley-Terry model for pairwise preferences. Atari agents were trained with advantage actor-critic.",
    ],
  },
  {
    id: "ops",
    title: "Running LLMs in Production",
    file: "ops.md",
    content: [
      "# Running LLMs in Production",
      "",
      "## Cost",
      "",
      "Cost per prediction matters. With 10k tokens of input and 200 tokens of output the prediction costs $0.624 on the largest model.",
      "",
      "## Distillation",
      "",
      "Training a small model to imitate the behaviour of a larger model is called distillation. Teams use it to cut serving cost.",
      "",
    ].join("\n"),
  },
];

/** A fixture corpus written and indexed in temp folders: the configuration that serves it, and its folders. */
export async function indexedFixture(
  docs: FixtureDoc[] = SAMPLE_DOCS,
  env: Record<string, string | undefined> = {},
): Promise<{ config: Config; dirs: { corpusDir: string; manifest: string; indexDir: string } }> {
  const dirs = { ...(await writeCorpus(docs)), indexDir: await tempDir("index") };
  const config = testConfig(dirs, env);
  await ingestWithConfig(config);
  return { config, dirs };
}
