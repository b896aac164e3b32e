/** GET /healthz, /readyz, /v1/documents, /v1/prompts, /metrics. */
import { Router } from "express";
import { AppError } from "../../errors.js";
import { documentFilePath, type QaService } from "../../service/index.js";
import { errorBody } from "../errors.js";
import { absolute, baseUrl } from "../links.js";
import type { Metrics } from "../metrics.js";
import type { Body, documentsResponse, healthResponse, promptsResponse, readyResponse } from "../schemas.js";

export function infoRoutes(service: QaService, metrics: Metrics, isShuttingDown: () => boolean): Router {
  const r = Router();

  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" } satisfies Body<typeof healthResponse>);
  });

  // 200 {ready: true, generation, loadedAt}, or 503 {ready: false, error: {code, message}} with
  // SHUTTING_DOWN, INDEX_LOADING, INDEX_MISSING, INDEX_INVALID or STORE_UNAVAILABLE.
  r.get("/readyz", (_req, res) => {
    const s = service.status();
    if (isShuttingDown())
      res.status(503).json({ ready: false, ...errorBody(new AppError("SHUTTING_DOWN", "the server is shutting down; send requests to another instance")) } satisfies Body<typeof readyResponse>);
    else if (s.ready) res.json({ ready: true, generation: s.generation, loadedAt: s.loadedAt } satisfies Body<typeof readyResponse>);
    else res.status(503).json({ ready: false, ...errorBody(new AppError(s.code, s.reason)) } satisfies Body<typeof readyResponse>);
  });

  r.get("/v1/documents", (req, res) => {
    const base = baseUrl(req, service.config.publicUrl);
    const documents = service
      .documents()
      .map(({ id, title, authors, year, kind, url, pages, chunks }) => ({ id, title, authors, year, kind, url, fileUrl: absolute(base, documentFilePath(id)), pages, chunks }));
    res.json({ documents } satisfies Body<typeof documentsResponse>);
  });

  r.get("/v1/prompts", async (_req, res) => {
    res.json((await service.promptVersions()) satisfies Body<typeof promptsResponse>);
  });

  r.get("/metrics", async (_req, res) => {
    res.set("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return r;
}
