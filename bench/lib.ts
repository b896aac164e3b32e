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
  /** Every response, whatever its status. */
  responses: number;
  /** 2xx responses: what users got answered. */
  accepted: number;
  acceptedRps: number;
  /** Latency of the accepted (2xx) responses only, ms. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  /** 503 OVERLOADED with a Retry-After header: load shed on purpose. */
  shed: number;
  /** Any other non-2xx response, by "status CODE" (must stay empty). */
  other: Record<string, number>;
  otherCount: number;
  /** Connection errors and timeouts (must be 0). */
  errors: number;
  timeouts: number;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

/** "status CODE" of a non-2xx response, from the `{error: {code}}` body when it has one. */
function describeStatus(status: number, body: string): string {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? `${status} ${code}` : String(status);
  } catch {
    return String(status);
  }
}

export interface RunningLoad {
  /** Ends the load early (when it was started without a duration that suits). */
  stop(): void;
  result: Promise<LoadResult>;
}

/**
 * Loads one endpoint with autocannon: `connections` concurrent connections for `duration` seconds,
 * each connection cycling through the JSON bodies in turn. Every response is classified: accepted
 * (2xx, whose latencies give the percentiles: autocannon's own summary mixes in the errors and has
 * no p95), shed (503 OVERLOADED with Retry-After), or other.
 */
export function startLoad(opts: { url: string; path: string; bodies: unknown[]; connections: number; duration: number; timeoutSeconds?: number }): RunningLoad {
  const acceptedMs: number[] = [];
  let shed = 0;
  const other: Record<string, number> = {};
  const onResponse = (status: number, body: string, _context: object, headers: Record<string, unknown>) => {
    if (status >= 200 && status < 300) return;
    const what = describeStatus(status, body);
    const retryAfter = Object.keys(headers).some((h) => h.toLowerCase() === "retry-after");
    if (what === "503 OVERLOADED" && retryAfter) {
      shed++;
      return;
    }
    const key = what === "503 OVERLOADED" ? "503 OVERLOADED without Retry-After" : what;
    other[key] = (other[key] ?? 0) + 1;
  };
  let instance!: autocannon.Instance;
  const t0 = performance.now();
  const result = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.duration,
        timeout: opts.timeoutSeconds ?? 30,
        requests: opts.bodies.map((b) => ({
          method: "POST" as const,
          path: opts.path,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(b),
          onResponse: onResponse as NonNullable<autocannon.Request["onResponse"]>,
        })),
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) acceptedMs.push(responseTime);
    });
  }).then((r): LoadResult => {
    const seconds = Math.max(0.001, (performance.now() - t0) / 1000);
    acceptedMs.sort((a, b) => a - b);
    const otherCount = Object.values(other).reduce((a, b) => a + b, 0);
    return {
      endpoint: `POST ${opts.path}`,
      connections: opts.connections,
      durationSeconds: Math.round(seconds * 10) / 10,
      responses: acceptedMs.length + shed + otherCount,
      accepted: acceptedMs.length,
      acceptedRps: Math.round((acceptedMs.length / seconds) * 10) / 10,
      p50: round1(percentile(acceptedMs, 50)),
      p95: round1(percentile(acceptedMs, 95)),
      p99: round1(percentile(acceptedMs, 99)),
      max: round1(acceptedMs.length ? acceptedMs[acceptedMs.length - 1]! : null),
      shed,
      other,
      otherCount,
      errors: r.errors,
      timeouts: r.timeouts,
    };
  });
  return { stop: () => instance.stop(), result };
}

export function loadEndpoint(opts: Parameters<typeof startLoad>[0]): Promise<LoadResult> {
  return startLoad(opts).result;
}

/** Linux's USER_HZ (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's CPU times: 100 on every common kernel. */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null when unreadable. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * Waits until a process is quiet: under `maxCores` of CPU over half a second. Requests a load
 * generator abandoned when it stopped are still being computed for a while; the next step must
 * not pay for them.
 */
export async function waitQuiet(pid: number, timeoutMs = 60_000, maxCores = 0.2): Promise<number> {
  const t0 = performance.now();
  let before = await cpuSeconds(pid);
  if (before === null) return 0;
  while (performance.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await cpuSeconds(pid);
    if (now === null) break;
    if ((now - before) / 0.5 < maxCores) break;
    before = now;
  }
  return Math.round(performance.now() - t0) / 1000;
}

/** Samples a process's VmRSS every `everyMs` until stopped; the largest value seen, kB. */
export function sampleRss(pid: number, everyMs = 200): { stop(): Promise<number | null> } {
  let max: number | null = null;
  const read = async () => {
    const { vmRssKb } = await procMemory(pid);
    if (vmRssKb !== null && (max === null || vmRssKb > max)) max = vmRssKb;
  };
  const timer = setInterval(() => void read(), everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await read();
      return max;
    },
  };
}

/** The server's shed requests so far, by reason, summed over routes (from GET /metrics: http_requests_shed_total). */
export async function shedByReason(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^http_requests_shed_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)$/gm)) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
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
