/**
 * The connection to Postgres: one pg.Pool per process and database URL, bounded (PG_POOL_MAX
 * connections, PG_POOL_WAIT_MS to get one, PG_STATEMENT_TIMEOUT_MS per statement), the schema migrated
 * on first use, and every failure to reach the database turned into STORE_UNAVAILABLE so that the
 * service answers 503 STORE_UNAVAILABLE instead of 500 and recovers by itself when the database is back.
 */
import os from "node:os";
import pg from "pg";
import { isStoreUnavailable, storeUnavailable } from "../errors.js";
import type { StoreHealth } from "../types.js";
import { migrate, type MigrationReport } from "./migrate.js";

export interface PgSettings {
  databaseUrl: string;
  poolMax: number;
  poolWaitMs: number;
  statementTimeoutMs: number;
  pollMs: number;
}

/** Socket-level errors and the SQLSTATEs that mean "the server is not there (for now)". */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "57014"]);

export function isUnavailable(err: unknown): boolean {
  if (isStoreUnavailable(err)) return true;
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith("08"))) return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|Connection closed|not queryable/i.test(e.message ?? "");
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}

/**
 * Which pool a statement uses. "serve": the request path, PG_POOL_MAX connections and PG_POOL_WAIT_MS
 * to get one (then 503). "background": index writes, generation loads and job bookkeeping, on a pool
 * of their own (2 connections, a minute to get one, no statement timeout), so that search load cannot
 * starve a re-index or a replica's switch to a new generation, and a long write cannot starve search.
 */
export type Lane = "serve" | "background";

export class Database {
  readonly pool: pg.Pool;
  private backgroundPool: pg.Pool | undefined;
  readonly owner = `${os.hostname()}:${process.pid}`;
  private migrated: Promise<MigrationReport> | undefined;
  private state: StoreHealth = { available: true };
  private readonly healthListeners = new Set<(health: StoreHealth) => void>();

  constructor(readonly settings: PgSettings) {
    this.pool = new pg.Pool({
      connectionString: settings.databaseUrl,
      max: settings.poolMax,
      connectionTimeoutMillis: settings.poolWaitMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "llmops-qa",
      ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
    });
    // An idle connection the server drops emits here; without a listener it would crash the process.
    this.pool.on("error", (err) => this.failed(err));
  }

  private poolFor(lane: Lane): pg.Pool {
    if (lane === "serve") return this.pool;
    if (!this.backgroundPool) {
      this.backgroundPool = new pg.Pool({
        connectionString: this.settings.databaseUrl,
        max: 2,
        connectionTimeoutMillis: 60_000,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        application_name: "llmops-qa background",
      });
      this.backgroundPool.on("error", (err) => this.failed(err));
    }
    return this.backgroundPool;
  }

  get location(): string {
    return `postgres at ${redactUrl(this.settings.databaseUrl)}`;
  }

  health(): StoreHealth {
    return this.state;
  }

  /** Records an outcome: a failure to reach the database marks it unavailable, a success available again. */
  private set(next: StoreHealth): void {
    const changed = next.available !== this.state.available;
    this.state = next;
    if (changed) for (const l of this.healthListeners) l(next);
  }

  /** Calls back when the database becomes unreachable or reachable again (logs, readiness). */
  watchHealth(listener: (health: StoreHealth) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  succeeded(): void {
    if (!this.state.available) this.set({ available: true });
  }

  /** Turns a failure into STORE_UNAVAILABLE when it is one (and records it); other errors pass through. */
  failed(err: unknown): Error {
    if (!isUnavailable(err)) return err as Error;
    const e = err as Error & { code?: string };
    const exhausted = /timeout exceeded when trying to connect/i.test(e.message) && this.pool.totalCount >= this.settings.poolMax;
    const reason = exhausted
      ? `no free database connection within ${this.settings.poolWaitMs} ms (all PG_POOL_MAX=${this.settings.poolMax} busy); retry shortly`
      : e.code === "57014"
        ? `a database statement took longer than PG_STATEMENT_TIMEOUT_MS=${this.settings.statementTimeoutMs}`
        : `the database (${this.location}) is unreachable: ${e.message || e.code}`;
    // Pool exhaustion and a slow statement are load, not an outage: they do not make the replica unready.
    if (!exhausted && e.code !== "57014") this.set({ available: false, reason });
    return isStoreUnavailable(err) ? err : storeUnavailable(reason, err);
  }

  /** Applies pending migrations once per process (again after a failure); every query waits for it. */
  ready(): Promise<MigrationReport> {
    this.migrated ??= migrate(this.pool).catch((err) => {
      this.migrated = undefined;
      throw this.failed(err);
    });
    return this.migrated;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], lane: Lane = "serve"): Promise<pg.QueryResult<R>> {
    await this.ready();
    try {
      const r = await this.poolFor(lane).query<R>(text, values);
      this.succeeded();
      return r;
    } catch (err) {
      throw this.failed(err);
    }
  }

  /** Runs fn in a transaction on one connection; rolls back on any error. */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>, lane: Lane = "serve"): Promise<T> {
    await this.ready();
    let client: pg.PoolClient;
    try {
      client = await this.poolFor(lane).connect();
    } catch (err) {
      throw this.failed(err);
    }
    let broken: unknown;
    // pg-pool leaves a checked-out client's connection errors unhandled (they would crash the process):
    // recorded here, the running query rejects with them too.
    const onError = (err: Error) => {
      broken = err;
      this.failed(err);
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      this.succeeded();
      return out;
    } catch (err) {
      if (isUnavailable(err)) broken = err;
      else await client.query("ROLLBACK").catch((e) => (broken = e));
      throw this.failed(err);
    } finally {
      // A connection that failed is destroyed rather than handed to the next query.
      client.off("error", onError);
      client.release(broken ? (broken as Error) : undefined);
    }
  }

  /** A query on the background pool (see Lane). */
  backgroundQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.query<R>(text, values, "background");
  }

  /** A transaction on the background pool (see Lane). */
  backgroundTx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.tx(fn, "background");
  }

  async end(): Promise<void> {
    await Promise.all([this.pool.end(), this.backgroundPool?.end()]);
  }
}

/** One Database per URL in a process, shared by its stores and released when the last one closes. */
const shared = new Map<string, { db: Database; users: number }>();

export function acquireDatabase(settings: PgSettings): Database {
  let entry = shared.get(settings.databaseUrl);
  if (!entry) shared.set(settings.databaseUrl, (entry = { db: new Database(settings), users: 0 }));
  entry.users++;
  return entry.db;
}

export async function releaseDatabase(db: Database): Promise<void> {
  const entry = shared.get(db.settings.databaseUrl);
  if (!entry || entry.db !== db) return db.end();
  if (--entry.users > 0) return;
  shared.delete(db.settings.databaseUrl);
  await db.end();
}
