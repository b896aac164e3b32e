/**
 * The Express application: middleware (the request's trace span, request ids and logs, metrics, helmet, CORS, load shedding,
 * timeouts, rate limits, body limits), the routes, the static web page, and the single error handler.
 */
import { createRequire } from "node:module";
import path from "node:path";
import cors from "cors";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { PROJECT_ROOT } from "../config/index.js";
import { AppError } from "../errors.js";
import type { QaService } from "../service/index.js";
import { errorHandler, notFound } from "./errors.js";
import { requestContext } from "./logging.js";
import type { Metrics } from "./metrics.js";
import { overload } from "./overload.js";
import { rateLimits } from "./rate-limit.js";
import { mcpRoutes } from "./mcp.js";
import { openApiDocument } from "./openapi.js";
import { adminRoutes } from "./routes/admin.js";
import { fileRoutes } from "./routes/files.js";
import { feedbackRoutes } from "./routes/feedback.js";
import { infoRoutes } from "./routes/info.js";
import { openAiErrors, openAiRoutes } from "./routes/openai.js";
import { queryRoutes } from "./routes/query.js";
import { traceRequests } from "./tracing.js";

export interface AppDeps {
  service: QaService;
  logger: Logger;
  metrics: Metrics;
  isShuttingDown?: () => boolean;
}

export function createApp({ service, logger, metrics, isShuttingDown = () => false }: AppDeps): Express {
  const { http } = service.config;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");

  const tracing = traceRequests();
  app.use(tracing.start);
  app.use(requestContext(logger));
  app.use(observe(metrics));
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"] } },
    }),
  );
  if (http.corsOrigins.length) app.use(cors({ origin: http.corsOrigins.includes("*") ? "*" : http.corsOrigins, exposedHeaders: ["X-Request-Id", "X-Cache", "traceparent"] }));
  app.use((_req, res, next) => {
    if (isShuttingDown()) res.setHeader("Connection", "close");
    next();
  });
  const shedding = overload(http, metrics);
  app.use(shedding.admit);
  app.use(timeout(http.requestTimeoutMs));
  app.use(rateLimits(http, { llmConfigured: service.llm !== undefined }));
  app.use(express.json({ limit: http.bodyLimit, type: ["application/json", "application/*+json"] }));
  app.use(tracing.resume);

  app.use(infoRoutes(service, metrics, isShuttingDown));
  app.use(fileRoutes(service));
  const openapi = openApiDocument(version());
  app.get("/openapi.json", (_req, res) => {
    res.json(openapi);
  });
  app.get("/docs", (_req, res) => {
    res.sendFile(path.join(PROJECT_ROOT, "public/docs.html"));
  });
  // Right before the search and ask handlers: leaving a router that did not match goes through
  // setImmediate, so requests queue behind other work there too; the wait is measured after that.
  app.use(shedding.beforeWork);
  app.use(queryRoutes(service, metrics));
  app.use(openAiRoutes(service));
  app.use(mcpRoutes(service));
  app.use(feedbackRoutes(service));
  app.use(adminRoutes(service));
  // The web page's one third-party module, served from node_modules (the CSP allows scripts from 'self' only: no CDN).
  app.use("/vendor/eventsource-parser", express.static(vendorDir("eventsource-parser"), { index: false, maxAge: "1h" }));
  // The API docs page's Swagger UI, from node_modules too (only its bundle and stylesheet).
  const swagger = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  for (const f of ["swagger-ui-bundle.js", "swagger-ui.css"]) app.get(`/vendor/swagger-ui/${f}`, (_req, res) => res.sendFile(path.join(swagger, f), { maxAge: "1h" }));
  app.use(express.static(path.join(PROJECT_ROOT, "public"), { index: "index.html", maxAge: "5m" }));
  app.use(notFound());
  // The OpenAI-compatible routes answer errors in OpenAI's shape; every other route in the catalogue's.
  app.use(["/v1/chat", "/v1/models"], openAiErrors());
  app.use(errorHandler());
  return app;
}

/** The project's version (package.json), for the OpenAPI document. */
function version(): string {
  return (createRequire(import.meta.url)(path.join(PROJECT_ROOT, "package.json")) as { version: string }).version;
}

/** The ESM build folder (dist/) of an installed package, found the way Node resolves it. */
function vendorDir(pkg: string): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), "dist");
}

/** Request count and latency by route pattern (not raw URL, to keep label cardinality bounded). */
function observe(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.requestSeconds.startTimer();
    res.on("finish", () => {
      const route = req.route?.path ? String(req.route.path) : res.statusCode === 404 ? "unmatched" : req.path.startsWith("/v1") ? req.path : "static";
      const labels = { method: req.method, route, status: String(res.statusCode) };
      end(labels);
      metrics.requests.inc(labels);
    });
    next();
  };
}

/** Answers 503 TIMEOUT when a JSON request takes longer than REQUEST_TIMEOUT_MS (streams are exempt). */
function timeout(ms: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      if (!res.headersSent) next(new AppError("TIMEOUT", `the request took longer than ${ms} ms; try again, or raise REQUEST_TIMEOUT_MS`));
    }, ms);
    timer.unref();
    res.on("close", () => clearTimeout(timer));
    res.on("finish", () => clearTimeout(timer));
    next();
  };
}
