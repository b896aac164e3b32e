/** Benchmark helpers: measured child processes, free ports, /proc memory, autocannon runs. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";

export const TIME_BIN = "/usr/bin/time";

export interface Measured {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallSeconds: number;
  /** Peak resident set size of the measured process, kB (null when it could not be measured). */
  maxRssKb: number | null;
  /** How maxRssKb was measured. */
  rssSource: "time -v" | "resourceUsage" | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

let timeWorks: boolean | undefined;

/** Whether GNU time with -v is usable here. */
async function gnuTimeAvailable(): Promise<boolean> {
  if (timeWorks !== undefined) return timeWorks;
  if (!existsSync(TIME_BIN)) return (timeWorks = false);
  timeWorks = await new Promise<boolean>((resolve) => {
    const p = spawn(TIME_BIN, ["-v", "true"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", () => resolve(false));
    p.on("close", (code) => resolve(code === 0 && /Maximum resident set size/.test(err)));
  });
  return timeWorks;
}

/**
 * Runs `node <args>` in the project folder and measures wall time and peak memory: with
 * /usr/bin/time -v when present, else with a preload that records process.resourceUsage().maxRSS.
 * The child runs in its own process group, killed as a group on timeout.
 */
export async function measureNode(
  nodeArgs: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; onStderrLine?: (line: string) => void },
): Promise<Measured> {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const preload = path.join(opts.cwd, "bench", "peak-rss.mjs");
  const args = ["--import", preload, ...nodeArgs];
  const useTime = await gnuTimeAvailable();
  const [cmd, argv] = useTime ? [TIME_BIN, ["-v", process.execPath, ...args]] : [process.execPath, args];

  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd: opts.cwd, env: { ...opts.env, BENCH_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => {
    const text = d.toString();
    stderr += text;
    if (opts.onStderrLine) {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) opts.onStderrLine(l);
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, opts.timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("error", () => resolve({ code: null, signal: null }));
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(timer);
  const wallSeconds = Math.round(performance.now() - t0) / 1000;

  let maxRssKb: number | null = null;
  let rssSource: Measured["rssSource"] = null;
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(stderr);
  if (useTime && m) {
    maxRssKb = Number(m[1]);
    rssSource = "time -v";
  } else {
    try {
      maxRssKb = (JSON.parse(await readFile(rssFile, "utf8")) as { maxRssKb: number }).maxRssKb;
      rssSource = "resourceUsage";
    } catch {
      // not measured
    }
  }
  await rm(rssFile, { force: true });
  // With time -v, its report follows the program's stderr: keep only the program's part.
  const programStderr = useTime ? stderr.replace(/\n?\s*Command being timed:[\s\S]*$/, "") : stderr;
  return { exitCode: code, signal, wallSeconds, maxRssKb, rssSource, stdout, stderr: programStderr, timedOut };
}

/** Kills a child started with detached:true together with its descendants (its own process group). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ProcMemory {
  vmRssKb: number | null;
  vmHwmKb: number | null;
}

/** VmRSS (resident now) and VmHWM (peak resident) of a process, from /proc/<pid>/status (Linux). */
export async function procMemory(pid: number): Promise<ProcMemory> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => {
      const m = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, "m").exec(status);
      return m ? Number(m[1]) : null;
    };
    return { vmRssKb: field("VmRSS"), vmHwmKb: field("VmHWM") };
  } catch {
    return { vmRssKb: null, vmHwmKb: null };
  }
}

export interface LoadResult {
  endpoint: string;
  connections: number;
  durationSeconds: number;
  requests: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  errors: number;
  timeouts: number;
  non2xx: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Loads one endpoint with autocannon: `connections` concurrent connections for `duration` seconds,
 * each connection cycling through the bodies in turn. Latency percentiles come from every response's
 * time (autocannon's own summary has no p95).
 */
export async function loadEndpoint(opts: { url: string; path: string; bodies: unknown[]; connections: number; duration: number; timeoutSeconds?: number }): Promise<LoadResult> {
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.duration,
        timeout: opts.timeoutSeconds ?? 30,
        requests: opts.bodies.map((b) => ({ method: "POST" as const, path: opts.path, headers: { "content-type": "application/json" }, body: JSON.stringify(b) })),
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  times.sort((a, b) => a - b);
  const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    endpoint: `POST ${opts.path}`,
    connections: opts.connections,
    durationSeconds: opts.duration,
    requests: result.requests.total,
    rps: Math.round((result.requests.total / Math.max(0.001, result.duration)) * 10) / 10,
    p50: round(percentile(times, 50)),
    p95: round(percentile(times, 95)),
    p99: round(percentile(times, 99)),
    max: round(times.length ? times[times.length - 1]! : null),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Polls `url` until it answers 200 or the time runs out. */
export async function waitReady(url: string, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the server exited before it was ready${last ? ` (last: ${last})` : ""}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server was not ready within ${timeoutMs} ms (last: ${last})`);
}

export const mb = (kb: number | null | undefined): string => (kb === null || kb === undefined ? "–" : `${(kb / 1024).toFixed(0)} MB`);
