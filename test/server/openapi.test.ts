/**
 * GET /openapi.json against the real server: every route (and method) the document lists is requested,
 * and each real response (status, media type, JSON body, and every SSE event of the streams) is checked
 * against the document with Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect). A response the document
 * does not describe, or a documented route never exercised here, fails the test. Also /docs: the
 * Swagger UI page and its assets, all served by this server.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { SAMPLE_DOCS, indexedFixture } from "../helpers/fixtures.js";

const TOKEN = "openapi-admin";
let server: RunningServer;
let base: string;
let doc: any;
let ajv: Ajv2020;
/** "METHOD /template" of every operation checked. */
const exercised = new Set<string>();

beforeAll(async () => {
  server = await startServer((await indexedFixture(SAMPLE_DOCS, { ADMIN_TOKEN: TOKEN })).config);
  base = server.url;
  const r = await fetch(`${base}/openapi.json`);
  expect(r.status).toBe(200);
  doc = await r.json();
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat("binary", true);
  ajv.addSchema(doc, "api");
});

afterAll(async () => {
  await server?.close();
});

function validate(ref: { $ref: string } | Record<string, unknown>, value: unknown, what: string): void {
  const v = "$ref" in ref && typeof ref.$ref === "string" ? ajv.getSchema(`api${ref.$ref}`) : ajv.compile(ref);
  expect(v, `no schema for ${what}`).toBeTruthy();
  const ok = v!(value);
  expect(ok, `${what}: ${ajv.errorsText(v!.errors)}\n${JSON.stringify(value).slice(0, 600)}`).toBe(true);
}

