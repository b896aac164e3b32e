/**
 * npm run cost [-- --set FILE --models a,b,c --output-tokens N --prompt VERSION]
 *
 * The buy-vs-build bill (src/eval/cost.ts): runs the question set through the service's retrieval and
 * prompt packing (no model is called), counts the tokens each model would see with its tokenizer, and
 * prints the cost per 1,000 questions of every hosted model in the price file (PRICES_FILE, default
 * pricing/prices.json), of its self-hosted options, and of the extractive mode. Writes
 * reports/cost-<timestamp>.json and .html (+ cost-latest.*).
 *
 * Exit codes: 0 done; 2 usage, configuration, set or index problem.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_PRICES_FILE } from "../config/index.js";
import { parseOptions } from "./args.js";
import { AppError, isAppError } from "../errors.js";
import { costTable, DEFAULT_OUTPUT_TOKENS, formatCostTable, renderCostHtml, type PromptSample } from "../eval/cost.js";
import { loadEvalSet } from "../eval/dataset.js";
import { REPORTS_DIR, timestamp } from "../eval/report/write.js";
import { createEvalService } from "../eval/targets.js";
import { DEFAULT_SETS } from "./eval.js";
import { isMain } from "./is-main.js";

const USAGE = `Usage: npm run cost [-- options]
  --set FILE            question set, JSONL (repeatable; default: the eval dev sets, ../shared/eval)
  --models a,b,c        only these options (hosted model names, self-hosted names, "extractive")
  --output-tokens N     assumed answer length in tokens (default ${DEFAULT_OUTPUT_TOKENS})
  --prompt VERSION      prompt version to pack (default: PROMPT_VERSION)
Settings (INDEX_DIR, PROMPT_TOKEN_BUDGET, PRICES_FILE, ...) come from the environment as for the server.`;

const usage = (message: string) => new AppError("USAGE", message);

export function parseCostArgs(argv: string[]) {
  const values = parseOptions(argv, {
    set: { type: "string", multiple: true },
    models: { type: "string" },
    "output-tokens": { type: "string" },
    prompt: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  const outputTokens = values["output-tokens"] === undefined ? DEFAULT_OUTPUT_TOKENS : Number(values["output-tokens"]);
  if (!Number.isInteger(outputTokens) || outputTokens < 1 || outputTokens > 100_000) throw usage(`--output-tokens must be an integer from 1 to 100000 (got ${values["output-tokens"]})`);
  return {
    sets: values.set?.length ? values.set.map((f) => path.resolve(f)) : DEFAULT_SETS,
    models: values.models?.split(",").map((m) => m.trim()).filter(Boolean),
    outputTokens,
    prompt: values.prompt,
    help: values.help ?? false,
  };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: { reportsDir?: string } = {}): Promise<number> {
  let args: ReturnType<typeof parseCostArgs>;
  try {
    args = parseCostArgs(argv);
  } catch (err) {
    if (!isAppError(err, "USAGE")) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let service;
  try {
    for (const file of args.sets) if (!existsSync(file)) throw new AppError("EVAL_SETUP", `no question set at ${file} (give one with --set FILE)`);
    service = await createEvalService({}, { env });
    const pricing = service.config.pricing;
    const known = new Set([...Object.keys(pricing.hosted), ...Object.keys(pricing.selfHosted), "extractive"]);
    const unknown = (args.models ?? []).filter((m) => !known.has(m));
    if (unknown.length) throw usage(`unknown option(s) ${unknown.join(", ")}; the price file has: ${[...known].join(", ")}`);

    const items = (await Promise.all(args.sets.map((f) => loadEvalSet(f)))).flat();
    const samples: PromptSample[] = [];
    let promptVersion = args.prompt ?? service.config.prompt.version;
    for (const item of items) {
      const p = await service.promptFor({ question: item.question, ...(args.prompt ? { promptVersion: args.prompt } : {}) });
      promptVersion = p.promptVersion;
      samples.push({ id: item.id, grounded: p.grounded, system: p.system, user: p.user });
    }
    const file = env.PRICES_FILE ? path.resolve(env.PRICES_FILE) : DEFAULT_PRICES_FILE;
    const report = costTable(samples, pricing, { models: args.models, outputTokens: args.outputTokens, promptVersion, sets: args.sets.map((s) => path.basename(s)), file: path.basename(file) });
    console.log(formatCostTable(report));
    console.log(`\nAssumptions:\n${report.assumptions.map((a) => `  - ${a}`).join("\n")}`);

    const dir = out.reportsDir ?? REPORTS_DIR;
    await mkdir(dir, { recursive: true });
    const stamp = timestamp(new Date(report.createdAt));
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const page = renderCostHtml(report);
    for (const [name, text] of [[`cost-${stamp}.json`, json], [`cost-${stamp}.html`, page], ["cost-latest.json", json], ["cost-latest.html", page]] as const)
      await writeFile(path.join(dir, name), text);
    console.log(`\nwrote ${path.join(dir, `cost-${stamp}.json`)} and .html (and cost-latest.*)`);
    return 0;
  } catch (err) {
    if (isAppError(err, "USAGE", "EVAL_SETUP", "EVAL_SET_INVALID", "CONFIG_INVALID")) {
      console.error(`cost: ${err.message}${err.code === "USAGE" ? `\n${USAGE}` : ""}`);
      return 2;
    }
    throw err;
  } finally {
    await service?.close();
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`cost failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(2);
    },
  );
}
