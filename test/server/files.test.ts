/**
 * GET /v1/documents/:id/file, the local documents behind citations, against a real server: a PDF as
 * application/pdf with range requests and caching headers, markdown and HTML as sanitised pages whose
 * section anchors are the ones citation links end with, the raw file, and a file changed since indexing.
 */
import { appendFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/index.js";
import { BLOG_PAGE_HTML } from "../helpers/blog-page.js";
import { SAMPLE_DOCS, indexedFixture } from "../helpers/fixtures.js";
import { getJson, postJson } from "../helpers/http.js";

const HOSTILE = [
  "# Hostile notes",
  "",
  "## Mixture routing",
  "",
  "A router sends each token to its top two experts. <script>alert('md')</script>",
  "",
  '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">click</a> <iframe src="https://example.org"></iframe>',
  "",
  "[a safe link](https://example.org/moe), [in-page](#s-mixture-routing) and [a relative one](/2023/other.html)",
  "",
].join("\n");

let server: RunningServer;
let base: string;
let corpusDir: string;

beforeAll(async () => {
  const fixture = await indexedFixture([
    ...SAMPLE_DOCS,
    { id: "hostile", title: "Hostile Notes", file: "hostile.md", content: HOSTILE },
    { id: "blog", title: "Building LLM applications for production", file: "blog.html", content: BLOG_PAGE_HTML },
  ]);
  corpusDir = fixture.dirs.corpusDir;
  server = await startServer(fixture.config);
  base = server.url;
});

afterAll(async () => {
  await server?.close();
});

describe("a PDF", () => {
  it("is served inline as application/pdf with validators and an hour's caching", async () => {
    const r = await fetch(`${base}/v1/documents/transformer/file`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/pdf");
    expect(r.headers.get("content-disposition")).toBe('inline; filename="transformer.pdf"');
    expect(r.headers.get("accept-ranges")).toBe("bytes");
    expect(r.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(r.headers.get("etag")).toBeTruthy();
    expect(r.headers.get("last-modified")).toBeTruthy();
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.subarray(0, 5).toString()).toBe("%PDF-");
    expect(Number(r.headers.get("content-length"))).toBe(body.length);

    const part = await fetch(`${base}/v1/documents/transformer/file`, { headers: { range: "bytes=0-4" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-4/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe("%PDF-");

    const tail = await fetch(`${base}/v1/documents/transformer/file`, { headers: { range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(body.subarray(body.length - 10));

    const same = await fetch(`${base}/v1/documents/transformer/file`, { headers: { "if-none-match": r.headers.get("etag")!, "cache-control": "max-age=0" } });
    expect(same.status).toBe(304);

    const outside = await fetch(`${base}/v1/documents/transformer/file`, { headers: { range: `bytes=${body.length + 10}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get("content-range")).toBe(`bytes */${body.length}`);
    expect(outside.headers.get("content-type")).toContain("application/json");
    expect((await outside.json()).error.code).toBe("RANGE_NOT_SATISFIABLE");
  });

  it("is what PDF citations link to, at their page", async () => {
    const r = await postJson(base, "/v1/ask", { question: "Which optimizer was used to train the Transformer?", docs: ["transformer"] });
    const c = r.body.citations.find((x: { cited: boolean }) => x.cited);
    expect(c.url).toBe(`${base}/v1/documents/transformer/file#page=${c.page}`);
    expect((await fetch(c.url.split("#")[0])).headers.get("content-type")).toBe("application/pdf");
  });
});

describe("markdown and HTML", () => {
  it("render as a page with an anchor for each section a citation can name", async () => {
    const r = await fetch(`${base}/v1/documents/ops/file`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await r.text();
    expect(html).toContain("<title>Running LLMs in Production</title>");
    expect(html).toMatch(/<h2 id="s-distillation">Distillation<\/h2>/);
    expect(html).toMatch(/<h2 id="s-cost">Cost<\/h2>/);
    expect(html).toContain('href="https://example.org/ops.md"'); // the original

    const ask = await postJson(base, "/v1/ask", { question: "What is distillation?", docs: ["ops"] });
    const c = ask.body.citations.find((x: { cited: boolean }) => x.cited);
    const [page, fragment] = c.url.split("#");
    expect(page).toBe(`${base}/v1/documents/ops/file`);
    expect(html).toContain(`id="${fragment}"`);

    const same = await fetch(`${base}/v1/documents/ops/file`, { headers: { "if-none-match": r.headers.get("etag")!, "cache-control": "max-age=0" } });
    expect(same.status).toBe(304);
  });

  it("is sanitised: no scripts, handlers, frames or javascript: links; in-page anchors kept", async () => {
    const html = await (await fetch(`${base}/v1/documents/hostile/file`)).text();
    const body = html.slice(html.indexOf('<main class="doc-body">'));
    expect(body).toContain("A router sends each token to its top two experts.");
    expect(body).not.toMatch(/<script|onerror|javascript:|<iframe|<img/i);
    expect(body).not.toContain("alert('md')");
    expect(body).toContain('<a href="https://example.org/moe" rel="noopener noreferrer nofollow">a safe link</a>');
    expect(body).toContain('<a href="#s-mixture-routing">in-page</a>');
    // A relative link leads to the original's site (https://example.org/hostile.md), not to this server.
    expect(body).toContain('<a href="https://example.org/2023/other.html" rel="noopener noreferrer nofollow">a relative one</a>');
    expect(body).toContain('<h2 id="s-mixture-routing">');
    // The page itself runs no script either, and is served under the app's CSP.
    expect(html).not.toMatch(/<script/i);
  });

  it("an HTML post renders its article only (no site chrome, no scripts)", async () => {
    const html = await (await fetch(`${base}/v1/documents/blog/file`)).text();
    expect(html).toContain("Part I. Challenges of productionizing prompt engineering");
    expect(html).not.toContain("NOT-CONTENT");
    // The post's own relative links lead to the original site, not to this server.
    const hrefs = [...html.slice(html.indexOf('<main class="doc-body">')).matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    for (const h of hrefs) expect(h, h).toMatch(/^(https:\/\/|#)/);
    expect(html).not.toMatch(/<script/i);
  });

  it("?raw gives the indexed file itself as text/plain", async () => {
    const r = await fetch(`${base}/v1/documents/hostile/file?raw`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await r.text()).toBe(HOSTILE);
  });
});

describe("refusals", () => {
  it("404 for an unknown document, 409 DOCUMENT_CHANGED for a file that is no longer the indexed one", async () => {
    const unknown = await getJson(base, "/v1/documents/nope/file");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");

    await appendFile(path.join(corpusDir, "rlhf.pdf"), "\n% appended after indexing\n");
    const changed = await getJson(base, "/v1/documents/rlhf/file");
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe("DOCUMENT_CHANGED");
  });

  it("GET /v1/documents gives each document's file link beside its original", async () => {
    const r = await getJson(base, "/v1/documents");
    const t = r.body.documents.find((d: { id: string }) => d.id === "transformer");
    expect(t.fileUrl).toBe(`${base}/v1/documents/transformer/file`);
    expect(t.url).toBe("https://example.org/transformer.pdf");
  });
});
