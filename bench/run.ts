/**
 * npm run bench: what a user of the default configuration gets, everything on loopback.
 *
 *   1. cold ingest of the corpus into a fresh INDEX_DIR (`node --import tsx src/cli/ingest.ts`) and the
 *      LangChain tutorial recipe (`node --import tsx src/cli/baseline.ts --no-cache`), in child
 *      processes of the same run: wall time, peak RSS, the ratio;
 *   2. re-ingest with nothing changed (wall time);
 *   3. the server started as `npm start` starts it (`node --import tsx src/cli/start.ts`), with only
 *      the bench's INDEX_DIR and CORPUS_DIR, PORT/HOST on 127.0.0.1 and an ADMIN_TOKEN (for step 5)
 *      set: rate limit, LLM provider, embedder, MAX_IN_FLIGHT, logging are the defaults (or what your
 *      environment sets: the report lists it);
 *   4. autocannon on POST /v1/search and POST /v1/ask with the dev questions in rotation, at 1, 16
 *      and 64 connections for BENCH_DURATION seconds each (default 8): req/s and p50/p95/p99 of the
 *      accepted (2xx) responses, the 503 OVERLOADED responses shed on purpose (and the server's
 *      count of them by reason, from /metrics), any other non-2xx (must be 0); between steps the
 *      bench waits for the server's CPU to go quiet (requests autocannon abandoned are still being
 *      computed); the server's VmRSS/VmHWM idle after warm-up and at the peak through the load;
 *   5. a forced re-index while POST /v1/search runs at 16 connections (bench/reindex.ts);
 *   6. every measure against its target (bench/targets.ts), pass or fail.
 *
 * Writes reports/bench-<timestamp>.json and reports/bench-latest.json. `npm run bench -- --scale 10k,100k`
 * measures how cost grows with the corpus instead (bench/scale.ts).
 * Environment: BENCH_DURATION (seconds per load step), BENCH_CONNECTIONS (e.g. "1,16,64"),
 * BENCH_SKIP_BASELINE=1, and the service's own variables (passed on to the children as they are).
 * Exit code 1 when a step failed, the server died or logged an error, or the load saw connection
 * errors, timeouts or non-2xx responses other than shed 503 OVERLOADED. Missed targets only print.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, PROJECT_ROOT, SETTING_NAMES } from "../src/config/index.js";
import { loadCorpusEntries } from "../src/corpus/catalog.js";
import { loadEvalSet } from "../src/eval/dataset.js";
import { textTable, timestamp } from "../src/eval/report/index.js";
import { queryEmbeddingCost, type EmbeddingCost } from "./embedding.js";
import { BENCH_TOKEN, reindexWhileLoaded, type ReindexUnderLoad } from "./reindex.js";
import { freePort, killGroup, loadEndpoint, mb, measureNode, procMemory, sampleRss, shedByReason, waitQuiet, waitReady, type LoadResult, type Measured, type ProcMemory } from "./lib.js";
import { evaluateTargets, type Target } from "./targets.js";

const QUESTION_SETS = ["../shared/eval/dev.jsonl", "../shared/eval/dev-rlhf-summarize.jsonl"].map((f) => path.resolve(PROJECT_ROOT, f));
const INGEST_TIMEOUT_MS = 20 * 60_000;
/** The settings the bench gives the server; everything else is the user's default. */
const BENCH_SETS = new Set(["INDEX_DIR", "CORPUS_DIR", "PORT", "HOST", "ADMIN_TOKEN"]);

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

/** Service settings taken from the environment rather than their defaults (secrets masked). */
function settingsFromEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = process.env[name];
    if (value === undefined || BENCH_SETS.has(name)) continue;
    out[name] = /KEY|TOKEN/.test(name) ? "(set)" : value;
  }
  return out;
}

/** Log lines at level error or fatal (pino: 50, 60) in the server's JSON log. */
function errorLines(log: string): string[] {
  return log.split("\n").filter((l) => /"level":(5|6)0\b/.test(l));
}

