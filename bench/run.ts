/**
 * npm run bench: performance of the service, everything bounded and on loopback only.
 *
 *   1. cold ingest of the corpus into a fresh INDEX_DIR, in a child process
 *      (`node --import tsx src/cli/ingest.ts`), vs the LangChain tutorial recipe
 *      (`node --import tsx src/eval/baseline.ts --no-cache`): wall time, peak RSS, ratios;
 *   2. re-ingest with nothing changed (wall time);
 *   3. autocannon against a real server (`node --import tsx src/cli/serve.ts`, extractive answers,
 *      no rate limit, a free port on 127.0.0.1): POST /v1/search and POST /v1/ask with the dev
 *      questions in rotation, at 1, 16 and 64 connections for BENCH_DURATION seconds each (default 8):
 *      p50/p95/p99 latency, requests/s, errors and non-2xx responses (which must be 0);
 *   4. the server's resident memory (VmRSS/VmHWM from /proc) before and after the load.
 *
 * Writes reports/bench-<timestamp>.json and reports/bench-latest.json.
 * Environment: BENCH_DURATION (seconds per load step), BENCH_CONNECTIONS (e.g. "1,16,64"),
 * BENCH_SKIP_BASELINE=1, and the service's own variables (CORPUS_DIR, EMBED_WORKERS, ...).
 * Exit code 1 when a step failed or the load saw errors / non-2xx responses.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, PROJECT_ROOT } from "../src/config/index.js";
import { loadCorpusEntries } from "../src/corpus/catalog.js";
import { loadEvalSet } from "../src/eval/dataset.js";
import { textTable, timestamp } from "../src/eval/report.js";
import { BENCH_TOKEN, reindexWhileLoaded, type ReindexUnderLoad } from "./reindex.js";
import { freePort, killGroup, loadEndpoint, mb, measureNode, procMemory, waitReady, type LoadResult, type Measured, type ProcMemory } from "./lib.js";

const DEV_SET = path.resolve(PROJECT_ROOT, "../shared/eval/dev.jsonl");
const FALLBACK_QUESTIONS = [
  "Which optimizer was used to train the Transformer?",
  "What corpus was the GPT-1 language model pre-trained on?",
  "How many parameters does GPT-3 have?",
  "Which RL algorithm do most people use for RLHF?",
  "What is the capital city of Australia?",
];
const INGEST_TIMEOUT_MS = 20 * 60_000;

interface StepOutcome {
  wallSeconds: number;
  maxRssKb: number | null;
  rssSource: Measured["rssSource"];
  exitCode: number | null;
  summary: string;
}

function outcome(m: Measured, summary: string): StepOutcome {
  return { wallSeconds: m.wallSeconds, maxRssKb: m.maxRssKb, rssSource: m.rssSource, exitCode: m.exitCode, summary };
}

const lastLine = (s: string) => s.trim().split("\n").filter(Boolean).pop() ?? "";

function fail(step: string, m: Measured): Error {
  const why = m.timedOut ? "timed out" : `exit ${m.exitCode ?? m.signal}`;
  return new Error(`${step} ${why}: ${lastLine(m.stderr) || lastLine(m.stdout)}`);
}

async function main(): Promise<number> {
  const duration = Number(process.env.BENCH_DURATION ?? 8);
  if (!Number.isFinite(duration) || duration <= 0 || duration > 600) throw new Error(`BENCH_DURATION must be 1..600 seconds (got ${process.env.BENCH_DURATION})`);
  const connectionLevels = (process.env.BENCH_CONNECTIONS ?? "1,16,64").split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  const skipBaseline = /^(1|true|yes)$/i.test(process.env.BENCH_SKIP_BASELINE ?? "");
  const config = loadConfig();
  const entries = await loadCorpusEntries(config);
  const present = entries.filter((e) => existsSync(path.join(config.corpusDir, e.file)));
  if (present.length === 0) throw new Error(`no documents in ${config.corpusDir}: run \`npm run corpus:fetch -- --from ../shared/corpus\` first`);

  const problems: string[] = [];
  const loadAverageAtStart = os.loadavg();
  const work = await mkdtemp(path.join(os.tmpdir(), "llmops-bench-"));
  const indexDir = path.join(work, "index");
  const childEnv: NodeJS.ProcessEnv = { ...process.env, INDEX_DIR: indexDir, CORPUS_DIR: config.corpusDir, LOG_LEVEL: "warn" };
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const load: LoadResult[] = [];
  const memory: Record<string, ProcMemory> = {};
  let ours: StepOutcome | undefined;
  let reingest: StepOutcome | undefined;
  let reindexUnderLoad: ReindexUnderLoad | undefined;
  let baseline: (StepOutcome & { chunks?: number }) | undefined;
  let chunks: number | undefined;

  say(`bench: corpus ${config.corpusDir} (${present.length}/${entries.length} documents present), work dir ${work}`);
  say(`bench: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; EMBED_WORKERS=${config.embedder.workers}`);
  try {
    // 1. cold ingest, ours
    say("bench: [1/5] cold ingest (ours) ...");
    const cold = await measureNode(["--import", "tsx", "src/cli/ingest.ts"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
    if (cold.exitCode !== 0) throw fail("cold ingest", cold);
    ours = outcome(cold, lastLine(cold.stdout));
    chunks = Number(/(\d+) chunks/.exec(ours.summary)?.[1] ?? NaN);
    say(`  ${ours.summary}`);

    // 1b. cold build, baseline
    if (!skipBaseline) {
      say("bench: [1/5] cold build (LangChain baseline) ...");
      const b = await measureNode(["--import", "tsx", "src/eval/baseline.ts", "--no-cache"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
      if (b.exitCode !== 0) {
        problems.push(fail("baseline build", b).message);
      } else {
        const info = JSON.parse(lastLine(b.stdout)) as { chunks: number; maxRssKb: number };
        baseline = { ...outcome(b, `${info.chunks} chunks`), chunks: info.chunks };
        if (baseline.maxRssKb === null) baseline.maxRssKb = info.maxRssKb;
        say(`  ${baseline.summary}`);
      }
    }

    // 2. re-ingest, nothing changed
    say("bench: [2/5] re-ingest (nothing changed) ...");
    const again = await measureNode(["--import", "tsx", "src/cli/ingest.ts"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
    if (again.exitCode !== 0) throw fail("re-ingest", again);
    reingest = outcome(again, lastLine(again.stdout));
    if (!/up to date/.test(reingest.summary)) problems.push(`re-ingest rebuilt the index although nothing changed: ${reingest.summary}`);
    say(`  ${reingest.summary}`);

    // 3 + 4. the server under load
    const questions = existsSync(DEV_SET) ? (await loadEvalSet(DEV_SET)).map((i) => i.question) : FALLBACK_QUESTIONS;
    if (!existsSync(DEV_SET)) problems.push(`${DEV_SET} not found: used ${FALLBACK_QUESTIONS.length} built-in questions`);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    say(`bench: [3/5] server on ${url} (extractive, no rate limit) ...`);
    const server = spawn(process.execPath, ["--import", "tsx", "src/cli/serve.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...childEnv, PORT: String(port), HOST: "127.0.0.1", LLM_PROVIDER: "extractive", RATE_LIMIT_PER_MINUTE: "0", WATCH_INDEX: "false", ADMIN_TOKEN: BENCH_TOKEN },
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let serverErr = "";
    server.stderr!.on("data", (d: Buffer) => (serverErr = (serverErr + d.toString()).slice(-4000)));
    let exited = false;
    server.on("exit", () => (exited = true));
    try {
      await waitReady(`${url}/readyz`, 120_000, () => !exited).catch((err: Error) => {
        throw new Error(`${err.message}${serverErr ? `; server stderr: ${lastLine(serverErr)}` : ""}`);
      });
      const pid = server.pid!;
      memory.started = await procMemory(pid);
      // Warm up: the first query loads the query embedder and JIT-compiles the hot paths.
      for (const q of questions.slice(0, 5)) {
        await fetch(`${url}/v1/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: q, k: 5 }) });
        await fetch(`${url}/v1/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: q }) });
      }
      memory.idle = await procMemory(pid);
      const endpoints = [
        { path: "/v1/search", bodies: questions.map((q) => ({ query: q, k: 5 })) },
        { path: "/v1/ask", bodies: questions.map((q) => ({ question: q })) },
      ];
      for (const ep of endpoints) {
        for (const connections of connectionLevels) {
          say(`  POST ${ep.path} at ${connections} connection(s) for ${duration} s ...`);
          const r = await loadEndpoint({ url, path: ep.path, bodies: ep.bodies, connections, duration });
          load.push(r);
          if (r.errors || r.non2xx || r.timeouts)
            problems.push(`POST ${ep.path} at ${connections} connections: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses`);
          if (exited) throw new Error(`the server died during the load: ${lastLine(serverErr)}`);
        }
        memory[`after ${ep.path}`] = await procMemory(pid);
      }
      say("bench: [4/5] server memory read");

      // 5. re-index (forced: every document parsed again) under search load, 16 connections.
      say("bench: [5/5] re-index while POST /v1/search runs at 16 connections ...");
      reindexUnderLoad = await reindexWhileLoaded(url, questions);
      if (reindexUnderLoad.load.errors || reindexUnderLoad.load.non2xx || reindexUnderLoad.load.timeouts || reindexUnderLoad.job.status !== "succeeded" || !reindexUnderLoad.swapped)
        problems.push(`re-index under load: ${JSON.stringify({ ...reindexUnderLoad.load, job: reindexUnderLoad.job.status, swapped: reindexUnderLoad.swapped })}`);
    } finally {
      if (!exited) {
        killGroup(server, "SIGTERM");
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            killGroup(server, "SIGKILL");
            resolve();
          }, 15_000);
          server.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  // Report
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const report = {
    createdAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, loadAverageAtStart, loadAverageAtEnd: os.loadavg() },
    settings: { durationSeconds: duration, connections: connectionLevels, embedWorkers: config.embedder.workers, corpusDir: config.corpusDir, documents: present.length, chunks: chunks ?? null },
    ingest: {
      ours: ours ?? null,
      baseline: baseline ?? null,
      /** ours / baseline: below 1 means ours is faster / smaller. */
      ratio: { wallTime: ratio(ours?.wallSeconds, baseline?.wallSeconds), peakRss: ratio(ours?.maxRssKb, baseline?.maxRssKb) },
    },
    reingest: reingest ?? null,
    load,
    serverMemory: memory,
    reindexUnderLoad: reindexUnderLoad ?? null,
    problems,
  };
  const dir = path.join(PROJECT_ROOT, "reports");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `bench-${timestamp(new Date(report.createdAt))}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(file, json);
  await writeFile(path.join(dir, "bench-latest.json"), json);

  const out: string[] = [];
  out.push("ingest (cold, full corpus)");
  out.push(
    textTable(
      ["", "wall time", "peak RSS", "chunks"],
      [
        ["ours (src/cli/ingest.ts)", ours ? `${ours.wallSeconds.toFixed(1)} s` : "failed", mb(ours?.maxRssKb), String(chunks ?? "–")],
        ["baseline (LangChain recipe)", baseline ? `${baseline.wallSeconds.toFixed(1)} s` : skipBaseline ? "skipped" : "failed", mb(baseline?.maxRssKb), String(baseline?.chunks ?? "–")],
        ["ratio ours/baseline", report.ingest.ratio.wallTime === null ? "–" : `${report.ingest.ratio.wallTime}x`, report.ingest.ratio.peakRss === null ? "–" : `${report.ingest.ratio.peakRss}x`, ""],
        ["re-ingest, nothing changed", reingest ? `${reingest.wallSeconds.toFixed(1)} s` : "failed", mb(reingest?.maxRssKb), ""],
      ],
    ),
  );
  out.push(`(peak RSS measured with ${ours?.rssSource ?? "–"}; child processes include Node + tsx start-up)`);
  if (load.length) {
    out.push(`\nload (autocannon, ${duration} s per step, ${connectionLevels.join("/")} connections, loopback)`);
    out.push(
      textTable(
        ["endpoint", "conns", "req/s", "p50", "p95", "p99", "requests", "errors", "non-2xx"],
        load.map((r) => [r.endpoint, String(r.connections), r.rps.toFixed(1), `${r.p50 ?? "–"} ms`, `${r.p95 ?? "–"} ms`, `${r.p99 ?? "–"} ms`, String(r.requests), String(r.errors + r.timeouts), String(r.non2xx)]),
      ),
    );
  }
  if (Object.keys(memory).length) {
    out.push("\nserver memory (/proc/<pid>/status)");
    out.push(textTable(["when", "VmRSS", "VmHWM (peak)"], Object.entries(memory).map(([k, m]) => [k, mb(m.vmRssKb), mb(m.vmHwmKb)])));
  }
  if (reindexUnderLoad) {
    const r = reindexUnderLoad;
    out.push(`\nre-index (forced) under POST /v1/search load, 16 connections`);
    out.push(
      textTable(
        ["job", "job time", "requests", "req/s", "p50", "p99", "errors", "non-2xx", "index swapped"],
        [[r.job.status, r.job.seconds === null ? "–" : `${r.job.seconds.toFixed(1)} s`, String(r.load.requests), r.load.rps.toFixed(1), `${r.load.p50 ?? "–"} ms`, `${r.load.p99 ?? "–"} ms`, String(r.load.errors + r.load.timeouts), String(r.load.non2xx), r.swapped ? "yes" : "NO"]],
      ),
    );
  }
  out.push(problems.length ? `\nPROBLEMS:\n${problems.map((p) => `  ✗ ${p}`).join("\n")}` : "\nno errors, no non-2xx responses");
  out.push(`\nwritten: ${path.relative(process.cwd(), file)} (and reports/bench-latest.json)`);
  console.log(out.join("\n"));
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
