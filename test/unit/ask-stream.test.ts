/**
 * A streamed /v1/ask (stream: true or Accept: text/event-stream) checks readiness, documents and the
 * prompt version before the stream opens, so those failures are JSON with their status; an error
 * after the stream opened is an SSE `error` event. And /readyz answers with catalogue codes.
 * In-process servers on ephemeral loopback ports, over a one-document fixture corpus.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/errors.js";
import { createApp } from "../../src/server/app.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { createLogger } from "../../src/server/logging.js";
import { createMetrics } from "../../src/server/metrics.js";
import { QaService, type PreparedAsk } from "../../src/service/index.js";
import { SAMPLE_DOCS, indexedFixture, tempDir, testConfig } from "../helpers/fixtures.js";
import { getJson, postSse } from "../helpers/http.js";

/** POSTs /v1/ask and reads the answer as text, whatever it is. */
async function ask(base: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/v1/ask`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", text };
}

const STREAMED: Array<[string, Record<string, unknown>, Record<string, string>]> = [
  ["stream: true", { stream: true }, {}],
  ["Accept: text/event-stream", {}, { accept: "text/event-stream" }],
];

let empty: RunningServer;
let ready: RunningServer;

beforeAll(async () => {
  empty = await startServer(testConfig({ corpusDir: await tempDir("c"), manifest: "unused.json", indexDir: await tempDir("empty") }));
  ready = await startServer((await indexedFixture(SAMPLE_DOCS.filter((d) => d.id === "ops"))).config);
});

afterAll(async () => {
  await empty?.close();
  await ready?.close();
});

describe("a streamed ask, before the stream opens", () => {
  it.each(STREAMED)("with no index is 503 JSON INDEX_NOT_READY, not an event stream (%s)", async (_how, extra, headers) => {
    const r = await ask(empty.url, { question: "What is distillation?", ...extra }, headers);
    expect(r.status).toBe(503);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.type).not.toMatch(/event-stream/);
    expect(JSON.parse(r.text)).toEqual({
      error: { code: "INDEX_NOT_READY", message: expect.stringMatching(/no index is loaded: .*npm run ingest/), details: { reason: "INDEX_MISSING" } },
    });
  });

  it.each(STREAMED)("with an unknown document is 400 JSON UNKNOWN_DOCUMENT (%s)", async (_how, extra, headers) => {
    const r = await ask(ready.url, { question: "What is distillation?", docs: ["ops", "nope"], ...extra }, headers);
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/json/);
    expect(JSON.parse(r.text)).toEqual({ error: { code: "UNKNOWN_DOCUMENT", message: expect.stringContaining("nope"), details: { unknown: ["nope"] } } });
  });

  it.each(STREAMED)("with an unknown prompt version is 400 JSON UNKNOWN_PROMPT_VERSION (%s)", async (_how, extra, headers) => {
    const r = await ask(ready.url, { question: "What is distillation?", promptVersion: "qa-v999", ...extra }, headers);
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/json/);
    const body = JSON.parse(r.text);
    expect(body.error.code).toBe("UNKNOWN_PROMPT_VERSION");
    expect(body.error.details).toEqual({ version: "qa-v999", available: expect.arrayContaining(["qa-v1", "qa-v2"]) });
  });

  it("with a bad body is 400 JSON VALIDATION_FAILED", async () => {
    const r = await ask(ready.url, { question: "", stream: true });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.code).toBe("VALIDATION_FAILED");
  });

  it("and the same questions, unstreamed, answer with the same JSON errors", async () => {
    const none = await ask(empty.url, { question: "What is distillation?" });
    expect([none.status, JSON.parse(none.text).error.code]).toEqual([503, "INDEX_NOT_READY"]);
    const doc = await ask(ready.url, { question: "What is distillation?", docs: ["nope"] });
    expect([doc.status, JSON.parse(doc.text).error.code]).toEqual([400, "UNKNOWN_DOCUMENT"]);
  });

  it("still streams a good question: citations, tokens, done", async () => {
    const r = await postSse(ready.url, "/v1/ask", { question: "What is distillation?", stream: true });
    expect(r.status).toBe(200);
    expect(r.contentType).toContain("text/event-stream");
    expect(r.events[0]!.event).toBe("citations");
    expect(r.events.at(-1)!.event).toBe("done");
  });
});

describe("a streamed ask, after the stream opened", () => {
  /** Makes the next ask pass its checks, send citations, then fail with `err`. */
  function failMidStream(err: unknown) {
    const prepare = vi.spyOn(ready.service, "prepareAsk").mockImplementationOnce(
      async (): Promise<PreparedAsk> => ({
        run: async (hooks) => {
          hooks?.onCitations?.([]);
          hooks?.onToken?.("Partly");
          throw err;
        },
      }),
    );
    return prepare;
  }

  it("reports an unexpected failure as an SSE error event: INTERNAL, no internals", async () => {
    const spy = failMidStream(new Error("reader exploded at /srv/answer.ts:42"));
    const r = await postSse(ready.url, "/v1/ask", { question: "What is distillation?", stream: true });
    expect(spy).toHaveBeenCalledOnce();
    expect(r.status).toBe(200);
    expect(r.contentType).toContain("text/event-stream");
    expect(r.events.map((e) => e.event)).toEqual(["citations", "token", "error"]);
    expect(r.events[2]!.data).toEqual({ error: { code: "INTERNAL", message: expect.stringContaining("X-Request-Id") } });
    expect(JSON.stringify(r.events)).not.toMatch(/exploded|answer\.ts/);
  });

  it("reports a catalogued failure as an SSE error event with its code", async () => {
    failMidStream(new AppError("TIMEOUT", "the model took too long; try again"));
    const r = await postSse(ready.url, "/v1/ask", { question: "What is distillation?" }, { accept: "text/event-stream" });
    expect(r.status).toBe(200);
    expect(r.events.at(-1)).toEqual({ event: "error", data: { error: { code: "TIMEOUT", message: "the model took too long; try again" } } });
  });
});

describe("GET /readyz", () => {
  it("answers 503 with the catalogue code and the reason while no index serves", async () => {
    const r = await getJson(empty.url, "/readyz");
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ ready: false, error: { code: "INDEX_MISSING", message: expect.stringMatching(/npm run ingest/) } });
  });

  it("answers 200 with the generation when ready", async () => {
    const r = await getJson(ready.url, "/readyz");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ready: true, generation: expect.any(String), loadedAt: expect.any(String) });
  });

  it("answers 503 INDEX_LOADING before the first load, and SHUTTING_DOWN while draining", async () => {
    const service = new QaService(testConfig({ corpusDir: await tempDir("c"), manifest: "unused.json", indexDir: await tempDir("empty") }));
    let shuttingDown = false;
    const app = createApp({ service, logger: createLogger("silent"), metrics: createMetrics(), isShuttingDown: () => shuttingDown });
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const loading = await getJson(base, "/readyz");
      expect(loading.status).toBe(503);
      expect(loading.body).toEqual({ ready: false, error: { code: "INDEX_LOADING", message: "the index has not been loaded yet" } });
      shuttingDown = true;
      const draining = await getJson(base, "/readyz");
      expect(draining.status).toBe(503);
      expect(draining.body).toEqual({ ready: false, error: { code: "SHUTTING_DOWN", message: expect.stringContaining("shutting down") } });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await service.close();
    }
  });
});
