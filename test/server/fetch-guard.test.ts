/**
 * The SSRF guard on documents added by URL (src/service/fetch-guard.ts). No packet leaves loopback:
 *   - a stub resolver maps test names to private, link-local, metadata and IPv6-mapped addresses, and a
 *     stub connector records every connection attempt: each refusal happens before any;
 *   - real file servers on 127.0.0.1 and [::1] prove that a loopback URL is refused through the HTTP API
 *     (the server never sees a request), and fetched and indexed once ALLOWED_FETCH_HOSTS lists it;
 *   - redirects (to a metadata name, past the limit), size and time limits against a loopback server
 *     that the allow list opens.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../src/errors.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { guardedDownload, pinnedLookup, refusedRange, type FetchLimits, type GuardFetch, type Resolver } from "../../src/service/fetch-guard.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";
import { getJson, postJson } from "../helpers/http.js";

const LIMITS: FetchLimits = { allowedHosts: [], timeoutMs: 5000, maxRedirects: 3, maxBytes: 1_000_000 };

/** Test names and what the stub resolver says they resolve to (never asked of DNS). */
const NAMES: Record<string, string[]> = {
  "private10.test": ["10.1.2.3"],
  "private172.test": ["172.20.0.9"],
  "private192.test": ["192.168.0.10"],
  "cgnat.test": ["100.64.1.1"],
  "loopback.test": ["127.0.0.1"],
  "linklocal.test": ["169.254.10.20"],
  "metadata.test": ["169.254.169.254"],
  "metadata6.test": ["fd00:ec2::254"],
  "mapped.test": ["::ffff:169.254.169.254"],
  "mapped-private.test": ["::ffff:10.0.0.1"],
  "loopback6.test": ["::1"],
  "linklocal6.test": ["fe80::1"],
  "ula.test": ["fc00::7"],
  "unspecified.test": ["0.0.0.0"],
  // One bad address among good-looking ones is enough to refuse.
  "mixed.test": ["93.184.216.34", "10.0.0.1"],
};
const stubResolver: Resolver = async (name) => {
  const found = NAMES[name];
  if (!found) throw Object.assign(new Error(`no stub for ${name}`), { code: "ENOTFOUND" });
  return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

/** A connector that records what would have been connected to, and never connects. */
function recordingFetch() {
  const calls: string[] = [];
  const fetch: GuardFetch = async (url) => {
    calls.push(url.href);
    throw new Error("the stub connector never connects");
  };
  return { calls, fetch };
}

async function refusal(url: string, limits = LIMITS) {
  const { calls, fetch } = recordingFetch();
  const err = await guardedDownload(url, limits, { resolver: stubResolver, fetch }).catch((e: unknown) => e);
  return { err, calls };
}

describe("refusals before any connection (stub resolver, recording connector)", () => {
  it.each(Object.keys(NAMES))("refuses http://%s/ (URL_NOT_ALLOWED, nothing connected)", async (name) => {
    const { err, calls } = await refusal(`http://${name}/paper.pdf`);
    expect(isAppError(err, "URL_NOT_ALLOWED"), String(err)).toBe(true);
    expect((err as Error).message).toContain(name);
    expect(calls).toEqual([]);
  });

  it.each([
    "http://127.0.0.1/x",
    "http://127.1.2.3:8080/x",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:7f00:1]/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "https://192.168.1.1/",
  ])("refuses the IP literal %s", async (url) => {
    const { err, calls } = await refusal(url);
    expect(isAppError(err, "URL_NOT_ALLOWED"), String(err)).toBe(true);
    expect(calls).toEqual([]);
  });

  it.each(["file:///etc/passwd", "ftp://example.test/a.pdf", "gopher://example.test/", "data:text/plain,hi", "javascript:alert(1)"])("refuses the scheme of %s", async (url) => {
    const { err, calls } = await refusal(url);
    expect(isAppError(err, "URL_NOT_ALLOWED"), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/only http and https/);
    expect(calls).toEqual([]);
  });

  it("refuses URLs with credentials", async () => {
    const { err, calls } = await refusal("http://user:pw@mixed.test/");
    expect(isAppError(err, "URL_NOT_ALLOWED")).toBe(true);
    expect((err as Error).message).not.toContain("pw");
    expect(calls).toEqual([]);
  });

  it("classifies public unicast as allowed and the rest as refused", () => {
    expect(refusedRange("93.184.216.34")).toBeNull();
    expect(refusedRange("2606:4700::1111")).toBeNull();
    expect(refusedRange("::ffff:93.184.216.34")).toBeNull();
    expect(refusedRange("169.254.169.254")).toBe("linkLocal");
    expect(refusedRange("::ffff:10.0.0.1")).toBe("IPv4-mapped private");
    expect(refusedRange("not-an-ip")).toBe("not an IP address");
  });
});

