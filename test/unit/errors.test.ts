/**
 * The one error model: the closed catalogue (every code has a meaning and an HTTP status), AppError
 * and isAppError, the single error handler's output, and each former stray error class surfacing as
 * an AppError with its code (config, index, documents, ingestion, manifest, lock, prompts, re-index
 * jobs, evaluation sets and setup, command lines).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { PromptLibrary } from "../../src/answer/prompts.js";
import { main as fetchMain } from "../../src/cli/fetch.js";
import { PROJECT_ROOT, loadConfig } from "../../src/config/index.js";
import { LOCK_FILE, readLock } from "../../src/corpus/lock.js";
import { loadCorpusManifest } from "../../src/corpus/manifest.js";
import { AppError, ERROR_CODES, ERRORS, invalidInput, isAppError, issue, type ErrorCode } from "../../src/errors.js";
import { parseEvalSet, loadEvalSet } from "../../src/eval/dataset.js";
import { createEvalService } from "../../src/eval/targets.js";
import { loadDocument } from "../../src/ingest/load.js";
import { errorHandler, HTTP_STATUS, notFound, toAppError } from "../../src/server/errors.js";
import { createLogger } from "../../src/server/logging.js";
import { requestContext } from "../../src/server/logging.js";
import { parseBody, searchBody } from "../../src/server/schemas.js";
import { Reindexer } from "../../src/service/reindex.js";
import { createIndexStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/fixtures.js";

/** The catalogue, spelled out: adding or removing a code is a decision this test (and the README) must see. */
const CATALOGUE = [
  "VALIDATION_FAILED", "INVALID_JSON", "UNKNOWN_PROMPT_VERSION", "UNKNOWN_DOCUMENT", "UNAUTHORIZED", "FORBIDDEN", "ADMIN_DISABLED",
  "NOT_FOUND", "UNKNOWN_ANSWER", "REINDEX_RUNNING", "DOCUMENT_EXISTS", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "INVALID_DOCUMENT", "RATE_LIMITED",
  "INTERNAL", "INDEX_LOADING", "INDEX_MISSING", "INDEX_INVALID", "INDEX_NOT_READY", "SHUTTING_DOWN", "TIMEOUT", "OVERLOADED",
  "STORE_UNAVAILABLE", "CONFIG_INVALID", "MANIFEST_INVALID", "CORPUS_LOCK_INVALID", "DOCUMENT_UNREADABLE", "NOTHING_TO_INDEX",
  "SCHEMA_TOO_NEW",
  "EVAL_SET_INVALID", "EVAL_SETUP", "USAGE",
  // Issue 11: the OpenAI-compatible API, the local document files, downloads by URL.
  "UNSUPPORTED_PARAMETER", "MODEL_NOT_FOUND", "DOCUMENT_CHANGED", "RANGE_NOT_SATISFIABLE", "URL_NOT_ALLOWED",
];

describe("the catalogue", () => {
  it("is closed: exactly the listed codes, each a stable SCREAMING_SNAKE name", () => {
    expect([...ERROR_CODES].sort()).toEqual([...CATALOGUE].sort());
    for (const code of ERROR_CODES) expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/);
    // A code outside the catalogue does not compile.
    // @ts-expect-error: not a catalogue code
    expect(() => new AppError("NO_SUCH_CODE", "x")).not.toThrow();
  });

  it("gives every code a one-line meaning and an audience", () => {
    for (const code of ERROR_CODES) {
      const { meaning, audience } = ERRORS[code];
      expect(meaning.length, code).toBeGreaterThan(10);
      expect(meaning, code).not.toMatch(/\n/);
      expect(["client", "operator"]).toContain(audience);
    }
  });

  it("gives every code an HTTP status, and every operator code 500", () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const status: number = HTTP_STATUS[code];
      expect(status >= 400 && status <= 599, code).toBe(true);
      if (ERRORS[code].audience === "operator") expect(status, code).toBe(500);
    }
    expect(HTTP_STATUS.INDEX_NOT_READY).toBe(503);
    expect(HTTP_STATUS.VALIDATION_FAILED).toBe(400);
  });

  it("is listed in the README's HTTP API error paragraph, code by code", async () => {
    const readme = await readFile(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const paragraph = /^Errors are `\{error: \{code, message, details\?\}\}`[\s\S]*?\n\n/m.exec(readme)?.[0] ?? "";
    expect(paragraph).not.toBe("");
    for (const code of ERROR_CODES) expect(paragraph, code).toContain(`\`${code}\``);
  });
});