async function main(): Promise<number> {
  // npm run bench -- --scale 10k,100k: how cost grows with the corpus (bench/scale.ts), instead of the above.
  if (process.argv.includes("--scale")) {
    await (await import("./scale.js")).runScale(process.argv.slice(2));
    return 0;
  }
  const duration = Number(process.env.BENCH_DURATION ?? 8);
  if (!Number.isFinite(duration) || duration <= 0 || duration > 600) throw new Error(`BENCH_DURATION must be 1..600 seconds (got ${process.env.BENCH_DURATION})`);
  const connectionLevels = (process.env.BENCH_CONNECTIONS ?? "1,16,64").split(",").map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
  if (connectionLevels.length === 0) throw new Error(`BENCH_CONNECTIONS must list connection counts, e.g. "1,16,64" (got ${process.env.BENCH_CONNECTIONS})`);
  const skipBaseline = /^(1|true|yes)$/i.test(process.env.BENCH_SKIP_BASELINE ?? "");
  const config = loadConfig();
  const entries = await loadCorpusEntries(config);
  const present = entries.filter((e) => existsSync(path.join(config.corpusDir, e.file)));
  if (present.length === 0) throw new Error(`no documents in ${config.corpusDir}: run \`npm run corpus:fetch -- --from ../shared/corpus\` first`);
  const missingSets = QUESTION_SETS.filter((f) => !existsSync(f));
  if (missingSets.length) throw new Error(`question sets not found: ${missingSets.join(", ")} (the bench needs ../shared/eval beside the project)`);
  const questions = (await Promise.all(QUESTION_SETS.map(loadEvalSet))).flat().map((i) => i.question);

  const problems: string[] = [];
  const loadAverageAtStart = os.loadavg();
  const work = await mkdtemp(path.join(os.tmpdir(), "llmops-bench-"));
  const indexDir = path.join(work, "index");
  const childEnv: NodeJS.ProcessEnv = { ...process.env, INDEX_DIR: indexDir, CORPUS_DIR: config.corpusDir };
  const fromEnvironment = settingsFromEnvironment();
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const load: (LoadResult & { shedByReason: Record<string, number> })[] = [];
  const memory: Record<string, ProcMemory> = {};
  const peakRssDuringLoad: Record<string, number | null> = {};
  let ours: StepOutcome | undefined;
  let reingest: StepOutcome | undefined;
  let embedding: EmbeddingCost[] = [];
  let reindexUnderLoad: ReindexUnderLoad | undefined;
  let baseline: (StepOutcome & { chunks?: number }) | undefined;
  let chunks: number | undefined;
  let serverSettings: { maxInFlight: number; maxEventLoopDelayMs: number; rateLimitPerMinute: number; llmProvider: string; embedder: string } | undefined;

  say(`bench: corpus ${config.corpusDir} (${present.length}/${entries.length} documents present), ${questions.length} questions, work dir ${work}`);
  say(`bench: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  if (Object.keys(fromEnvironment).length) say(`bench: settings from your environment (not the defaults): ${JSON.stringify(fromEnvironment)}`);
  try {
    // 1. cold ingest, ours, then the recipe
    say("bench: [1/5] cold ingest (ours) ...");
    const cold = await measureNode(["--import", "tsx", "src/cli/ingest.ts"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
    if (cold.exitCode !== 0) throw fail("cold ingest", cold);
    ours = outcome(cold, lastLine(cold.stdout));
    chunks = Number(/(\d+) chunks/.exec(ours.summary)?.[1] ?? NaN);
    say(`  ${ours.wallSeconds.toFixed(1)} s: ${ours.summary}`);

    if (!skipBaseline) {
      say("bench: [1/5] cold build (LangChain tutorial recipe) ...");
      const b = await measureNode(["--import", "tsx", "src/cli/baseline.ts", "--no-cache"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
      if (b.exitCode !== 0) {
        problems.push(fail("baseline build", b).message);
      } else {
        const info = JSON.parse(lastLine(b.stdout)) as { chunks: number; maxRssKb: number };
        baseline = { ...outcome(b, `${info.chunks} chunks`), chunks: info.chunks };
        if (baseline.maxRssKb === null) baseline.maxRssKb = info.maxRssKb;
        say(`  ${baseline.wallSeconds.toFixed(1)} s: ${baseline.summary}`);
      }
    }

    // 2. re-ingest, nothing changed
    say("bench: [2/5] re-ingest (nothing changed) ...");
    const again = await measureNode(["--import", "tsx", "src/cli/ingest.ts"], { cwd: PROJECT_ROOT, env: childEnv, timeoutMs: INGEST_TIMEOUT_MS });
    if (again.exitCode !== 0) throw fail("re-ingest", again);
    reingest = outcome(again, lastLine(again.stdout));
    if (!/up to date/.test(reingest.summary)) problems.push(`re-ingest rebuilt the index although nothing changed: ${reingest.summary}`);
    say(`  ${reingest.wallSeconds.toFixed(1)} s: ${reingest.summary}`);

    // 2b. what a query's embedding costs: the default embedder beside the bundled encoder
    say("bench: [2/5] query embedding (default embedder, bundled encoder) ...");
    embedding = await queryEmbeddingCost(indexDir, questions, !skipBaseline);
    for (const e of embedding) say(`  ${e.embedder}: p50 ${e.p50Ms} ms, p95 ${e.p95Ms} ms a query`);

    // 3. the server, as npm start runs it
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serverEnv: NodeJS.ProcessEnv = { ...childEnv, PORT: String(port), HOST: "127.0.0.1", ADMIN_TOKEN: BENCH_TOKEN };
    const effective = loadConfig(serverEnv);
    serverSettings = { maxInFlight: effective.http.maxInFlight, maxEventLoopDelayMs: effective.http.maxEventLoopDelayMs, rateLimitPerMinute: effective.http.rateLimitPerMinute, llmProvider: effective.llm.provider, embedder: effective.embedder.kind };
    say(`bench: [3/5] server on ${url} (src/cli/start.ts: ${JSON.stringify(serverSettings)}) ...`);
    const logFile = path.join(work, "server.log");
    const logFd = openSync(logFile, "w");
    const server = spawn(process.execPath, ["--import", "tsx", "src/cli/start.ts"], { cwd: PROJECT_ROOT, env: serverEnv, stdio: ["ignore", logFd, "pipe"], detached: true });
    closeSync(logFd);
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
      // Warm-up: the first queries compile the hot paths (V8 optimises a function after many calls):
      // every question three times on each endpoint, one at a time (~2 s), before anything is measured.
      for (const q of [...questions, ...questions, ...questions]) {
        for (const [p, body] of [["/v1/search", { query: q, k: 5 }], ["/v1/ask", { question: q, cache: false }]] as const) {
          const res = await fetch(`${url}${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
          if (!res.ok) throw new Error(`warm-up POST ${p} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
        }
      }
      await waitQuiet(pid);
      memory["idle after warm-up"] = await procMemory(pid);

      // 4. load
      say("bench: [4/5] load ...");
      const endpoints = [
        { path: "/v1/search", bodies: questions.map((q) => ({ query: q, k: 5 })) },
        // cache: false: the questions rotate, so the answer cache would serve every ask after the first
        // round; this measures answering them (a cache hit skips retrieval and the reader entirely).
        { path: "/v1/ask", bodies: questions.map((q) => ({ question: q, cache: false })) },
      ];
      for (const ep of endpoints) {
        for (const connections of connectionLevels) {
          const name = `POST ${ep.path} at ${connections}`;
          const rss = sampleRss(pid);
          const shedBefore = await shedByReason(url);
          const r = await loadEndpoint({ url, path: ep.path, bodies: ep.bodies, connections, duration });
          peakRssDuringLoad[name] = await rss.stop();
          const shedAfter = await shedByReason(url);
          const byReason = Object.fromEntries(Object.entries(shedAfter).map(([k, n]) => [k, n - (shedBefore[k] ?? 0)]).filter(([, n]) => Number(n) > 0));
          load.push({ ...r, shedByReason: byReason });
          const other = Object.entries(r.other).map(([k, n]) => `${n} × ${k}`).join(", ");
          say(`  ${name} connection(s): ${r.acceptedRps} accepted req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.shed} shed ${JSON.stringify(byReason)}${other ? `, ${other}` : ""}`);
          if (r.errors || r.timeouts || r.otherCount) problems.push(`${name} connections: ${r.errors} connection errors, ${r.timeouts} timeouts, other non-2xx: ${other || "none"}`);
          const overCount = byReason.in_flight ?? 0;
          if (overCount && connections < serverSettings.maxInFlight)
            problems.push(`${name} connections: ${overCount} requests shed for MAX_IN_FLIGHT=${serverSettings.maxInFlight} with fewer connections than that (the in-flight count leaks)`);
          if (exited) throw new Error(`the server died during the load: ${lastLine(serverErr)}`);
          // Requests autocannon abandoned when it stopped are still being computed: let them finish.
          await waitQuiet(pid);
        }
      }
      memory["after the load"] = await procMemory(pid);

      // 5. re-index (forced: every document parsed again) under search load, 16 connections.
      say("bench: [5/5] re-index while POST /v1/search runs at 16 connections ...");
      reindexUnderLoad = await reindexWhileLoaded(url, questions);
      const r = reindexUnderLoad;
      if (r.load.errors || r.load.timeouts || r.load.otherCount || r.job.status !== "succeeded" || !r.swapped)
        problems.push(`re-index under load: job ${r.job.status}${r.job.error ? ` (${r.job.error})` : ""}, swapped ${r.swapped}, ${r.load.errors} errors, ${r.load.timeouts} timeouts, ${r.load.shed} shed, other non-2xx ${JSON.stringify(r.load.other)}`);
      memory["after the re-index"] = await procMemory(pid);
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
      const errors = errorLines(await readFile(logFile, "utf8").catch(() => ""));
      if (errors.length) problems.push(`the server logged ${errors.length} error(s), the first: ${errors[0]!.slice(0, 500)}`);
    }
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  // Report
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const idleRssKb = memory["idle after warm-up"]?.vmRssKb ?? null;
  const peakRssUnderLoadKb = memory["after the load"]?.vmHwmKb ?? null;
  const targets: Target[] = evaluateTargets({
    coldIngestRatio: ratio(ours?.wallSeconds, baseline?.wallSeconds),
    reingestSeconds: reingest?.wallSeconds ?? null,
    queryEmbeddingMs: embedding[0]?.p50Ms ?? null,
    load,
    idleRssKb,
    peakRssUnderLoadKb,
  });
  const report = {
    createdAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "", memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, loadAverageAtStart, loadAverageAtEnd: os.loadavg() },
    settings: {
      durationSeconds: duration,
      connections: connectionLevels,
      corpusDir: config.corpusDir,
      documents: present.length,
      chunks: chunks ?? null,
      questions: questions.length,
      server: serverSettings ?? null,
      /** Service settings from the environment instead of their defaults (the bench's own INDEX_DIR, CORPUS_DIR, PORT, HOST, ADMIN_TOKEN aside). */
      fromEnvironment,
    },
    ingest: {
      ours: ours ?? null,
      baseline: baseline ?? null,
      /** ours / baseline: below 1 means ours is faster / smaller. */
      ratio: { wallTime: ratio(ours?.wallSeconds, baseline?.wallSeconds), peakRss: ratio(ours?.maxRssKb, baseline?.maxRssKb) },
    },
    reingest: reingest ?? null,
    queryEmbedding: embedding,
    load,
    serverMemory: memory,
    peakRssDuringLoad,
    reindexUnderLoad: reindexUnderLoad ?? null,
    targets,
    problems,
  };
  const dir = path.join(PROJECT_ROOT, "reports");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `bench-${timestamp(new Date(report.createdAt))}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(file, json);
  await writeFile(path.join(dir, "bench-latest.json"), json);

  const ms = (x: number | null) => (x === null ? "–" : `${x} ms`);
  const out: string[] = [];
  out.push(`server: src/cli/start.ts, ${serverSettings ? `MAX_IN_FLIGHT ${serverSettings.maxInFlight}, MAX_EVENT_LOOP_DELAY_MS ${serverSettings.maxEventLoopDelayMs}, RATE_LIMIT_PER_MINUTE ${serverSettings.rateLimitPerMinute}, LLM ${serverSettings.llmProvider}, embedder ${serverSettings.embedder}` : "not started"}; ${Object.keys(fromEnvironment).length ? `from your environment: ${JSON.stringify(fromEnvironment)}` : "every other setting at its default"}`);
  out.push("\ningest (cold, full corpus)");
  out.push(
    textTable(
      ["", "wall time", "peak RSS", "chunks"],
      [
        ["ours (src/cli/ingest.ts)", ours ? `${ours.wallSeconds.toFixed(1)} s` : "failed", mb(ours?.maxRssKb), String(chunks ?? "–")],
        ["LangChain tutorial recipe", baseline ? `${baseline.wallSeconds.toFixed(1)} s` : skipBaseline ? "skipped" : "failed", mb(baseline?.maxRssKb), String(baseline?.chunks ?? "–")],
        ["ratio ours/recipe", report.ingest.ratio.wallTime === null ? "–" : `${report.ingest.ratio.wallTime}x`, report.ingest.ratio.peakRss === null ? "–" : `${report.ingest.ratio.peakRss}x`, ""],
        ["re-ingest, nothing changed", reingest ? `${reingest.wallSeconds.toFixed(1)} s` : "failed", mb(reingest?.maxRssKb), ""],
      ],
    ),
  );
  out.push(`(peak RSS measured with ${ours?.rssSource ?? "–"}; child processes include Node + tsx start-up)`);
  if (embedding.length) {
    out.push("\nquery embedding (the dev questions, 3 rounds, in the bench process)");
    out.push(textTable(["embedder", "p50", "p95"], embedding.map((e) => [e.embedder, `${e.p50Ms} ms`, `${e.p95Ms} ms`])));
  }
  if (load.length) {
    out.push(`\nload (autocannon, ${duration} s per step, loopback; latency of accepted 2xx responses only)`);
    out.push(
      textTable(
        ["endpoint", "conns", "accepted req/s", "p50", "p95", "p99", "accepted", "shed 503 (server: in flight / loop delay)", "other non-2xx", "errors", "peak VmRSS"],
        load.map((r) => [
          r.endpoint,
          String(r.connections),
          r.acceptedRps.toFixed(1),
          ms(r.p50),
          ms(r.p95),
          ms(r.p99),
          String(r.accepted),
          `${r.shed} (${r.shedByReason.in_flight ?? 0} / ${r.shedByReason.event_loop_delay ?? 0})`,
          String(r.otherCount),
          String(r.errors + r.timeouts),
          mb(peakRssDuringLoad[`${r.endpoint} at ${r.connections}`]),
        ]),
      ),
    );
  }
  if (Object.keys(memory).length) {
    out.push("\nserver memory (/proc/<pid>/status)");
    out.push(textTable(["when", "VmRSS", "VmHWM (peak so far)"], Object.entries(memory).map(([k, m]) => [k, mb(m.vmRssKb), mb(m.vmHwmKb)])));
  }
  if (reindexUnderLoad) {
    const r = reindexUnderLoad;
    out.push(`\nre-index (forced) under POST /v1/search load, 16 connections`);
    out.push(
      textTable(
        ["job", "job time", "accepted", "req/s", "p50", "p99", "shed", "other non-2xx", "errors", "index swapped"],
        [[r.job.status, r.job.seconds === null ? "–" : `${r.job.seconds.toFixed(1)} s`, String(r.load.accepted), r.load.acceptedRps.toFixed(1), ms(r.load.p50), ms(r.load.p99), String(r.load.shed), String(r.load.otherCount), String(r.load.errors + r.load.timeouts), r.swapped ? "yes" : "NO"]],
      ),
    );
  }
  out.push("\ntargets");
  out.push(
    textTable(
      ["measure", "value", "target", "result"],
      targets.map((t) => [t.measure, t.value === null ? "not measured" : `${t.value} ${t.unit}`, `${t.op === "<=" ? "≤" : "≥"} ${t.limit} ${t.unit}`, t.pass === null ? "–" : t.pass ? "pass" : "FAIL"]),
    ),
  );
  const passed = targets.filter((t) => t.pass).length;
  out.push(`${passed} of ${targets.length} targets met (missed targets do not fail the bench; errors do)`);
  out.push(problems.length ? `\nPROBLEMS:\n${problems.map((p) => `  ✗ ${p}`).join("\n")}` : "\nno errors: every response was accepted or shed with 503 OVERLOADED");
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
