/** The single error handler: AppError -> its status and `{error: {code, message}}`; anything else -> 500 INTERNAL, logged. */
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.js";

interface HttpParserError {
  type?: string;
  status?: number;
  limit?: number;
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as HttpParserError;
  if (e?.type === "entity.too.large") return new AppError("PAYLOAD_TOO_LARGE", `request body is larger than the limit of ${e.limit} bytes`);
  if (e?.type === "entity.parse.failed") return new AppError("INVALID_JSON", "request body is not valid JSON");
  if (e?.type === "charset.unsupported" || e?.type === "encoding.unsupported") return new AppError("UNSUPPORTED_MEDIA_TYPE", "body must be UTF-8 JSON");
  return new AppError("INTERNAL", "internal error; the server log has the details (look up the X-Request-Id)");
}

export function errorHandler() {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toAppError(err);
    if (e.code === "INTERNAL") req.log?.error({ err }, "unhandled error");
    else req.log?.info({ code: e.code }, e.message);
    if (res.headersSent) return res.end();
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  };
}

export function notFound() {
  return (req: Request, _res: Response, next: NextFunction) =>
    next(new AppError("NOT_FOUND", `no route ${req.method} ${req.path}; see README "HTTP API"`));
}