interface Call {
  method: string;
  template: string;
  path: string;
  body?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

/** Requests a route and checks the response against the document; returns the response and its text. */
async function check(call: Call): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const op = doc.paths[call.template]?.[call.method.toLowerCase()];
  expect(op, `${call.method} ${call.template} is not in the document`).toBeTruthy();
  const res = await fetch(`${base}${call.path}`, {
    method: call.method,
    headers: { ...(call.body !== undefined ? { "content-type": "application/json" } : {}), ...call.headers },
    body: call.form ?? (call.body !== undefined ? JSON.stringify(call.body) : undefined),
  });
  const text = await res.text();
  const what = `${call.method} ${call.path} -> ${res.status}`;
  const response = op.responses[String(res.status)];
  expect(response, `${what}: status not documented (${text.slice(0, 300)})`).toBeTruthy();
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  let json: any;
  if (res.status === 304 || res.status === 202 && !text) {
    expect(text).toBe("");
  } else if (response.content) {
    const media = response.content[type];
    expect(media, `${what}: media type ${type} not documented`).toBeTruthy();
    if (type === "application/json") {
      json = JSON.parse(text);
      validate(media.schema, json, what);
    } else if (type === "text/event-stream") {
      const events = response["x-sse-events"];
      expect(events, `${what}: stream without documented events`).toBeTruthy();
      for (const block of text.split("\n\n").filter(Boolean)) {
        const name = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        if (data === "[DONE]") continue;
        expect(events[name], `${what}: event ${name} not documented`).toBeTruthy();
        validate(events[name], JSON.parse(data), `${what} event ${name}`);
      }
    }
  }
  exercised.add(`${call.method} ${call.template}`);
  return { status: res.status, headers: res.headers, text, json };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const Q = "Which optimizer was used to train the Transformer?";

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 with every component schema compiling", () => {
    expect(doc.openapi).toBe("3.1.0");
    for (const id of Object.keys(doc.components.schemas)) expect(ajv.getSchema(`api#/components/schemas/${id}`), id).toBeTruthy();
    // Generated from the zod schemas the routes validate with: the ask body's fields, the catalogue's codes.
    expect(Object.keys(doc.components.schemas.AskRequest.properties).sort()).toEqual(["cache", "conversationId", "docs", "history", "k", "promptVersion", "question", "stream"]);
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("URL_NOT_ALLOWED");
    // The validators reject what the schemas do not allow (so the checks below can fail).
    expect(ajv.getSchema("api#/components/schemas/Health")!({ status: "nope" })).toBe(false);
    expect(ajv.getSchema("api#/components/schemas/AskResponse")!({ answer: "x" })).toBe(false);
    expect(ajv.getSchema("api#/components/schemas/Documents")!({ documents: [{ id: "a" }] })).toBe(false);
  });

  it("describes the real responses of every route, errors included", async () => {
    await check({ method: "GET", template: "/healthz", path: "/healthz" });
    expect((await check({ method: "GET", template: "/readyz", path: "/readyz" })).status).toBe(200);
    await check({ method: "GET", template: "/metrics", path: "/metrics" });
    await check({ method: "GET", template: "/openapi.json", path: "/openapi.json" });
    await check({ method: "GET", template: "/docs", path: "/docs" });
    await check({ method: "GET", template: "/", path: "/" });
    await check({ method: "GET", template: "/v1/prompts", path: "/v1/prompts" });
    const docs = await check({ method: "GET", template: "/v1/documents", path: "/v1/documents" });
    expect(docs.json.documents).toHaveLength(3);

    // Files: a PDF, a range of it, not modified, a range outside it, a markdown page, an unknown id.
    const pdf = await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/transformer/file" });
    expect(pdf.status).toBe(200);
    await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/transformer/file", headers: { range: "bytes=0-99" } });
    await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/transformer/file", headers: { "if-none-match": pdf.headers.get("etag")! } });
    await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/transformer/file", headers: { range: "bytes=99999999-" } });
    await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/ops/file" });
    expect((await check({ method: "GET", template: "/v1/documents/{id}/file", path: "/v1/documents/nope/file" })).status).toBe(404);

    await check({ method: "POST", template: "/v1/search", path: "/v1/search", body: { query: Q } });
    expect((await check({ method: "POST", template: "/v1/search", path: "/v1/search", body: { query: "" } })).status).toBe(400);
    const answered = await check({ method: "POST", template: "/v1/ask", path: "/v1/ask", body: { question: Q } });
    expect((await check({ method: "POST", template: "/v1/feedback", path: "/v1/feedback", body: { answerId: answered.json.answerId, rating: "up" } })).status).toBe(201);
    const unknown = { answerId: "00000000-0000-4000-8000-000000000000", rating: "down" };
    expect((await check({ method: "POST", template: "/v1/feedback", path: "/v1/feedback", body: unknown })).status).toBe(404);
    await check({ method: "POST", template: "/v1/ask", path: "/v1/ask", body: { question: Q, stream: true } });
    expect((await check({ method: "POST", template: "/v1/ask", path: "/v1/ask", body: { question: Q, docs: ["nope"] } })).status).toBe(400);

    await check({ method: "GET", template: "/v1/models", path: "/v1/models" });
    await check({ method: "GET", template: "/v1/models/{model}", path: "/v1/models/llmops-qa" });
    expect((await check({ method: "GET", template: "/v1/models/{model}", path: "/v1/models/nope" })).status).toBe(404);
    const chat = { model: "llmops-qa", messages: [{ role: "user", content: Q }] };
    await check({ method: "POST", template: "/v1/chat/completions", path: "/v1/chat/completions", body: chat });
    await check({ method: "POST", template: "/v1/chat/completions", path: "/v1/chat/completions", body: { ...chat, stream: true, stream_options: { include_usage: true } } });
    expect((await check({ method: "POST", template: "/v1/chat/completions", path: "/v1/chat/completions", body: { ...chat, n: 2 } })).status).toBe(400);

    const rpc = { accept: "application/json, text/event-stream" };
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
    await check({ method: "POST", template: "/mcp", path: "/mcp", body: init, headers: rpc });
    expect((await check({ method: "GET", template: "/mcp", path: "/mcp" })).status).toBe(405);
    expect((await check({ method: "DELETE", template: "/mcp", path: "/mcp" })).status).toBe(405);

    // Admin: refused without the token, then each route for real.
    expect((await check({ method: "POST", template: "/v1/admin/reindex", path: "/v1/admin/reindex", body: {} })).status).toBe(401);
    expect((await check({ method: "GET", template: "/v1/admin/reindex/{jobId}", path: "/v1/admin/reindex/nope", headers: auth })).status).toBe(404);
    expect((await check({ method: "POST", template: "/v1/admin/documents", path: "/v1/admin/documents", body: { url: "http://127.0.0.1:9/x.md" }, headers: auth })).status).toBe(400);
    const form = new FormData();
    form.append("id", "moe-notes");
    form.append("file", new Blob(["# Mixture of experts\n\nA router sends each token to two experts.\n"], { type: "text/markdown" }), "moe.md");
    const added = await check({ method: "POST", template: "/v1/admin/documents", path: "/v1/admin/documents", form, headers: auth });
    expect(added.status).toBe(202);
    const job = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const r = await check({ method: "GET", template: "/v1/admin/reindex/{jobId}", path: `/v1/admin/reindex/${id}`, headers: auth });
        if (r.json.status !== "running") return r.json;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error("job did not finish");
    };
    expect((await job(added.json.jobId)).status).toBe("succeeded");
    const removed = await check({ method: "DELETE", template: "/v1/admin/documents/{id}", path: "/v1/admin/documents/moe-notes", headers: auth });
    expect(removed.status).toBe(202);
    await job(removed.json.jobId);
    const started = await check({ method: "POST", template: "/v1/admin/reindex", path: "/v1/admin/reindex", body: {}, headers: auth });
    expect(started.status).toBe(202);
    await job(started.json.jobId);

    // Every operation the document lists was requested above.
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
    expect(listed.filter((o) => !exercised.has(o))).toEqual([]);
  });

  it("serves the docs page and its Swagger UI from this server (no CDN)", async () => {
    const page = await (await fetch(`${base}/docs`)).text();
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((u) => !u.startsWith("data:"));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const a of assets) {
      expect(a.startsWith("/"), a).toBe(true);
      expect((await fetch(`${base}${a}`)).status, a).toBe(200);
    }
  });
});
