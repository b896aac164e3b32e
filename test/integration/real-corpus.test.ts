/** The index built from the real corpus (../shared/corpus, see test/global-setup.ts). */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig, PROJECT_ROOT } from "../../src/config/index.js";
import { createIndexStore } from "../../src/store/index.js";
import { QaService } from "../../src/service/index.js";

const real = inject("realCorpus");
let service: QaService;

beforeAll(async () => {
  service = new QaService(loadConfig({ INDEX_DIR: real.indexDir, CORPUS_DIR: real.corpusDir, LLM_PROVIDER: "extractive", WATCH_INDEX: "false" }));
  await service.start();
  expect(service.status().ready).toBe(true);
});

afterAll(() => service?.close());

describe("the real corpus index", () => {
  it("holds every mirrored document with its real page count", async () => {
    const manifest = (await createIndexStore({ indexDir: real.indexDir }).current())!;
    const pages = Object.fromEntries(manifest.documents.map((d) => [d.id, d.pages]));
    // Page counts from pdfinfo, as listed in ../shared/corpus/SOURCES.md; markdown has no pages.
    expect(pages).toEqual({
      attention: 15,
      gpt1: 12,
      gpt2: 24,
      gpt3: null,
      "rlhf-preferences": 17,
      "rlhf-summarize": null,
      instructgpt: 68,
      "blog-llm-production": null,
      "blog-rlhf": null,
    });
    for (const d of manifest.documents) expect(d.chunks, d.id).toBeGreaterThan(10);
    expect(manifest.totals.chunks).toBe(manifest.documents.reduce((n, d) => n + d.chunks, 0));
  });

  it("puts the right document first for dev questions", async () => {
    const dev = readFileSync(path.resolve(PROJECT_ROOT, "../shared/eval/dev.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; question: string; doc: string | null });
    const picked = ["q020", "q029", "q048", "q070", "q087", "q092", "q098", "q017"];
    for (const id of picked) {
      const item = dev.find((d) => d.id === id)!;
      const { results } = await service.search(item.question, 5);
      expect(results[0]?.docId, `${id}: ${item.question}`).toBe(item.doc);
    }
  });

  it("cites PDF pages that hold the passage's text", async () => {
    const { results } = await service.search("Which optimizer was used to train the Transformer?", 3);
    const top = results[0]!;
    expect(top.docId).toBe("attention");
    expect(top.page).toBe(7);
  });
});
