/**
 * The HTTP request's span (OpenTelemetry, when tracing is on): a SERVER span named "<METHOD> <route>"
 * continuing the caller's trace (`traceparent`), with the HTTP semantic-convention attributes, and the
 * `traceparent` response header naming it. Written by hand rather than with the http/express
 * auto-instrumentations, which patch modules through require/import hooks that an ESM app run by tsx
 * does not load reliably; this is two middlewares over the API.
 *
 * `resume` goes after the body parser: the parser calls `next` from the request stream's callback,
 * which runs outside the request's context, so the handlers after it would lose the span.
 */
import type { NextFunction, Request, Response } from "express";
import { markError, startServerSpan, withContext, type ServerSpan } from "../telemetry/index.js";

const SPANS = new WeakMap<Request, ServerSpan>();

export function traceRequests() {
  return {
    start(req: Request, res: Response, next: NextFunction) {
      const s = startServerSpan(`${req.method}`, req.headers, {
        "http.request.method": req.method,
        "url.path": req.path,
        "url.scheme": req.protocol,
        ...(req.get("user-agent") ? { "user_agent.original": req.get("user-agent")! } : {}),
        ...(req.ip ? { "client.address": req.ip } : {}),
      });
      if (!s) return next();
      SPANS.set(req, s);
      res.setHeader("traceparent", s.traceparent);
      res.on("finish", () => end(req, res, s));
      res.on("close", () => end(req, res, s));
      withContext(s.context, next);
    },
    resume(req: Request, _res: Response, next: NextFunction) {
      withContext(SPANS.get(req)?.context, next);
    },
  };
}

const ENDED = new WeakSet<ServerSpan>();

function end(req: Request, res: Response, s: ServerSpan): void {
  if (ENDED.has(s)) return;
  ENDED.add(s);
  const route = req.route?.path ? String(req.route.path) : undefined;
  s.span.updateName(route ? `${req.method} ${route}` : req.method);
  s.span.setAttributes({ "http.response.status_code": res.statusCode, ...(route ? { "http.route": route } : {}) });
  if (res.statusCode >= 500) markError(s.span, `HTTP ${res.statusCode}`);
  if (!res.writableFinished) s.span.setAttribute("qa.client_aborted", true);
  s.span.end();
}
