/**
 * The one error model. ERRORS is the closed catalogue of stable codes, each with a one-line meaning
 * (errors as data, keyed by code); AppError is the one error class, carrying a code, a message a
 * person can act on, the root error as `cause` (so logs show it) and optional `details` (data a
 * caller may use; never a stack).
 *
 * The catalogue knows nothing of HTTP: the server maps codes to statuses (src/server/errors.ts) and
 * the CLIs map them to exit codes. `audience` says who a code is for: "client" codes are answered
 * over HTTP; "operator" codes come from configuration, the corpus, ingestion and evaluation, and are
 * printed by the CLIs (should one reach HTTP, through an admin route, it is a server error).
 *
 * zod failures are formatted here, once: z.prettifyError's text, the issues as data (invalidInput).
 */
import { z } from "zod";

const client = (meaning: string) => ({ audience: "client", meaning }) as const;
const operator = (meaning: string) => ({ audience: "operator", meaning }) as const;

export const ERRORS = {
  // Requests
  VALIDATION_FAILED: client("the request (body, field or upload) does not match what the route accepts; details.issues names each problem"),
  INVALID_JSON: client("the request body is not valid JSON"),
  UNKNOWN_PROMPT_VERSION: client("no prompt template has the requested version (GET /v1/prompts lists them)"),
  UNKNOWN_DOCUMENT: client("a document id in `docs` is not in the index (GET /v1/documents lists them)"),
  UNSUPPORTED_PARAMETER: client("an OpenAI-compatible request asks for what this service cannot do (tools, n > 1, JSON output, logprobs, non-text content)"),
  URL_NOT_ALLOWED: client("a document URL is refused: not http(s), with credentials, or on a loopback, private, link-local or metadata address (ALLOWED_FETCH_HOSTS lists exceptions)"),
  UNAUTHORIZED: client("an admin route was called without a Bearer token"),
  FORBIDDEN: client("the admin token is wrong"),
  ADMIN_DISABLED: client("admin routes are off because ADMIN_TOKEN is not set"),
  NOT_FOUND: client("no such route, re-index job or document"),
  MODEL_NOT_FOUND: client("the OpenAI-compatible `model` is none of GET /v1/models"),
  UNKNOWN_ANSWER: client("feedback names an answerId this server did not give, or gave too long ago to remember (the last 10,000 since it started)"),
  REINDEX_RUNNING: client("a re-index job is running; retry when it has finished"),
  DOCUMENT_EXISTS: client("a document with that id is already in the corpus"),
  DOCUMENT_CHANGED: client("the document's file in the corpus folder is no longer the indexed one; re-index to serve it"),
  PAYLOAD_TOO_LARGE: client("the request body is over BODY_LIMIT, or the document over UPLOAD_LIMIT_MB"),
  UNSUPPORTED_MEDIA_TYPE: client("the body is not UTF-8 JSON, or the document is not PDF, markdown or HTML"),
  RANGE_NOT_SATISFIABLE: client("the requested byte range is outside the document's file"),
  INVALID_DOCUMENT: client("the document cannot be used: empty, not what its name says, or its download failed"),
  RATE_LIMITED: client("too many requests a minute from this address; retry after Retry-After seconds"),
  INTERNAL: client("an unexpected error; the server log has it under the X-Request-Id"),
  // Readiness and load
  INDEX_LOADING: client("the index has not been loaded yet (the server is starting)"),
  INDEX_MISSING: client("INDEX_DIR holds no index; build it with npm run ingest"),
  INDEX_INVALID: client("the index cannot be used: corrupt, another schema version or another embedder; rebuild it"),
  INDEX_NOT_READY: client("no index is serving, so the query cannot be answered; /readyz says why"),
  SHUTTING_DOWN: client("the server is draining requests before it stops"),
  TIMEOUT: client("the request took longer than REQUEST_TIMEOUT_MS"),
  OVERLOADED: client("the server sheds load (MAX_IN_FLIGHT, MAX_EVENT_LOOP_DELAY_MS); retry after Retry-After seconds"),
  STORE_UNAVAILABLE: client("the index store (Postgres, INDEX_STORE=postgres) cannot be reached, timed out or has no free connection; retry"),
  // Configuration, corpus and ingestion
  CONFIG_INVALID: operator("an environment variable is missing, malformed or inconsistent with another"),
  MANIFEST_INVALID: operator("the corpus manifest cannot be read or does not match its schema"),
  CORPUS_LOCK_INVALID: operator("the corpus folder's editions.lock.json cannot be read or does not match its schema"),
  DOCUMENT_UNREADABLE: operator("a corpus document cannot be loaded; details name the file and the reason"),
  NOTHING_TO_INDEX: operator("no document was present and readable, so no index was written"),
  SCHEMA_TOO_NEW: operator("the database schema was migrated by a newer build than this one; upgrade the code, never downgrade the schema"),
  // Evaluation and command lines
  EVAL_SET_INVALID: operator("a question set cannot be read or has bad lines; details list each"),
  EVAL_SETUP: operator("an evaluation cannot start: no question set or no index"),
  USAGE: operator("a command line argument is unknown or malformed"),
} as const;

