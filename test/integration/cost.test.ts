/** npm run cost over the real corpus index: the table, the JSON and the HTML report. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, inject, it, vi } from "vitest";
import { main } from "../../src/cli/cost.js";
import { PROJECT_ROOT } from "../../src/config/index.js";
import { tempDir } from "../helpers/fixtures.js";

const real = inject("realCorpus");

describe("npm run cost", () => {
  it("prices the held-out questions on every option of the price file, cheapest first, and writes the reports", async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((m: unknown) => void out.push(String(m)));
    const reportsDir = await tempDir("reports");
    let code: number;
    try {
      code = await main(["--set", path.join(PROJECT_ROOT, "eval/heldout.jsonl")], { ...process.env, INDEX_DIR: real.indexDir, CORPUS_DIR: real.corpusDir, LLM_PROVIDER: "extractive" }, { reportsDir });
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const text = out.join("\n");
    expect(text).toMatch(/^\| option +\| kind +\| tokenizer/m);
    for (const name of ["gpt-4o-mini", "claude-sonnet-4", "llama-3.1-8b @ 1x L4", "extractive"]) expect(text).toContain(`| ${name} `);

    const report = JSON.parse(await readFile(path.join(reportsDir, "cost-latest.json"), "utf8"));
    const pricing = JSON.parse(await readFile(path.join(PROJECT_ROOT, "pricing/prices.json"), "utf8"));
    const chat = Object.entries(pricing.hosted).filter(([, m]: [string, any]) => (m.kind ?? "chat") === "chat").map(([n]) => n);
    const selfHosted = Object.keys(pricing.selfHosted).filter((k) => k !== "$comment");
    expect(report.rows.map((r: any) => r.name).sort()).toEqual([...chat, ...selfHosted, "extractive"].sort());
    expect(report.questions).toBeGreaterThan(10);
    expect(report.modelCalls).toBeGreaterThan(0);
    const usd = report.rows.map((r: any) => r.usdPer1kQuestions);
    expect(usd).toEqual([...usd].sort((a: number, b: number) => a - b));
    const mini = report.rows.find((r: any) => r.name === "gpt-4o-mini");
    // The packed prompt of a real question is hundreds of tokens; its cost follows from the price file.
    expect(mini.inputTokensPerQuestion).toBeGreaterThan(200);
    expect(mini.usdPer1kQuestions).toBeCloseTo(((mini.inputTokensPerQuestion * 0.15 + mini.outputTokensPerQuestion * 0.6) / 1e6) * 1000, 3);
    expect(report.rows.find((r: any) => r.name === "extractive").usdPer1kQuestions).toBe(0);
    const page = await readFile(path.join(reportsDir, "cost-latest.html"), "utf8");
    expect(page.match(/<rect/g)?.length).toBe(report.rows.length);
  });

  it("refuses an option the price file does not have (exit 2)", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await main(["--models", "no-such-model"], { ...process.env, INDEX_DIR: real.indexDir, CORPUS_DIR: real.corpusDir, LLM_PROVIDER: "extractive" })).toBe(2);
      expect(String(err.mock.calls[0]?.[0])).toMatch(/unknown option\(s\) no-such-model/);
    } finally {
      err.mockRestore();
    }
  });
});
