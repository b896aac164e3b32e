/** POST /v1/search and POST /v1/ask (JSON, or Server-Sent Events with stream:true / Accept: text/event-stream). */
import { Router } from "express";
import type { AskResult, QaService } from "../../service/index.js";
import { errorResponse } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { askBody, parseBody, searchBody } from "../schemas.js";
import { openSse } from "../sse.js";

export function queryRoutes(service: QaService, metrics: Metrics): Router {
  const r = Router();

  r.post("/v1/search", async (req, res) => {
    const body = parseBody(searchBody, req.body);
    const out = await service.search(body.query, body.k, body.docs);
    metrics.retrievalSeconds.observe(out.tookMs / 1000);
    res.json({ query: body.query, ...out });
  });

  r.post("/v1/ask", async (req, res) => {
    const { stream, ...body } = parseBody(askBody, req.body);
    const record = (result: AskResult) => {
      metrics.retrievalSeconds.observe(result.timings.retrievalMs / 1000);
      metrics.generationSeconds.observe({ mode: result.mode }, result.timings.generationMs / 1000);
      metrics.answers.inc({ mode: result.mode, grounded: String(result.grounded) });
      if (result.usage.promptTokens + result.usage.completionTokens > 0) {
        metrics.tokens.inc({ model: result.model, kind: "prompt" }, result.usage.promptTokens);
        metrics.tokens.inc({ model: result.model, kind: "completion" }, result.usage.completionTokens);
        metrics.costUsd.inc({ model: result.model }, result.usage.costUsd);
      }
      if (result.warning && result.mode === "extractive" && service.llm) metrics.llmFallbacks.inc();
      req.log.info({ grounded: result.grounded, mode: result.mode, model: result.model, usage: result.usage, timings: result.timings }, "answer");
    };

    // Readiness, unknown documents and unknown prompt versions are checked before anything is sent,
    // so they are plain JSON errors with their status, streamed or not.
    const prepared = await service.prepareAsk(body);
    if (!(stream ?? req.accepts(["application/json", "text/event-stream"]) === "text/event-stream")) {
      const result = await prepared.run();
      record(result);
      res.json(result);
      return;
    }

    // From here on the status is 200 and sent: an error is an SSE `error` event.
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const sse = openSse(res);
    try {
      const result = await prepared.run({
        signal: abort.signal,
        onCitations: (citations) => sse.send("citations", { citations }),
        onToken: (delta) => sse.send("token", { delta }),
      });
      record(result);
      sse.send("done", result);
    } catch (err) {
      sse.send("error", errorResponse(err, req.log).body);
    } finally {
      sse.end();
    }
  });

  return r;
}
