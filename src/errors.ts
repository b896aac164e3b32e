/**
 * The one catalogue of error codes. Every error a client can see has a stable code from this list,
 * an HTTP status, and a message a person can act on. Modules throw AppError; the server's single
 * error handler turns it into `{error: {code, message}}` (and anything else into INTERNAL, logged,
 * never shown with its stack).
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNKNOWN_PROMPT_VERSION: 400,
  UNKNOWN_DOCUMENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ADMIN_DISABLED: 403,
  NOT_FOUND: 404,
  REINDEX_RUNNING: 409,
  DOCUMENT_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_DOCUMENT: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  INDEX_NOT_READY: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 503,
  OVERLOADED: 503,
  STORE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
  }
}
