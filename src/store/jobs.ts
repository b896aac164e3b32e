/** Jobs in the process's memory: the job store of the file store (one process serves one index folder). */
import { jobConflict } from "./errors.js";
import type { JobRecord, JobStore } from "./types.js";

export class MemoryJobStore implements JobStore {
  readonly durable = false;
  private readonly jobs = new Map<string, JobRecord>();

  async create(job: JobRecord): Promise<void> {
    const running = await this.running();
    if (running) throw jobConflict(running.jobId);
    this.jobs.set(job.jobId, job);
  }

  async update(job: JobRecord): Promise<void> {
    this.jobs.set(job.jobId, job);
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    return this.jobs.get(jobId);
  }

  async running(): Promise<JobRecord | undefined> {
    for (const job of this.jobs.values()) if (job.status === "running") return job;
    return undefined;
  }

  /** A job in memory dies with its process: nothing is ever stale here. */
  async reapStale(): Promise<JobRecord[]> {
    return [];
  }
}
