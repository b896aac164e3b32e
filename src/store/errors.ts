/**
 * The catalogue errors a store raises through the port, whatever backs it (src/errors.ts holds the
 * codes; the server maps them to statuses). The store knows nothing of HTTP. A missing or unusable
 * generation is INDEX_MISSING / INDEX_INVALID, raised where it is found.
 */
import { AppError, isAppError } from "../errors.js";

/** The store's backend (the database) cannot be reached, timed out, or has no free connection. */
export function storeUnavailable(message: string, cause?: unknown): AppError<"STORE_UNAVAILABLE"> {
  return new AppError("STORE_UNAVAILABLE", message, cause === undefined ? {} : { cause });
}

export const isStoreUnavailable = (err: unknown): err is AppError<"STORE_UNAVAILABLE"> => isAppError(err, "STORE_UNAVAILABLE");

/** The database's schema is newer than this build knows: the process must not touch it. */
export function schemaTooNew(message: string): AppError<"SCHEMA_TOO_NEW"> {
  return new AppError("SCHEMA_TOO_NEW", message);
}

export const isSchemaTooNew = (err: unknown): err is AppError<"SCHEMA_TOO_NEW"> => isAppError(err, "SCHEMA_TOO_NEW");

/** A job was started while another one runs (in this process or, with a shared job store, any replica). */
export function jobConflict(running: string): AppError<"REINDEX_RUNNING"> {
  return new AppError("REINDEX_RUNNING", `re-index job ${running} is still running; wait for it (GET /v1/admin/reindex/${running})`, { details: { jobId: running } });
}
