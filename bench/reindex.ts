/**
 * Re-index under load: POST /v1/search at 16 connections for as long as a forced re-index job runs
 * (every document parsed and chunked again, vectors reused), then a second more; counts the requests
 * served, shed and failed, and checks that the new index generation was swapped in.
 * The job is polled once a second: the admin routes are rate limited (RATE_LIMIT_PER_MINUTE) as they
 * are for any user, and a 429 is waited out as its Retry-After says.
 */
import { startLoad, type LoadResult } from "./lib.js";

export const BENCH_TOKEN = "bench-admin-token";
const CONNECTIONS = 16;
const POLL_MS = 1000;

export interface ReindexUnderLoad {
  load: LoadResult;
  job: { status: string; seconds: number | null; error?: string };
  swapped: boolean;
  generations: { before: string; after: string };
}

const auth = { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An admin request; a 429 is retried after its Retry-After. */
async function admin(url: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const res = await fetch(url, { ...init, headers: auth });
    if (res.status !== 429) return res;
    await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
  }
}

export async function reindexWhileLoaded(url: string, questions: string[]): Promise<ReindexUnderLoad> {
  const generation = async () => ((await (await fetch(`${url}/readyz`)).json()) as { generation: string }).generation;
  const before = await generation();
  const load = startLoad({ url, path: "/v1/search", bodies: questions.map((q) => ({ query: q, k: 5 })), connections: CONNECTIONS, duration: 600 });
  try {
    await sleep(1000);
    const started = await admin(`${url}/v1/admin/reindex`, { method: "POST", body: JSON.stringify({ force: true }) });
    if (started.status !== 202) throw new Error(`POST /v1/admin/reindex answered ${started.status}: ${(await started.text()).slice(0, 300)}`);
    const { jobId } = (await started.json()) as { jobId: string };
    let job: { status: string; startedAt?: string; finishedAt?: string; error?: string } = { status: "running" };
    const deadline = Date.now() + 10 * 60_000;
    while (job.status === "running" && Date.now() < deadline) {
      await sleep(POLL_MS);
      const res = await admin(`${url}/v1/admin/reindex/${jobId}`);
      if (res.status !== 200) throw new Error(`GET /v1/admin/reindex/${jobId} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      job = (await res.json()) as typeof job;
    }
    await sleep(1000);
    load.stop();
    const after = await generation();
    return {
      load: await load.result,
      job: {
        status: job.status,
        seconds: job.startedAt && job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000 : null,
        ...(job.error ? { error: job.error } : {}),
      },
      swapped: before !== after,
      generations: { before, after },
    };
  } finally {
    load.stop();
  }
}
