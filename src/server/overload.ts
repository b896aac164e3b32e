/**
 * Load shedding. The work routes (search, ask, document uploads) are CPU-bound on a small machine:
 * past a few requests at once, more concurrency adds no throughput, only queueing, and the queue's
 * wait becomes every client's latency. So past MAX_IN_FLIGHT work requests in flight, a new one is
 * answered at once with 503 OVERLOADED and a Retry-After header instead of waiting its turn.
 *
 * A request counts from the moment it arrives until its response is over: sent, ended (a stream
 * counts until its last event), or its connection closed by the client. Health, readiness, metrics,
 * the other /v1 routes and the web page are never counted nor shed.
 */
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.js";
import type { Metrics } from "./metrics.js";

/** What a shed client is told to wait before retrying: work requests take well under a second. */
export const RETRY_AFTER_SECONDS = 1;

/** The routes that do real work, as "METHOD /path". */
const WORK_ROUTES = new Set(["POST /v1/search", "POST /v1/ask", "POST /v1/admin/documents"]);

/** The work route a request is for, or undefined. Express matches paths case-insensitively and with a trailing slash: so does this. */
export function workRoute(req: Request): string | undefined {
  const path = req.path.toLowerCase().replace(/\/+$/, "");
  const route = `${req.method} ${path}`;
  return WORK_ROUTES.has(route) ? path : undefined;
}

/** Counts work requests in flight (the http_requests_in_flight gauge) and sheds those past `maxInFlight` (0 = never shed). */
export function shedOverload(maxInFlight: number, metrics: Metrics) {
  let inFlight = 0;
  return (req: Request, res: Response, next: NextFunction) => {
    const route = workRoute(req);
    if (!route) return next();
    if (maxInFlight > 0 && inFlight >= maxInFlight) {
      metrics.shed.inc({ route });
      res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
      return next(
        new AppError(
          "OVERLOADED",
          `the server is at its limit of ${maxInFlight} requests in flight (MAX_IN_FLIGHT); retry after ${RETRY_AFTER_SECONDS} s (the Retry-After header), or send fewer requests at once`,
        ),
      );
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    // "close" comes once per response: after it is sent, or when the client goes away first.
    res.once("close", () => {
      inFlight--;
      metrics.inFlight.set(inFlight);
    });
    next();
  };
}
