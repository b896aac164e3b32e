/**
 * npm run arch [-- --write]
 * The picture of the layers, generated from the code: dependency-cruiser reads every import under
 * src/, folders become nodes, imports between folders become arrows (the base every layer may use,
 * config/, errors, telemetry/ and text/, is left out of the arrows to keep the picture readable). Prints a mermaid
 * graph; --write puts it into README.md between the architecture markers. test/unit/architecture.test.ts
 * fails when the README's picture no longer matches the code.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cruise } from "dependency-cruiser";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BASE = new Set(["config", "errors", "telemetry", "text"]);
export const BEGIN = "<!-- architecture:begin (npm run arch -- --write) -->";
export const END = "<!-- architecture:end -->";

const folderOf = (file: string) => /^src\/([^/.]+)/.exec(file)?.[1] ?? null;

/** The folder graph as a mermaid flowchart, edges sorted so the output is stable. */
export async function architecture(): Promise<string> {
  const result = await cruise(["src"], { baseDir: ROOT, tsPreCompilationDeps: true, doNotFollow: { path: "node_modules" }, includeOnly: "^src" }, undefined, {
    tsConfig: { fileName: path.join(ROOT, "tsconfig.json") },
  } as never);
  const output = result.output as { modules: Array<{ source: string; dependencies: Array<{ resolved: string }> }> };
  const edges = new Set<string>();
  const nodes = new Set<string>();
  for (const m of output.modules) {
    const from = folderOf(m.source);
    if (!from) continue;
    nodes.add(from);
    for (const d of m.dependencies) {
      const to = folderOf(d.resolved);
      if (!to || to === from || BASE.has(to)) continue;
      edges.add(`  ${from} --> ${to}`);
    }
  }
  const layered = [...nodes].filter((n) => !BASE.has(n)).sort();
  return ["```mermaid", "graph TD", ...layered.map((n) => `  ${n}[${n}/]`), ...[...edges].sort(), "```"].join("\n");
}

async function main(): Promise<void> {
  const picture = await architecture();
  if (!process.argv.includes("--write")) {
    console.log(picture);
    return;
  }
  const file = path.join(ROOT, "README.md");
  const readme = await readFile(file, "utf8");
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${BEGIN} ... ${END} block`);
  await writeFile(file, `${readme.slice(0, a + BEGIN.length)}\n${picture}\n${readme.slice(b)}`);
  console.log("README.md: architecture picture updated");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
