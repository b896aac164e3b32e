/**
 * Errors a store raises through the port, whatever it is backed by. The service turns them into the
 * catalogue's codes (STORE_UNAVAILABLE, REINDEX_RUNNING); the store itself knows nothing of HTTP.
 */

/** The current generation is missing or fails its checks (schema version, embedder, integrity). */
export class IndexLoadError extends Error {
  constructor(
    public readonly code: "INDEX_MISSING" | "INDEX_INVALID",
    message: string,
  ) {
    super(message);
    this.name = "IndexLoadError";
  }
}

/** The store's backend (the database) cannot be reached, timed out, or has no free connection. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/** The database's schema is newer than this build knows: the process must not touch it. */
export class SchemaTooNewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaTooNewError";
  }
}

/** A job was started while another one runs (in this process or, with a shared job store, any replica). */
export class JobConflictError extends Error {
  constructor(public readonly running: string) {
    super(`re-index job ${running} is still running; wait for it (GET /v1/admin/reindex/${running})`);
    this.name = "JobConflictError";
  }
}