// ---------------------------------------------------------------------------------------------
// Real loopback servers

interface FileServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

const DOC = "# Mixture of Experts\n\n## Routing\n\nA router sends each token to its top two experts, and an auxiliary loss balances the load across experts.\n";

async function fileServer(host: string, handler?: http.RequestListener): Promise<FileServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (handler) return handler(req, res);
    res.writeHead(200, { "content-type": "text/markdown" }).end(DOC);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("limits and redirects, against a loopback server the allow list opens", () => {
  let files: FileServer;
  const allowed = { ...LIMITS, allowedHosts: ["127.0.0.1", "docs.test"] };
  // docs.test is allowed and resolves to the loopback server; metadata.test is not.
  const resolver: Resolver = async (name) => (name === "docs.test" ? [{ address: "127.0.0.1", family: 4 }] : stubResolver(name));

  beforeAll(async () => {
    files = await fileServer("127.0.0.1", (req, res) => {
      const port = (files as FileServer).url.split(":").pop();
      if (req.url === "/to-metadata") return res.writeHead(302, { location: "http://metadata.test/latest/meta-data/" }).end();
      if (req.url === "/to-loopback-literal") return res.writeHead(301, { location: "http://[::1]/x" }).end();
      if (req.url === "/to-allowed") return res.writeHead(307, { location: `http://docs.test:${port}/doc.md` }).end();
      if (req.url?.startsWith("/loop")) return res.writeHead(302, { location: `/loop${Number(req.url.slice(5) || 0) + 1}` }).end();
      if (req.url === "/big-declared") return res.writeHead(200, { "content-length": String(2_000_000) }).end();
      if (req.url === "/big-chunked") {
        res.writeHead(200, { "content-type": "text/markdown" });
        const block = "x".repeat(64 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 40 && res.write(block)) sent++;
          if (sent < 40) res.once("drain", pump);
          else res.end();
        };
        return pump();
      }
      if (req.url === "/slow") {
        res.writeHead(200, { "content-type": "text/markdown" });
        res.write("# start\n");
        return; // never ends
      }
      res.writeHead(200, { "content-type": "text/markdown" }).end(DOC);
    });
  });
  afterAll(async () => {
    await files?.close();
  });

  it("downloads from an allowed host, following a redirect to another allowed one", async () => {
    // docs.test is in no DNS: the download reaching the server proves the connection used the address
    // the guard checked (the pinned lookup), not a second resolution.
    const got = await guardedDownload(`${files.url}/to-allowed`, allowed, { resolver });
    expect(got.data.toString()).toBe(DOC);
    expect(got.url.hostname).toBe("docs.test");
  });

  it("checks every redirect hop: a redirect to a metadata name or a loopback literal is refused before connecting", async () => {
    const before = files.requests.length;
    const meta = await guardedDownload(`${files.url}/to-metadata`, allowed, { resolver }).catch((e: unknown) => e);
    expect(isAppError(meta, "URL_NOT_ALLOWED"), String(meta)).toBe(true);
    expect((meta as Error).message).toContain("169.254.169.254");
    const literal = await guardedDownload(`${files.url}/to-loopback-literal`, allowed, { resolver }).catch((e: unknown) => e);
    expect(isAppError(literal, "URL_NOT_ALLOWED"), String(literal)).toBe(true);
    // Only the two first hops reached the (loopback) server.
    expect(files.requests.slice(before)).toEqual(["GET /to-metadata", "GET /to-loopback-literal"]);
  });

  it("stops after FETCH_MAX_REDIRECTS redirects", async () => {
    const err = await guardedDownload(`${files.url}/loop0`, allowed, { resolver }).catch((e: unknown) => e);
    expect(isAppError(err, "INVALID_DOCUMENT")).toBe(true);
    expect((err as Error).message).toMatch(/more than 3 redirects/);
  });

  it("refuses a body over the size limit, declared or streamed", async () => {
    const declared = await guardedDownload(`${files.url}/big-declared`, allowed, { resolver }).catch((e: unknown) => e);
    expect(isAppError(declared, "PAYLOAD_TOO_LARGE")).toBe(true);
    const chunked = await guardedDownload(`${files.url}/big-chunked`, allowed, { resolver }).catch((e: unknown) => e);
    expect(isAppError(chunked, "PAYLOAD_TOO_LARGE")).toBe(true);
  });

  it("gives up at the time limit", async () => {
    const started = Date.now();
    const err = await guardedDownload(`${files.url}/slow`, { ...allowed, timeoutMs: 300 }, { resolver }).catch((e: unknown) => e);
    expect(isAppError(err, "INVALID_DOCUMENT")).toBe(true);
    expect((err as Error).message).toMatch(/within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("the connector's lookup (DNS rebinding)", () => {
  it("answers only with the checked addresses, and refuses a host that was not checked", async () => {
    const lookup = pinnedLookup(new Map([["docs.test", [{ address: "127.0.0.1", family: 4 as const }]]]));
    const ask = (host: string, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => lookup(host, { all }, (err, result, family) => resolve({ err, result: all ? result : [result, family] })));
    expect(await ask("docs.test", true)).toEqual({ err: null, result: [{ address: "127.0.0.1", family: 4 }] });
    expect(await ask("DOCS.test", false)).toEqual({ err: null, result: ["127.0.0.1", 4] });
    const other = await ask("rebound.test", false);
    expect(other.err?.code).toBe("ENOTFOUND");
    expect(other.err?.message).toMatch(/not checked/);
  });
});

describe("POST /v1/admin/documents {url} through the HTTP API", () => {
  const TOKEN = "guard-token";
  const auth = { authorization: `Bearer ${TOKEN}` };
  let v4: FileServer;
  let v6: FileServer;
  const servers: RunningServer[] = [];
  let corpus: { corpusDir: string; manifest: string };
  let indexDir: string;

  beforeAll(async () => {
    v4 = await fileServer("127.0.0.1");
    v6 = await fileServer("::1");
    corpus = await writeCorpus(SAMPLE_DOCS);
    indexDir = await tempDir("index");
    await ingestWithConfig(testConfig({ ...corpus, indexDir }));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await v4?.close();
    await v6?.close();
  });

  async function serve(env: Record<string, string> = {}) {
    const s = await startServer(testConfig({ ...corpus, indexDir }, { ADMIN_TOKEN: TOKEN, ...env }));
    servers.push(s);
    return s.url;
  }

  it("refuses loopback URLs (127.0.0.1, [::1], localhost) with 400 URL_NOT_ALLOWED; the file servers see no request", async () => {
    const base = await serve();
    const port4 = v4.url.split(":").pop();
    for (const url of [`${v4.url}/doc.md`, `${v6.url}/doc.md`, `http://localhost:${port4}/doc.md`]) {
      const r = await postJson(base, "/v1/admin/documents", { url }, auth);
      expect(r.status, url).toBe(400);
      expect(r.body.error.code, url).toBe("URL_NOT_ALLOWED");
      expect(r.body.error.message).toMatch(/loopback/);
    }
    const scheme = await postJson(base, "/v1/admin/documents", { url: "file:///etc/passwd" }, auth);
    expect(scheme.status).toBe(400);
    expect(scheme.body.error.code).toBe("URL_NOT_ALLOWED");
    expect(v4.requests).toEqual([]);
    expect(v6.requests).toEqual([]);
  });

  it("fetches and indexes from a loopback server once ALLOWED_FETCH_HOSTS lists it", async () => {
    const base = await serve({ ALLOWED_FETCH_HOSTS: "127.0.0.1,[::1]" });
    const r = await postJson(base, "/v1/admin/documents", { url: `${v6.url}/moe-notes.md`, id: "moe-notes" }, auth);
    expect(r.status).toBe(202);
    expect(v6.requests).toEqual(["GET /moe-notes.md"]);
    const until = Date.now() + 60_000;
    let job: any;
    while (Date.now() < until) {
      job = (await getJson(base, `/v1/admin/reindex/${r.body.jobId}`, auth)).body;
      if (job.status !== "running") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(job.status).toBe("succeeded");
    const search = await postJson(base, "/v1/search", { query: "auxiliary loss balances the load across experts", docs: ["moe-notes"] });
    expect(search.body.results[0].docId).toBe("moe-notes");
  });
});
