/** GET /healthz, /readyz, /v1/documents, /v1/prompts, /metrics. */
import { Router } from "express";
import { AppError } from "../../errors.js";
import type { QaService } from "../../service/index.js";
import { errorBody } from "../errors.js";
import type { Metrics } from "../metrics.js";

export function infoRoutes(service: QaService, metrics: Metrics, isShuttingDown: () => boolean): Router {
  const r = Router();

  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  // 200 {ready: true, generation, loadedAt}, or 503 {ready: false, error: {code, message}} with
  // SHUTTING_DOWN, INDEX_LOADING, INDEX_MISSING, INDEX_INVALID or STORE_UNAVAILABLE.
  r.get("/readyz", (_req, res) => {
    const s = service.status();
    if (isShuttingDown()) res.status(503).json({ ready: false, ...errorBody(new AppError("SHUTTING_DOWN", "the server is shutting down; send requests to another instance")) });
    else if (s.ready) res.json({ ready: true, generation: s.generation, loadedAt: s.loadedAt });
    else res.status(503).json({ ready: false, ...errorBody(new AppError(s.code, s.reason)) });
  });

  r.get("/v1/documents", (_req, res) => {
    const documents = service.documents().map(({ id, title, authors, year, kind, url, pages, chunks }) => ({ id, title, authors, year, kind, url, pages, chunks }));
    res.json({ documents });
  });

  r.get("/v1/prompts", async (_req, res) => {
    res.json(await service.promptVersions());
  });

  r.get("/metrics", async (_req, res) => {
    res.set("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return r;
}
