/** Structured JSON logs (pino) with a request id (and, with tracing on, the trace id) on every line: X-Request-Id is accepted and returned. */
import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import pino, { type Logger } from "pino";
import { activeTraceId } from "../telemetry/index.js";

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "llmops-qa" }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

declare module "express-serve-static-core" {
  interface Request {
    id: string;
    log: Logger;
  }
}

const VALID_ID = /^[\w.:-]{1,128}$/;

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get("x-request-id");
    req.id = given && VALID_ID.test(given) ? given : randomUUID();
    // With tracing on, every line of the request also names its trace (the traceparent response header's).
    const traceId = activeTraceId();
    req.log = logger.child(traceId ? { reqId: req.id, traceId } : { reqId: req.id });
    res.setHeader("X-Request-Id", req.id);
    const t0 = performance.now();
    res.on("finish", () => {
      req.log.info(
        { method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round((performance.now() - t0) * 10) / 10 },
        "request",
      );
    });
    next();
  };
}
