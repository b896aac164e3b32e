/** POST /v1/search and POST /v1/ask (JSON, or Server-Sent Events with stream:true / Accept: text/event-stream). */
import { Router } from "express";
import type { QaService, ServiceAskResult } from "../../service/index.js";
import { errorResponse } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { baseUrl, linkCitations } from "../links.js";
import { askBody, parseBody, searchBody, type askEvents, type askResponse, type Body, type searchResponse } from "../schemas.js";
import { openSse } from "../sse.js";

export function queryRoutes(service: QaService, metrics: Metrics): Router {
  const r = Router();

  r.post("/v1/search", async (req, res) => {
    const body = parseBody(searchBody, req.body);
    const out = await service.search(body.query, body.k, body.docs);
    metrics.retrievalSeconds.observe(out.tookMs / 1000);
    res.json({ query: body.query, ...out } satisfies Body<typeof searchResponse>);
  });

  r.post("/v1/ask", async (req, res) => {
    const { stream, conversationId, ...body } = parseBody(askBody, req.body);
    // Sticky prompt rollouts: the conversation, else the client's own id, else its address.
    const input = { ...body, clientId: conversationId ?? clientIdOf(req.get("x-client-id")) ?? req.ip };
    const log = (result: ServiceAskResult) =>
      req.log.info(
        { answerId: result.answerId, grounded: result.grounded, mode: result.mode, model: result.model, promptVersion: result.promptVersion, cached: result.cached, usage: result.usage, timings: result.timings, unsupported: result.verification?.unsupported.length },
        "answer",
      );

    const base = baseUrl(req, service.config.publicUrl);
    const linked = (result: ServiceAskResult): Body<typeof askResponse> => ({ ...result, citations: linkCitations(result.citations, base) });
    // Readiness, unknown documents and unknown prompt versions are checked before anything is sent,
    // so they are plain JSON errors with their status, streamed or not.
    const prepared = await service.prepareAsk(input);
    if (!(stream ?? req.accepts(["application/json", "text/event-stream"]) === "text/event-stream")) {
      const result = await prepared.run();
      log(result);
      res.setHeader("X-Cache", result.cached ? "hit" : "miss");
      res.json(linked(result));
      return;
    }

    // From here on the status is 200 and sent: an error is an SSE `error` event.
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const sse = openSse(res);
    try {
      // (A stream's headers are sent before the cache is looked up: its `done` event says `cached`.)
      const result = await prepared.run({
        signal: abort.signal,
        onCitations: (citations) => sse.send("citations", { citations: linkCitations(citations, base) } satisfies Body<typeof askEvents.citations>),
        onToken: (delta) => sse.send("token", { delta } satisfies Body<typeof askEvents.token>),
      });
      log(result);
      sse.send("done", linked(result));
    } catch (err) {
      sse.send("error", errorResponse(err, req.log).body satisfies Body<typeof askEvents.error>);
    } finally {
      sse.end();
    }
  });

  return r;
}

const CLIENT_ID = /^[\w.:-]{1,128}$/;
const clientIdOf = (given: string | undefined) => (given && CLIENT_ID.test(given) ? given : undefined);
