/** Where reports go: reports/<name>-<timestamp>.json (and .html), copied to <name>-latest.*. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../../config/index.js";
import { renderHtml } from "./html.js";
import type { EvalReport } from "./types.js";

export const REPORTS_DIR = path.join(PROJECT_ROOT, "reports");

/** 2025-01-31T12-00-00Z: sortable, safe in file names. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

export interface WrittenReport {
  json: string;
  html: string;
  latestJson: string;
  latestHtml: string;
}

export async function writeEvalReport(report: EvalReport, dir = REPORTS_DIR): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const stamp = timestamp(new Date(report.createdAt));
  const out: WrittenReport = {
    json: path.join(dir, `eval-${stamp}.json`),
    html: path.join(dir, `eval-${stamp}.html`),
    latestJson: path.join(dir, "eval-latest.json"),
    latestHtml: path.join(dir, "eval-latest.html"),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const html = renderHtml(report);
  await writeFile(out.json, json);
  await writeFile(out.html, html);
  await writeFile(out.latestJson, json);
  await writeFile(out.latestHtml, html);
  return out;
}

/** Writes any JSON result (cross-validation, ablations) as reports/<name>-<timestamp>.json and <name>-latest.json. */
export async function writeJsonReport(name: string, data: unknown, dir = REPORTS_DIR): Promise<{ json: string; latest: string }> {
  await mkdir(dir, { recursive: true });
  const out = { json: path.join(dir, `${name}-${timestamp()}.json`), latest: path.join(dir, `${name}-latest.json`) };
  const text = `${JSON.stringify(data, null, 2)}\n`;
  await writeFile(out.json, text);
  await writeFile(out.latest, text);
  return out;
}

