/** Starts the HTTP server over a QaService; `close()` drains in-flight requests (graceful shutdown). */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { QaService, type ServiceOptions } from "../service/index.js";
import { createApp } from "./app.js";
import { createLogger } from "./logging.js";
import { createMetrics, recordAnswer, recordFeedback } from "./metrics.js";
import { startTracing, type Tracing } from "../telemetry/index.js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  service: QaService;
  logger: Logger;
  /** Stops accepting connections, waits up to SHUTDOWN_GRACE_MS for in-flight requests, then releases everything. */
  close(): Promise<void>;
}

export interface StartOptions extends ServiceOptions {
  logger?: Logger;
  /** Export spans here instead of OTLP (tests: an in-memory exporter); tracing is then on whatever the config says. */
  spanExporter?: SpanExporter;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  // Tracing only with an OTLP endpoint (or a test's exporter): otherwise no SDK is loaded at all.
  let tracing: Tracing | undefined;
  if (opts.spanExporter || config.telemetry.tracesUrl) {
    tracing = await startTracing({ serviceName: config.telemetry.serviceName, url: config.telemetry.tracesUrl, protocol: config.telemetry.protocol, exporter: opts.spanExporter });
    logger.info({ url: opts.spanExporter ? "(in-process exporter)" : config.telemetry.tracesUrl, protocol: config.telemetry.protocol }, "tracing on: exporting OpenTelemetry traces");
  }
  const service = new QaService(config, opts);
  service.on("answered", (result, info) => recordAnswer(metrics, result, info, service.llm !== undefined));
  service.on("feedback", (record) => recordFeedback(metrics, record));
  service.on("indexLoaded", ({ generation, documents, chunks }) => {
    metrics.indexSwaps.inc();
    metrics.indexDocuments.set(documents);
    metrics.indexChunks.set(chunks);
    logger.info({ generation, chunks }, "index loaded");
  });
  service.on("indexLoadFailed", (reason) => logger.error({ reason }, "index not loaded"));
  service.on("storeHealth", ({ available, reason }) => {
    if (available) logger.info({ store: service.storeLocation }, "database reachable again: serving");
    else logger.error({ store: service.storeLocation, reason }, "database unreachable: /readyz answers 503 and queries 503 STORE_UNAVAILABLE until it is back (retrying)");
  });
  service.on("jobsReaped", (jobs) => {
    for (const job of jobs) logger.warn({ jobId: job.jobId, owner: job.owner, error: job.error }, "job marked failed: its worker died");
  });
  service.on("reindexFinished", (job) => {
    metrics.reindexJobs.inc({ outcome: job.status });
    logger.info({ jobId: job.jobId, status: job.status, error: job.error, result: job.result }, "re-index job finished");
  });
  await service.start();

  let shuttingDown = false;
  const app = createApp({ service, logger, metrics, isShuttingDown: () => shuttingDown });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  server.requestTimeout = config.http.requestTimeoutMs + 5_000;
  const { port } = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, store: service.storeLocation, llm: config.llm.provider, model: config.llm.model }, "listening");

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      logger.info({ graceMs: config.http.shutdownGraceMs }, "shutting down: draining in-flight requests");
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle as their last response ends: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.http.shutdownGraceMs).unref());
      await Promise.race([drained, grace]);
      clearInterval(sweep);
      server.closeAllConnections();
      await service.close();
      await tracing?.shutdown().catch((err: Error) => logger.warn({ err: err.message }, "tracing: the last spans were not exported"));
      logger.info("stopped");
    })());

  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, port, server, service, logger, close };
}

/** SIGTERM/SIGINT drain and exit; SIGHUP reloads the index from disk. */
export function handleSignals(running: RunningServer): void {
  const stop = (signal: string) => {
    running.logger.info({ signal }, "signal received");
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => void running.service.reload());
}
