/**
 * Re-index jobs: at most one at a time, run in this process while the live index keeps serving;
 * the new index is swapped in only after it was written completely.
 */
import { randomUUID } from "node:crypto";
import { AppError } from "../errors.js";
import type { IngestEvent, IngestResult } from "../ingest/pipeline.js";

export interface JobProgress {
  documents: number;
  documentsDone: number;
  chunks: number;
  chunksToEmbed: number;
  chunksEmbedded: number;
  phase: "queued" | "loading" | "embedding" | "writing" | "swapping" | "done";
}

export interface ReindexJob {
  jobId: string;
  status: "running" | "succeeded" | "failed";
  startedAt: string;
  finishedAt?: string;
  progress: JobProgress;
  result?: Pick<IngestResult, "documents" | "pages" | "chunks" | "embedded" | "skipped" | "missing" | "seconds" | "upToDate">;
  error?: string;
}

type Build = (onEvent: (e: IngestEvent) => void, opts: { force: boolean }) => Promise<IngestResult>;

export class Reindexer {
  private readonly jobs = new Map<string, ReindexJob>();
  private running: { job: ReindexJob; done: Promise<void> } | undefined;
  onFinish: (job: ReindexJob) => void = () => {};

  constructor(
    private readonly build: Build,
    private readonly swap: () => Promise<unknown>,
  ) {}

  get(jobId: string): ReindexJob | undefined {
    return this.jobs.get(jobId);
  }

  isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Starts a job and returns it at once; throws REINDEX_RUNNING while another runs. `force` re-parses every document. */
  start(opts: { force?: boolean } = {}): ReindexJob {
    const running = this.running?.job.jobId;
    if (running)
      throw new AppError("REINDEX_RUNNING", `re-index job ${running} is still running; wait for it (GET /v1/admin/reindex/${running})`, {
        details: { jobId: running },
      });
    const job: ReindexJob = {
      jobId: randomUUID(),
      status: "running",
      startedAt: new Date().toISOString(),
      progress: { documents: 0, documentsDone: 0, chunks: 0, chunksToEmbed: 0, chunksEmbedded: 0, phase: "queued" },
    };
    this.jobs.set(job.jobId, job);
    // run() never rejects: a failed build is recorded on the job.
    this.running = { job, done: this.run(job, opts.force ?? false) };
    return job;
  }

  /** Resolves when the running job (if any) has finished: the job's own promise, no polling. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  private async run(job: ReindexJob, force: boolean): Promise<void> {
    const p = job.progress;
    try {
      const result = await this.build((e) => {
        if (e.type === "start") Object.assign(p, { documents: e.documents, phase: "loading" });
        else if (e.type === "document") Object.assign(p, { documentsDone: p.documentsDone + 1, chunks: p.chunks + e.chunks });
        else if (e.type === "skipped" || e.type === "missing") p.documentsDone++;
        else if (e.type === "embed-start") Object.assign(p, { chunksToEmbed: e.total, phase: "embedding" });
        else if (e.type === "embed-progress") p.chunksEmbedded = e.done;
        else if (e.type === "write") p.phase = "writing";
      }, { force });
      p.phase = "swapping";
      await this.swap();
      const { documents, pages, chunks, embedded, skipped, missing, seconds, upToDate } = result;
      Object.assign(job, { status: "succeeded", result: { documents, pages, chunks, embedded, skipped, missing, seconds, upToDate } });
    } catch (err) {
      Object.assign(job, { status: "failed", error: (err as Error).message });
    } finally {
      p.phase = "done";
      job.finishedAt = new Date().toISOString();
      this.running = undefined;
      this.onFinish(job);
    }
  }
}
