/**
 * Load shedding. The work routes (search, ask, document uploads) are CPU-bound on a small machine:
 * past a few requests at once, more concurrency adds no throughput, only queueing, and the queue's
 * wait becomes every client's latency. So a work request is answered at once with 503 OVERLOADED
 * and a Retry-After header, instead of waiting its turn, when
 *   - MAX_IN_FLIGHT work requests are in flight already (checked on arrival): the queue for the
 *     embedding workers and the LLM, or
 *   - the event loop has been busy for more than MAX_EVENT_LOOP_DELAY_MS without a break when the
 *     request is about to start its work (checked right before its handler): the queue for the main
 *     thread (query embedding, retrieval), where requests wait in socket buffers and in the loop's
 *     own queues while the count of requests in flight stays low. See loop-delay.ts.
 *
 * A request counts from its arrival until its response is over: sent, ended (a stream counts until
 * its last event), or its connection closed by the client. Health, readiness, metrics, the other
 * /v1 routes and the web page are never counted nor shed.
 */
import type { NextFunction, Request, Response } from "express";
import { AppError } from "../errors.js";
import { eventLoopBusyMs } from "./loop-delay.js";
import type { Metrics } from "./metrics.js";

/** What a shed client is told to wait before retrying: work requests take well under a second. */
export const RETRY_AFTER_SECONDS = 1;

/** The routes that do real work, as "METHOD /path". */
const WORK_ROUTES = new Set(["POST /v1/search", "POST /v1/ask", "POST /v1/chat/completions", "POST /mcp", "POST /v1/admin/documents"]);

/** The work route a request is for, or undefined. Express matches paths case-insensitively and with a trailing slash: so does this. */
export function workRoute(req: Request): string | undefined {
  const path = req.path.toLowerCase().replace(/\/+$/, "");
  return WORK_ROUTES.has(`${req.method} ${path}`) ? path : undefined;
}

export interface OverloadLimits {
  /** Work requests in flight past which new ones are shed (0 = no limit). */
  maxInFlight: number;
  /** Event loop busy time, ms, past which a work request about to start is shed (0 = no limit). */
  maxEventLoopDelayMs: number;
}

const advice = `retry after ${RETRY_AFTER_SECONDS} s (the Retry-After header), or send fewer requests at once`;

/**
 * Two middlewares: `admit`, mounted before anything that costs time, counts work requests in flight
 * (the http_requests_in_flight gauge) and sheds past MAX_IN_FLIGHT; `beforeWork`, mounted right
 * before the work routes, sheds past MAX_EVENT_LOOP_DELAY_MS.
 */
export function overload({ maxInFlight, maxEventLoopDelayMs }: OverloadLimits, metrics: Metrics) {
  let inFlight = 0;
  const admitted = new WeakMap<Request, string>();

  const shed = (res: Response, next: NextFunction, route: string, reason: "in_flight" | "event_loop_delay", message: string) => {
    metrics.shed.inc({ route, reason });
    res.setHeader("Retry-After", String(RETRY_AFTER_SECONDS));
    next(new AppError("OVERLOADED", `${message}; ${advice}`));
  };

  const admit = (req: Request, res: Response, next: NextFunction) => {
    const route = workRoute(req);
    if (!route) return next();
    if (maxInFlight > 0 && inFlight >= maxInFlight)
      return shed(res, next, route, "in_flight", `the server is at its limit of ${maxInFlight} requests in flight (MAX_IN_FLIGHT)`);
    admitted.set(req, route);
    inFlight++;
    metrics.inFlight.set(inFlight);
    // "close" comes once per response: after it is sent, or when the client goes away first.
    res.once("close", () => {
      inFlight--;
      metrics.inFlight.set(inFlight);
    });
    next();
  };

  const beforeWork = (req: Request, res: Response, next: NextFunction) => {
    const route = admitted.get(req);
    if (!route || maxEventLoopDelayMs === 0) return next();
    const busy = eventLoopBusyMs();
    if (busy > maxEventLoopDelayMs)
      return shed(res, next, route, "event_loop_delay", `the server is too busy: requests wait ${Math.round(busy)} ms for its main thread (MAX_EVENT_LOOP_DELAY_MS=${maxEventLoopDelayMs})`);
    next();
  };

  return { admit, beforeWork };
}
