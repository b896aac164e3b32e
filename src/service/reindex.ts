/**
 * Re-index jobs: at most one at a time, run in this process while the live index keeps serving;
 * the new index is swapped in only after it was written completely.
 *
 * Jobs are kept in a job store (the store port): in memory with the file store; with Postgres, as rows
 * every replica reads, so that a job started on any replica runs once (the store refuses a second
 * running job), its status survives restarts, and a job whose worker died (no heartbeat) is marked
 * failed by whichever replica notices first, at its start or while it runs.
 */
import { randomUUID } from "node:crypto";
import type { IngestEvent, IngestResult } from "../ingest/pipeline.js";
import { jobConflict, MemoryJobStore, type JobRecord, type JobStore } from "../store/index.js";

export interface JobProgress {
  documents: number;
  documentsDone: number;
  chunks: number;
  chunksToEmbed: number;
  chunksEmbedded: number;
  phase: "queued" | "loading" | "embedding" | "writing" | "swapping" | "done";
}

export type JobKind = "reindex" | "upload" | "remove";

export interface ReindexJob extends JobRecord<JobProgress, Pick<IngestResult, "documents" | "pages" | "chunks" | "embedded" | "skipped" | "missing" | "seconds" | "upToDate">> {
  kind: JobKind;
}

type Build = (onEvent: (e: IngestEvent) => void, opts: { force: boolean }) => Promise<IngestResult>;

export interface ReindexerOptions {
  /** A durable store's heartbeat: progress is saved at most this often, and a job silent for 5 of them is stale. */
  heartbeatMs?: number;
  onReaped?: (jobs: ReindexJob[]) => void;
}

/** The shortest silence after which a running job's worker is taken for dead (see staleMs). */
export const STALE_MIN_MS = 30_000;

export class Reindexer {
  private running: { job: ReindexJob; done: Promise<void> } | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  onFinish: (job: ReindexJob) => void = () => {};

  constructor(
    private readonly build: Build,
    private readonly swap: () => Promise<unknown>,
    private readonly jobs: JobStore = new MemoryJobStore(),
    private readonly opts: ReindexerOptions = {},
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 2000;
  }

  /** A job of this process (its live object) or, from the job store, of any process sharing it. */
  async get(jobId: string): Promise<ReindexJob | undefined> {
    if (this.running?.job.jobId === jobId) return this.running.job;
    return (await this.jobs.get(jobId)) as ReindexJob | undefined;
  }

  /** Whether a job runs here or (with a shared job store) on another replica. */
  async isRunning(): Promise<boolean> {
    return this.running !== undefined || (await this.jobs.running()) !== undefined;
  }

  /** Starts a job and returns it; throws REINDEX_RUNNING while another runs here or anywhere the job store is shared. */
  async start(opts: { force?: boolean; kind?: JobKind; document?: string } = {}): Promise<ReindexJob> {
    if (this.running) throw jobConflict(this.running.job.jobId);
    const job: ReindexJob = {
      jobId: randomUUID(),
      kind: opts.kind ?? "reindex",
      status: "running",
      startedAt: new Date().toISOString(),
      params: { force: opts.force ?? false, ...(opts.document ? { document: opts.document } : {}) },
      progress: { documents: 0, documentsDone: 0, chunks: 0, chunksToEmbed: 0, chunksEmbedded: 0, phase: "queued" },
    };
    // The store refuses a second running job (a concurrent start here, or on another replica).
    await this.jobs.create(job);
    // run() never rejects: a failed build is recorded on the job.
    this.running = { job, done: this.run(job, opts.force ?? false) };
    return job;
  }

  /** Resolves when the running job (if any) has finished: the job's own promise, no polling. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /**
   * How long a running job may be silent before it counts as dead: 5 heartbeats, and at least
   * STALE_MIN_MS, because a worker parsing a large PDF blocks its event loop (and its heartbeat) for
   * seconds at a time on a busy machine.
   */
  get staleMs(): number {
    return Math.max(this.heartbeatMs * 5, STALE_MIN_MS);
  }

  /** Marks failed the jobs whose worker died; with a durable store, again every 5 heartbeats. */
  async startReaping(): Promise<void> {
    if (!this.jobs.durable) return;
    const reap = async () => {
      const reaped = (await this.jobs.reapStale(this.staleMs).catch(() => [])) as ReindexJob[];
      if (reaped.length) this.opts.onReaped?.(reaped);
    };
    await reap();
    this.reaper ??= setInterval(() => void reap(), this.heartbeatMs * 5).unref();
  }

  stopReaping(): void {
    clearInterval(this.reaper);
    this.reaper = undefined;
  }

  private async run(job: ReindexJob, force: boolean): Promise<void> {
    const p = job.progress;
    // A durable store gets the progress at most once a heartbeat, and a heartbeat while nothing moves.
    let saved = 0;
    const save = () => {
      saved = Date.now();
      void this.jobs.update(job).catch(() => {});
    };
    const heartbeat = this.jobs.durable ? setInterval(save, this.heartbeatMs).unref() : undefined;
    try {
      const result = await this.build((e) => {
        if (e.type === "start") Object.assign(p, { documents: e.documents, phase: "loading" });
        else if (e.type === "document") Object.assign(p, { documentsDone: p.documentsDone + 1, chunks: p.chunks + e.chunks });
        else if (e.type === "skipped" || e.type === "missing") p.documentsDone++;
        else if (e.type === "embed-start") Object.assign(p, { chunksToEmbed: e.total, phase: "embedding" });
        else if (e.type === "embed-progress") p.chunksEmbedded = e.done;
        else if (e.type === "write") p.phase = "writing";
        if (this.jobs.durable && Date.now() - saved >= this.heartbeatMs) save();
      }, { force });
      p.phase = "swapping";
      await this.swap();
      const { documents, pages, chunks, embedded, skipped, missing, seconds, upToDate } = result;
      Object.assign(job, { status: "succeeded", result: { documents, pages, chunks, embedded, skipped, missing, seconds, upToDate } });
    } catch (err) {
      Object.assign(job, { status: "failed", error: (err as Error).message });
    } finally {
      clearInterval(heartbeat);
      p.phase = "done";
      job.finishedAt = new Date().toISOString();
      await this.finishRecord(job);
      this.running = undefined;
      this.onFinish(job);
    }
  }

  /** The final status, retried for a while when the database is away (else the job is reaped as failed). */
  private async finishRecord(job: ReindexJob): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.jobs.update(job);
        return;
      } catch {
        if (!this.jobs.durable || attempt >= 10) return;
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
  }
}