describe("AppError", () => {
  it("carries code, message, details and cause, and no HTTP status", () => {
    const root = new Error("disk on fire");
    const e = new AppError("DOCUMENT_UNREADABLE", "a.pdf: empty file", { cause: root, details: { file: "a.pdf", reason: "empty file" } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("AppError");
    expect(e.code).toBe("DOCUMENT_UNREADABLE");
    expect(e.message).toBe("a.pdf: empty file");
    expect(e.details).toEqual({ file: "a.pdf", reason: "empty file" });
    expect(e.cause).toBe(root);
    expect("status" in e).toBe(false);
    expect("cause" in new AppError("INTERNAL", "x")).toBe(false);
  });

  it("is recognised by isAppError, by any code or the given ones", () => {
    const e: unknown = new AppError("REINDEX_RUNNING", "busy", { details: { jobId: "j1" } });
    expect(isAppError(e)).toBe(true);
    expect(isAppError(e, "REINDEX_RUNNING")).toBe(true);
    expect(isAppError(e, "NOT_FOUND", "REINDEX_RUNNING")).toBe(true);
    expect(isAppError(e, "NOT_FOUND")).toBe(false);
    expect(isAppError(new Error("REINDEX_RUNNING"))).toBe(false);
    expect(isAppError({ code: "REINDEX_RUNNING", message: "duck" })).toBe(false);
    if (isAppError(e, "REINDEX_RUNNING")) expect(e.details?.jobId).toBe("j1");
  });

  it("formats zod issues in one place: prettified text, issues as data, the ZodError as cause", () => {
    const r = z.strictObject({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" }, c: 1 });
    expect(r.success).toBe(false);
    const e = invalidInput("VALIDATION_FAILED", "invalid thing", r.error!);
    expect(e.message).toBe(`invalid thing:\n${z.prettifyError(r.error!).replace(/^/gm, "  ")}`);
    expect(e.details?.issues).toEqual([
      { path: "a.b", message: "Invalid input: expected number, received string" },
      { path: "", message: 'Unrecognized key: "c"' },
    ]);
    expect(e.cause).toBe(r.error);
    const custom = invalidInput("CONFIG_INVALID", "Invalid configuration", [issue("X", "must be set")]);
    expect(custom.message).toBe("Invalid configuration:\n  ✖ must be set\n    → at X");
    expect(custom.cause).toBeUndefined();
  });
});

describe("the error handler", () => {
  const logs: Array<Record<string, any>> = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const logger = createLogger("info", { write: (line: string) => void logs.push(JSON.parse(line)) });
    const app = express();
    app.use(requestContext(logger));
    app.use(express.json({ limit: "1kb" }));
    app.post("/app-error", () => {
      throw new AppError("UNKNOWN_DOCUMENT", "unknown document id(s): nope", { details: { unknown: ["nope"] } });
    });
    app.post("/search", (req, res) => {
      res.json(parseBody(searchBody, req.body));
    });
    app.get("/boom", () => {
      throw new Error("secret internals at /srv/app.ts:12");
    });
    app.get("/async-boom", async () => {
      await Promise.resolve();
      throw new TypeError("cannot read properties of undefined");
    });
    app.get("/operator", () => {
      throw new AppError("MANIFEST_INVALID", "Invalid corpus manifest m.json: not valid JSON", { cause: new SyntaxError("Unexpected token"), details: { file: "m.json" } });
    });
    app.use(notFound());
    app.use(errorHandler());
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = async (p: string, body: string) => {
    const res = await fetch(`${base}${p}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
  };
  const get = async (p: string) => {
    const res = await fetch(`${base}${p}`);
    return { status: res.status, text: await res.text() };
  };

  it("answers an AppError with its status and {error: {code, message, details}}", async () => {
    const r = await post("/app-error", "{}");
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/application\/json/);
    expect(r.body).toEqual({ error: { code: "UNKNOWN_DOCUMENT", message: "unknown document id(s): nope", details: { unknown: ["nope"] } } });
  });

  it("answers a zod failure with 400 VALIDATION_FAILED, the prettified text and the issues", async () => {
    const r = await post("/search", JSON.stringify({ query: "", k: 0 }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("VALIDATION_FAILED");
    expect(r.body.error.message).toMatch(/^invalid request body:\n {2}✖ .*\n {4}→ at query/);
    expect(r.body.error.message).toMatch(/→ at k/);
    expect(r.body.error.details.issues).toEqual([
      { path: "query", message: expect.stringMatching(/>=1 characters/) },
      { path: "k", message: expect.stringMatching(/>=1/) },
    ]);
  });

  it("answers body-parser errors: invalid JSON (400 INVALID_JSON), too large (413 PAYLOAD_TOO_LARGE)", async () => {
    const bad = await post("/search", '{"query": ');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: { code: "INVALID_JSON", message: "request body is not valid JSON" } });
    const big = await post("/search", JSON.stringify({ query: "x".repeat(2000) }));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(big.body.error.message).toMatch(/limit of 1024 bytes/);
  });

  it("answers an unknown error with 500 INTERNAL, logs it with its stack, and never shows it", async () => {
    logs.length = 0;
    for (const p of ["/boom", "/async-boom"]) {
      const r = await get(p);
      expect(r.status).toBe(500);
      const body = JSON.parse(r.text);
      expect(body).toEqual({ error: { code: "INTERNAL", message: expect.stringContaining("X-Request-Id") } });
      expect(r.text).not.toMatch(/secret|cannot read|\.ts:\d+|at /);
    }
    const errors = logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]!.msg).toBe("unhandled error");
    expect(errors[0]!.err.message).toContain("secret internals");
    expect(errors[0]!.err.stack).toMatch(/at /);
    expect(errors[1]!.err.type).toBe("TypeError");
  });

  it("answers an operator code with 500 and its message, logging the root cause", async () => {
    logs.length = 0;
    const r = await get("/operator");
    expect(r.status).toBe(500);
    expect(JSON.parse(r.text)).toEqual({ error: { code: "MANIFEST_INVALID", message: "Invalid corpus manifest m.json: not valid JSON", details: { file: "m.json" } } });
    expect(r.text).not.toMatch(/Unexpected token|at /);
    const logged = logs.find((l) => l.level === 50);
    expect(JSON.stringify(logged?.err)).toContain("Unexpected token");
  });

  it("answers an unknown route with 404 NOT_FOUND", async () => {
    const r = await get("/nowhere");
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).error.code).toBe("NOT_FOUND");
  });

  it("maps any thrown value to an AppError, keeping the original as cause", () => {
    const original = { type: "entity.parse.failed" };
    expect(toAppError(original)).toMatchObject({ code: "INVALID_JSON", cause: original });
    expect(toAppError("a string")).toMatchObject({ code: "INTERNAL", cause: "a string" });
    const own = new AppError("TIMEOUT", "slow");
    expect(toAppError(own)).toBe(own);
  });
});

/** The AppError a call throws (or rejects with). */
async function caught(f: () => unknown): Promise<AppError> {
  try {
    await f();
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("former stray errors, now catalogue codes", () => {
  it("configuration: CONFIG_INVALID naming each variable and the value given", async () => {
    const e = await caught(() => loadConfig({ PORT: "99999", CHUNK_SIZE: "lots" }));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toMatch(/^Invalid configuration:\n/);
    expect(e.message).toMatch(/\(got "99999"\)\n\s+→ at PORT/);
    expect(e.details).toEqual({ issues: [expect.objectContaining({ path: "PORT" }), expect.objectContaining({ path: "CHUNK_SIZE" })] });
    const cross = await caught(() => loadConfig({ CHUNK_SIZE: "300", CHUNK_OVERLAP: "300", PRICE_TABLE: "{oops" }));
    expect(cross.code).toBe("CONFIG_INVALID");
    expect((cross.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual(["CHUNK_OVERLAP", "PRICE_TABLE"]);
    expect(cross.message).toContain("must be smaller than CHUNK_SIZE");
  });

  it("the index: INDEX_MISSING, INDEX_INVALID (with the cause)", async () => {
    const dir = await tempDir("errors-index");
    const embedder = { id: "x", dimensions: 3 } as never;
    expect((await caught(() => createIndexStore({ indexDir: dir }).open({ embedder, ef: 10 }))).code).toBe("INDEX_MISSING");
    await writeFile(path.join(dir, "manifest.json"), "{ half");
    const invalid = await caught(() => createIndexStore({ indexDir: dir }).open({ embedder, ef: 10 }));
    expect(invalid.code).toBe("INDEX_INVALID");
    expect(invalid.cause).toBeInstanceOf(SyntaxError);
  });

  it("documents: DOCUMENT_UNREADABLE with the file and the reason", async () => {
    const e = await caught(() => loadDocument(Buffer.alloc(0), "empty.md"));
    expect(e.code).toBe("DOCUMENT_UNREADABLE");
    expect(e.message).toBe("empty.md: empty file");
    expect(e.details).toEqual({ file: "empty.md", reason: "empty file" });
  });

  it("the corpus manifest: MANIFEST_INVALID naming the file, each field, and the cause", async () => {
    const dir = await tempDir("errors-manifest");
    const file = path.join(dir, "manifest.json");
    await writeFile(file, "{ not json");
    const json = await caught(() => loadCorpusManifest(file));
    expect(json).toMatchObject({ code: "MANIFEST_INVALID", details: { file } });
    expect(json.message).toContain(`${file}: not valid JSON`);
    expect(json.cause).toBeInstanceOf(SyntaxError);
    await writeFile(file, JSON.stringify({ documents: [{ id: "a" }] }));
    const schema = await caught(() => loadCorpusManifest(file));
    expect(schema.code).toBe("MANIFEST_INVALID");
    expect(schema.message).toMatch(/→ at documents\[0\]\.title/);
    expect((schema.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toContain("documents[0].title");
    expect((await caught(() => loadCorpusManifest(path.join(dir, "none.json")))).message).toMatch(/cannot read it \(ENOENT\)/);
  });

  it("the editions lock: CORPUS_LOCK_INVALID naming the file and saying what to do", async () => {
    const dir = await tempDir("errors-lock");
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ version: 2 }));
    const e = await caught(() => readLock(dir));
    expect(e).toMatchObject({ code: "CORPUS_LOCK_INVALID", details: { file: path.join(dir, LOCK_FILE) } });
    expect(e.message).toContain("delete it");
    expect(e.message).toMatch(/→ at version/);
  });

  it("prompts: UNKNOWN_PROMPT_VERSION naming the versions there are", async () => {
    const e = await caught(() => new PromptLibrary(path.join(PROJECT_ROOT, "prompts")).get("qa-v999"));
    expect(e.code).toBe("UNKNOWN_PROMPT_VERSION");
    expect(e.message).toMatch(/unknown prompt version "qa-v999"; available: .*qa-v1/);
    expect(e.details).toMatchObject({ version: "qa-v999", available: expect.arrayContaining(["qa-v1"]) });
    expect((await caught(() => new PromptLibrary(path.join(PROJECT_ROOT, "prompts")).get("../etc/passwd"))).code).toBe("UNKNOWN_PROMPT_VERSION");
  });

  it("re-index jobs: REINDEX_RUNNING naming the running job", async () => {
    let finish!: () => void;
    const build = () => new Promise<never>((_resolve, reject) => (finish = () => reject(new Error("stopped"))));
    const jobs = new Reindexer(build, async () => {});
    const first = await jobs.start();
    const e = await caught(() => jobs.start());
    expect(e.code).toBe("REINDEX_RUNNING");
    expect(e.message).toContain(first.jobId);
    expect(e.details).toEqual({ jobId: first.jobId });
    finish();
    await jobs.idle();
  });

  it("question sets: EVAL_SET_INVALID with each bad line, and a missing file", async () => {
    const e = await caught(() => parseEvalSet('{"id": "q1"}\n{bad', "set.jsonl"));
    expect(e.code).toBe("EVAL_SET_INVALID");
    expect(e.message).toMatch(/^Invalid question set set\.jsonl:\n {2}line 1:\n {4}✖ /);
    expect(e.message).toMatch(/ {2}line 2:\n {4}✖ not valid JSON/);
    expect((e.details as { issues: Array<{ line: number }> }).issues.map((i) => i.line)).toContain(2);
    const missing = await caught(() => loadEvalSet("/nonexistent/set.jsonl"));
    expect(missing).toMatchObject({ code: "EVAL_SET_INVALID", message: expect.stringContaining("file not found") });
  });

  it("evaluation setup: EVAL_SETUP when no index can be loaded, with the hint", async () => {
    const e = await caught(() => createEvalService({}, { env: { INDEX_DIR: path.join(PROJECT_ROOT, ".no-index-here"), LOG_LEVEL: "silent", EMBED_WORKERS: "1" } }));
    expect(e.code).toBe("EVAL_SETUP");
    expect(e.message).toMatch(/cannot load the index .*run: npm run ingest/);
  });
});

describe("the CLIs keep their exit codes, now keyed by code", () => {
  it("corpus:fetch exits 1 on a bad manifest (MANIFEST_INVALID) or lock (CORPUS_LOCK_INVALID), with the message", async () => {
    const dir = await tempDir("errors-cli");
    const manifest = path.join(dir, "manifest.json");
    await writeFile(manifest, "{ not json");
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      expect(await fetchMain(["--manifest", manifest, "--corpus", path.join(dir, "corpus")], {})).toBe(1);
      expect(lines.join("\n")).toMatch(/error: Invalid corpus manifest .*not valid JSON/);
      expect(lines.join("\n")).toContain("exit 1: usage, configuration, manifest or corpus-directory error.");

      lines.length = 0;
      const corpus = path.join(dir, "corpus2");
      await mkdir(corpus);
      await writeFile(path.join(corpus, LOCK_FILE), "{ half a lock");
      const edition = { file: "a.md", mediaType: "text/markdown", sha256: null };
      const documents = [{ id: "a", title: "A", authors: [], year: 2020, kind: "paper", url: "https://example.test/a", editions: { mirror: edition, original: { ...edition, url: "https://example.test/a.md" } } }];
      await writeFile(manifest, JSON.stringify({ documents }));
      expect(await fetchMain(["--manifest", manifest, "--corpus", corpus], {})).toBe(1);
      expect(lines.join("\n")).toMatch(/error: Invalid editions lock/);

      lines.length = 0;
      expect(await fetchMain(["--manifest", manifest], { PORT: "nope" })).toBe(1);
      expect(lines.join("\n")).toMatch(/error: Invalid configuration:/);
    } finally {
      spy.mockRestore();
      vi.restoreAllMocks();
    }
  });

  it("eval exits 2 on usage (USAGE) and setup (EVAL_SETUP) errors", async () => {
    const { main: evalMain, parseEvalArgs } = await import("../../src/cli/eval.js");
    expect((await caught(() => parseEvalArgs(["--k", "0"]))).code).toBe("USAGE");
    expect((await caught(() => parseEvalArgs(["--bogus"]))).code).toBe("USAGE");
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    try {
      expect(await evalMain(["--cv", "1"])).toBe(2);
      expect(lines.join("\n")).toMatch(/--cv must be an integer from 2 to 20 \(got 1\)\nUsage: npm run eval/);
      lines.length = 0;
      expect(await evalMain(["--set", "/nonexistent/set.jsonl"], {})).toBe(2);
      expect(lines.join("\n")).toBe("eval: question set not found: /nonexistent/set.jsonl");
    } finally {
      vi.restoreAllMocks();
    }
  });
});

// The map is total over the catalogue at the type level too (a missing or extra key fails `npm run typecheck`).
const _total: Record<ErrorCode, number> = HTTP_STATUS;
void _total;
