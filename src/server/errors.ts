/**
 * Errors over HTTP: the one map from code to status, and the one place an error becomes a response,
 * `{error: {code, message, details?}}` (the error handler, and the SSE `error` event of a stream that
 * had already started). AppError keeps its code; a body-parser error becomes INVALID_JSON,
 * PAYLOAD_TOO_LARGE or UNSUPPORTED_MEDIA_TYPE; anything else is 500 INTERNAL, logged with its cause,
 * never shown with its stack.
 */
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { AppError, isAppError, type ClientErrorCode, type ErrorCode, type OperatorErrorCode } from "../errors.js";

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 416 | 422 | 429 | 500 | 503;

/**
 * Total over the catalogue (TypeScript proves it): every client code has its status, and every
 * operator code (configuration, corpus, evaluation: never a client's doing) is a 500.
 */
export const HTTP_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNKNOWN_PROMPT_VERSION: 400,
  UNKNOWN_DOCUMENT: 400,
  UNSUPPORTED_PARAMETER: 400,
  URL_NOT_ALLOWED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ADMIN_DISABLED: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  UNKNOWN_ANSWER: 404,
  REINDEX_RUNNING: 409,
  DOCUMENT_EXISTS: 409,
  DOCUMENT_CHANGED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  INVALID_DOCUMENT: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  INDEX_LOADING: 503,
  INDEX_MISSING: 503,
  INDEX_INVALID: 503,
  INDEX_NOT_READY: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 503,
  OVERLOADED: 503,
  STORE_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  MANIFEST_INVALID: 500,
  CORPUS_LOCK_INVALID: 500,
  DOCUMENT_UNREADABLE: 500,
  NOTHING_TO_INDEX: 500,
  SCHEMA_TOO_NEW: 500,
  EVAL_SET_INVALID: 500,
  EVAL_SETUP: 500,
  USAGE: 500,
} as const satisfies { readonly [C in ClientErrorCode]: ErrorStatus } & { readonly [C in OperatorErrorCode]: 500 };

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

interface HttpParserError {
  type?: string;
  limit?: number;
}

/** Any thrown value as an AppError: its own, a body-parser error's, or INTERNAL (the original as cause). */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const type = (err as HttpParserError | undefined)?.type;
  if (type === "entity.too.large")
    return new AppError("PAYLOAD_TOO_LARGE", `request body is larger than the limit of ${(err as HttpParserError).limit} bytes (BODY_LIMIT)`, { cause: err });
  if (type === "entity.parse.failed") return new AppError("INVALID_JSON", "request body is not valid JSON", { cause: err });
  if (type === "charset.unsupported" || type === "encoding.unsupported") return new AppError("UNSUPPORTED_MEDIA_TYPE", "body must be UTF-8 JSON", { cause: err });
  return new AppError("INTERNAL", "internal error; the server log has the details (look up the X-Request-Id)", { cause: err });
}

/** The body for an AppError. */
export function errorBody(e: AppError): ErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } };
}

/** The status and body for any error, logged: server errors with the error and its causes, the rest by code. */
export function errorResponse(err: unknown, log?: Logger): { status: number; body: ErrorBody } {
  const e = toAppError(err);
  const status = HTTP_STATUS[e.code];
  if (status === 500) log?.error({ err, code: e.code }, e.code === "INTERNAL" ? "unhandled error" : e.message);
  else log?.info({ code: e.code }, e.message);
  return { status, body: errorBody(e) };
}

export function errorHandler() {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = errorResponse(err, req.log);
    if (res.headersSent) return res.end();
    res.status(status).json(body);
  };
}

export function notFound() {
  return (req: Request, _res: Response, next: NextFunction) =>
    next(new AppError("NOT_FOUND", `no route ${req.method} ${req.path}; see README "HTTP API"`));
}
