/**
 * Re-index under load: POST /v1/search at 16 connections for as long as a forced re-index job runs
 * (every document parsed and chunked again, vectors reused), then a second more; counts the requests
 * served and failed, and checks that the new index generation was swapped in.
 */
import autocannon from "autocannon";

export const BENCH_TOKEN = "bench-admin-token";

export interface ReindexUnderLoad {
  load: { requests: number; errors: number; timeouts: number; non2xx: number; rps: number; p50: number | null; p99: number | null; seconds: number };
  job: { status: string; seconds: number | null; error?: string };
  swapped: boolean;
  generations: { before: string; after: string };
}

const auth = { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" };

export async function reindexWhileLoaded(url: string, questions: string[]): Promise<ReindexUnderLoad> {
  const generation = async () => ((await (await fetch(`${url}/readyz`)).json()) as { generation: string }).generation;
  const before = await generation();
  const times: number[] = [];
  const t0 = performance.now();
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: 16,
        duration: 600,
        timeout: 30,
        requests: questions.map((q) => ({ method: "POST" as const, path: "/v1/search", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: q, k: 5 }) })),
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_c, _s, _b, ms) => times.push(ms));
  });
  await new Promise((r) => setTimeout(r, 1000));
  const started = await fetch(`${url}/v1/admin/reindex`, { method: "POST", headers: auth, body: JSON.stringify({ force: true }) });
  const { jobId } = (await started.json()) as { jobId: string };
  let job: { status: string; startedAt?: string; finishedAt?: string; error?: string } = { status: "running" };
  const deadline = Date.now() + 10 * 60_000;
  while (job.status === "running" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    job = (await (await fetch(`${url}/v1/admin/reindex/${jobId}`, { headers: auth })).json()) as typeof job;
  }
  await new Promise((r) => setTimeout(r, 1000));
  instance!.stop();
  const result = await finished;
  const after = await generation();
  times.sort((a, b) => a - b);
  const pct = (p: number) => (times.length ? Math.round(times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]! * 10) / 10 : null);
  const seconds = (performance.now() - t0) / 1000;
  return {
    load: { requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, rps: Math.round((result.requests.total / seconds) * 10) / 10, p50: pct(50), p99: pct(99), seconds: Math.round(seconds * 10) / 10 },
    job: {
      status: job.status,
      seconds: job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : null,
      ...(job.error ? { error: job.error } : {}),
    },
    swapped: before !== after,
    generations: { before, after },
  };
}
