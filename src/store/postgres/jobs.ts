/**
 * Jobs as rows (migrations/002_jobs.sql): any replica reads a job's status and progress, a restart
 * keeps them, and the unique index on the running job makes a start on a second replica fail with
 * REINDEX_RUNNING, so a re-index runs exactly once. The worker's heartbeat is each update; a running
 * job silent past the stale limit is marked failed by reapStale (run at start and periodically).
 */
import { jobConflict } from "../errors.js";
import type { JobRecord, JobStore } from "../types.js";
import type { Database } from "./db.js";

interface JobRow {
  id: string;
  kind: string;
  status: JobRecord["status"];
  params: Record<string, unknown>;
  progress: unknown;
  result: unknown;
  error: string | null;
  owner: string;
  started_at: Date;
  finished_at: Date | null;
}

const COLUMNS = "id, kind, status, params, progress, result, error, owner, started_at, finished_at";

function toRecord(r: JobRow): JobRecord {
  return {
    jobId: r.id,
    kind: r.kind,
    status: r.status,
    startedAt: r.started_at.toISOString(),
    ...(r.finished_at ? { finishedAt: r.finished_at.toISOString() } : {}),
    params: r.params,
    progress: r.progress,
    ...(r.result !== null ? { result: r.result } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    owner: r.owner,
  };
}

export class PostgresJobStore implements JobStore {
  readonly durable = true;

  constructor(private readonly db: Database) {}

  async create(job: JobRecord): Promise<void> {
    try {
      await this.db.query("INSERT INTO jobs (id, kind, status, params, progress, owner, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
        job.jobId,
        job.kind,
        job.status,
        job.params ?? {},
        JSON.stringify(job.progress ?? {}),
        job.owner ?? this.db.owner,
        job.startedAt,
      ]);
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === "23505") {
        const running = await this.running();
        throw jobConflict(running?.jobId ?? "(another)");
      }
      throw err;
    }
  }

  async update(job: JobRecord): Promise<void> {
    // Heartbeats and progress: on the background pool, so search load cannot make a live job look dead.
    await this.db.backgroundQuery(
      "UPDATE jobs SET status = $2, progress = $3, result = $4, error = $5, finished_at = $6, heartbeat_at = now() WHERE id = $1",
      [job.jobId, job.status, JSON.stringify(job.progress ?? {}), job.result === undefined ? null : JSON.stringify(job.result), job.error ?? null, job.finishedAt ?? null],
    );
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [jobId]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async running(): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE status = 'running'`);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async reapStale(staleMs: number): Promise<JobRecord[]> {
    const { rows } = await this.db.backgroundQuery<JobRow>(
      `UPDATE jobs SET status = 'failed', finished_at = now(),
              error = 'its worker (' || owner || ') stopped: no heartbeat for ' || round(extract(epoch FROM now() - heartbeat_at)) || ' s; start the job again'
        WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)
       RETURNING ${COLUMNS}`,
      [staleMs],
    );
    return rows.map(toRecord);
  }
}