export type ErrorCode = keyof typeof ERRORS;
/** Codes answered over HTTP. */
export type ClientErrorCode = { [C in ErrorCode]: (typeof ERRORS)[C]["audience"] extends "client" ? C : never }[ErrorCode];
/** Codes of the tools (CLIs, jobs): a client never gets one on purpose. */
export type OperatorErrorCode = Exclude<ErrorCode, ClientErrorCode>;
/** Why no index serves (readiness). */
export type ReadinessCode = "INDEX_LOADING" | "INDEX_MISSING" | "INDEX_INVALID" | "STORE_UNAVAILABLE";

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** One problem in some input: its dotted path ("" for the whole input) and what is wrong. */
export interface Issue {
  path: string;
  message: string;
}

/** The details a code carries, where callers rely on them; any other code may carry a plain record. */
export interface ErrorDetailsByCode {
  VALIDATION_FAILED: { issues?: Issue[] };
  UNKNOWN_DOCUMENT: { unknown: string[] };
  UNKNOWN_PROMPT_VERSION: { version: string; available: string[] };
  REINDEX_RUNNING: { jobId?: string };
  INDEX_NOT_READY: { reason: ReadinessCode };
  CONFIG_INVALID: { issues: Issue[] };
  MANIFEST_INVALID: { file: string; issues?: Issue[] };
  CORPUS_LOCK_INVALID: { file: string; issues?: Issue[] };
  DOCUMENT_UNREADABLE: { file: string; reason: string };
  NOTHING_TO_INDEX: { documents: number; skipped: Array<{ id: string; file: string; reason: string }>; missing: Array<{ id: string; file: string }> };
  EVAL_SET_INVALID: { file: string; issues: Array<Issue & { line?: number }> };
}

export type ErrorDetails<C extends ErrorCode> = C extends keyof ErrorDetailsByCode ? ErrorDetailsByCode[C] : Record<string, unknown>;

export interface AppErrorOptions<C extends ErrorCode> {
  /** The error this one explains (kept for the logs; never sent to a client). */
  cause?: unknown;
  details?: ErrorDetails<C>;
}

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = "AppError";
  readonly code: C;
  readonly details: ErrorDetails<C> | undefined;

  constructor(code: C, message: string, opts: AppErrorOptions<C> = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
  }
}

/** Whether `err` is an AppError (with one of `codes`, when given); narrows its code and details. */
export function isAppError<C extends ErrorCode = ErrorCode>(err: unknown, ...codes: C[]): err is AppError<C> {
  return err instanceof AppError && (codes.length === 0 || (codes as ErrorCode[]).includes(err.code));
}

// ---------------------------------------------------------------------------------------------
// zod issues: the one place they are turned into text and data.

type IssueLike = { readonly message: string; readonly path?: readonly PropertyKey[] | undefined };

/** A problem found outside a schema (a cross-field check, JSON that does not parse), as a zod issue. */
export function issue(path: string | readonly PropertyKey[], message: string): z.core.$ZodIssue {
  return { code: "custom", path: typeof path === "string" ? (path ? [path] : []) : [...path], message, input: undefined };
}

/** The issues as text: z.prettifyError's "✖ message / → at path" lines. */
export function prettifyIssues(issues: z.ZodError | readonly IssueLike[]): string {
  const list = issues instanceof z.ZodError ? issues.issues : issues;
  return z.prettifyError({ issues: list.map((i) => ({ message: i.message, ...(i.path?.length ? { path: i.path } : {}) })) });
}

/** The issues as data: `{path, message}` with the dotted path z.prettifyError shows. */
export function issueList(issues: z.ZodError | readonly IssueLike[]): Issue[] {
  const list = issues instanceof z.ZodError ? issues.issues : issues;
  return list.map((i) => ({ path: i.path?.length ? z.core.toDotPath(i.path as PropertyKey[]) : "", message: i.message }));
}

/**
 * The AppError for input that failed its checks: "<subject>:" and the prettified issues below it,
 * the issues in details (with any `extra` details), the ZodError (when there is one) as cause.
 */
export function invalidInput<C extends ErrorCode>(code: C, subject: string, issues: z.ZodError | readonly IssueLike[], extra: Record<string, unknown> = {}): AppError<C> {
  const text = prettifyIssues(issues).replace(/^/gm, "  ");
  const details = { ...extra, issues: issueList(issues) } as unknown as ErrorDetails<C>;
  return new AppError(code, `${subject}:\n${text}`, { details, ...(issues instanceof z.ZodError ? { cause: issues } : {}) });
}
