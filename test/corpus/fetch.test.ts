import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { main } from "../../src/cli/fetch.js";
import { resolveEntries } from "../../src/corpus/catalog.js";
import { exitCodeFor, fetchCorpus, formatProblem, type FetchResult } from "../../src/corpus/fetch.js";
import { LOCK_FILE, readLock } from "../../src/corpus/lock.js";
import { isAppError } from "../../src/errors.js";
import { loadCorpusManifest, sha256File, type CorpusDocument, type Edition } from "../../src/corpus/manifest.js";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const sha = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** A markdown edition; `content` null = no pinned checksum. */
const md = (file: string, content: string | null): Edition => ({ file, mediaType: "text/markdown", sha256: content === null ? null : sha(content) });
const at = (e: Edition, url = `https://example.test/${e.file}`) => ({ ...e, url });

function doc(id: string, editions: CorpusDocument["editions"]): CorpusDocument {
  return { id, title: `Title of ${id}`, authors: ["A. Author"], year: 2020, kind: "paper", url: `https://example.test/${id}`, editions };
}
/** One file that is both the mirror's and the URL's (an untouched original in the mirror). */
const single = (id: string, content: string | null) => doc(id, { mirror: md(`${id}.md`, content), original: at(md(`${id}.md`, content)) });
/** A mirror edition (`<id>.md`) and a different original edition (`<id>.html`) with no known checksum. */
const twoEditions = (id: string, mirrorContent: string) =>
  doc(id, { mirror: md(`${id}.md`, mirrorContent), original: { url: `https://example.test/${id}.html`, file: `${id}.html`, mediaType: "text/html", sha256: null } });

const offline = () => vi.fn<typeof fetch>(async () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } })));
const serving = (body: string, init?: ResponseInit) => vi.fn<typeof fetch>(async () => new Response(body, init));
const byId = (results: FetchResult[], id: string) => results.find((r) => r.id === id)!;
/** The corpus folder's entries, without the lock file. */
const documentsIn = async (dir: string) => (await readdir(dir)).filter((f) => f !== LOCK_FILE).sort();

let tmp: string;
let mirrorDir: string;
let corpusDir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "corpus-fetch-"));
  mirrorDir = path.join(tmp, "mirror");
  corpusDir = path.join(tmp, "corpus");
  await mkdir(mirrorDir);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(tmp, { recursive: true, force: true });
});

describe("fetchCorpus", () => {
  it("copies the mirror edition from the mirror and verifies its pinned checksum", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const fetchImpl = offline();
    const report = await fetchCorpus({ documents: [twoEditions("a", "alpha text")], corpusDir, mirrorDir, fetchImpl });

    expect(report.results).toEqual([{ id: "a", file: "a.md", edition: "mirror", status: "copied", bytes: 10, sha256: sha("alpha text"), checksum: "pinned" }]);
    expect(report.ok).toBe(true);
    expect(exitCodeFor(report)).toBe(0);
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("alpha text");
    expect(await readdir(corpusDir)).toEqual(["a.md", LOCK_FILE]); // no temp files left
    expect((await readLock(corpusDir)).present).toEqual({ a: { edition: "mirror", file: "a.md" } });
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("is idempotent: a second run leaves verified files and the lock alone", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    await writeFile(path.join(mirrorDir, "b.md"), "beta text");
    const documents = [single("a", "alpha text"), single("b", null)];
    await fetchCorpus({ documents, corpusDir, mirrorDir, fetchImpl: offline() });
    const before = await stat(path.join(corpusDir, "a.md"));
    const lockBefore = await stat(path.join(corpusDir, LOCK_FILE));

    const fetchImpl = offline();
    const report = await fetchCorpus({ documents, corpusDir, mirrorDir, fetchImpl });

    expect(report.results.map((r) => [r.status, r.checksum])).toEqual([
      ["present", "pinned"],
      ["present", "recorded"],
    ]);
    const after = await stat(path.join(corpusDir, "a.md"));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect((await stat(path.join(corpusDir, LOCK_FILE))).mtimeMs).toBe(lockBefore.mtimeMs);
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(exitCodeFor(report)).toBe(0);
  });

  it("rejects a checksum mismatch, names file and both hashes, and keeps nothing", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "tampered");
    const report = await fetchCorpus({ documents: [single("a", "original")], corpusDir, mirrorDir, fetchImpl: offline() });

    const [r] = report.results;
    expect(r?.status).toBe("checksum-mismatch");
    expect(r?.reason).toContain("a.md");
    expect(r?.reason).toContain(sha("original"));
    expect(r?.reason).toContain(sha("tampered"));
    expect(await readdir(corpusDir)).toEqual([]);
    expect(report.ok).toBe(false);
    expect(exitCodeFor(report)).toBe(3);
  });

  it("replaces a corrupt file already in the corpus", async () => {
    await mkdir(corpusDir);
    await writeFile(path.join(corpusDir, "a.md"), "corrupt");
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const report = await fetchCorpus({ documents: [single("a", "alpha text")], corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results[0]?.status).toBe("copied");
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("alpha text");
  });

  it("deletes a corrupt corpus file it cannot replace and reports a mismatch", async () => {
    await mkdir(corpusDir);
    await writeFile(path.join(corpusDir, "a.md"), "corrupt");
    const report = await fetchCorpus({ documents: [single("a", "alpha text")], corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results[0]?.status).toBe("checksum-mismatch");
    expect(report.results[0]?.reason).toContain(sha("corrupt"));
    expect(existsSync(path.join(corpusDir, "a.md"))).toBe(false);
    expect(exitCodeFor(report)).toBe(3);
  });

  it("reports a document it cannot get as missing and carries on with the others", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    await writeFile(path.join(mirrorDir, "c.md"), "gamma text");
    const fetchImpl = offline();
    const documents = [single("a", "alpha text"), single("b", "beta text"), single("c", "gamma text")];
    const report = await fetchCorpus({ documents, corpusDir, mirrorDir, fetchImpl });

    expect(report.results.map((r) => r.status)).toEqual(["copied", "missing", "copied"]);
    const b = byId(report.results, "b");
    expect(b.file).toBe("b.md");
    expect(b.reason).toContain(`not in mirror ${mirrorDir}`);
    expect(b.reason).toContain("https://example.test/b.md");
    expect(b.reason).toContain("fetch failed (ENOTFOUND)");
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(await documentsIn(corpusDir)).toEqual(["a.md", "c.md"]);
    expect(exitCodeFor(report)).toBe(0);
    expect(exitCodeFor(report, true)).toBe(2);
  });

  it("gives a checksum mismatch precedence over a missing document in the exit code", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "tampered");
    const documents = [single("a", "original"), single("b", "beta text")];
    const report = await fetchCorpus({ documents, corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results.map((r) => r.status)).toEqual(["checksum-mismatch", "missing"]);
    expect(exitCodeFor(report)).toBe(3);
  });

  it("downloads the original edition when the mirror lacks the mirror edition", async () => {
    const fetchImpl = serving("<html><body><p>downloaded page</p></body></html>", { headers: { "content-type": "text/html; charset=utf-8" } });
    const report = await fetchCorpus({ documents: [twoEditions("a", "alpha text")], corpusDir, mirrorDir, fetchImpl });

    expect(report.results[0]).toMatchObject({ status: "downloaded", edition: "original", file: "a.html", checksum: "first-use" });
    expect(fetchImpl).toHaveBeenCalledWith("https://example.test/a.html", expect.objectContaining({ redirect: "follow" }));
    expect(await documentsIn(corpusDir)).toEqual(["a.html"]);
  });

  it("without a mirror, records the checksum of an edition that has none on first fetch", async () => {
    const report = await fetchCorpus({ documents: [single("a", null)], corpusDir, fetchImpl: serving("whatever") });

    expect(report.results[0]).toMatchObject({ status: "downloaded", edition: "original", sha256: sha("whatever"), checksum: "first-use" });
    const lock = await readLock(corpusDir);
    expect(lock.firstUse["a.md"]).toMatchObject({ sha256: sha("whatever"), source: "https://example.test/a.md" });
    expect(Date.parse(lock.firstUse["a.md"]!.recordedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("refuses bytes that differ from the checksum recorded on first fetch, and says how to accept them", async () => {
    const documents = [single("a", null)];
    await fetchCorpus({ documents, corpusDir, fetchImpl: serving("first bytes") });
    await rm(path.join(corpusDir, "a.md"));

    const report = await fetchCorpus({ documents, corpusDir, fetchImpl: serving("changed bytes") });

    const r = report.results[0]!;
    expect(r.status).toBe("checksum-mismatch");
    expect(r.reason).toContain(`expected ${sha("first bytes")} (recorded on first fetch from https://example.test/a.md`);
    expect(r.reason).toContain(`got ${sha("changed bytes")}`);
    expect(r.reason).toContain(`remove "a.md" from ${LOCK_FILE}`);
    expect(exitCodeFor(report)).toBe(3);
    expect(await documentsIn(corpusDir)).toEqual([]);
    expect((await readLock(corpusDir)).firstUse["a.md"]?.sha256).toBe(sha("first bytes")); // the record stands
    expect((await readLock(corpusDir)).present).toEqual({});
  });

  it("replaces a file that differs from its recorded checksum when the source still has the recorded bytes", async () => {
    const documents = [single("a", null)];
    await fetchCorpus({ documents, corpusDir, fetchImpl: serving("first bytes") });
    await writeFile(path.join(corpusDir, "a.md"), "corrupted on disk");

    const report = await fetchCorpus({ documents, corpusDir, fetchImpl: serving("first bytes") });

    expect(report.results[0]).toMatchObject({ status: "downloaded", checksum: "recorded" });
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("first bytes");
  });

  it("deletes a file that differs from its recorded checksum when it cannot be fetched again, and says what to do", async () => {
    const documents = [single("a", null)];
    await fetchCorpus({ documents, corpusDir, fetchImpl: serving("first bytes") });
    await writeFile(path.join(corpusDir, "a.md"), "edited by hand");

    const report = await fetchCorpus({ documents, corpusDir, fetchImpl: offline() });

    expect(report.results[0]?.status).toBe("checksum-mismatch");
    expect(report.results[0]?.reason).toContain(`expected ${sha("first bytes")} (recorded on first fetch`);
    expect(report.results[0]?.reason).toContain(`got ${sha("edited by hand")}`);
    expect(report.results[0]?.reason).toContain(`remove "a.md" from ${LOCK_FILE}`);
    expect(await documentsIn(corpusDir)).toEqual([]);
  });

  it("counts a verified file of either edition as present: no copy, no download", async () => {
    const documents = [twoEditions("a", "alpha text")];
    await fetchCorpus({ documents, corpusDir, fetchImpl: serving("<p>the page</p>", { headers: { "content-type": "text/html" } }) });
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");

    const fetchImpl = offline();
    const report = await fetchCorpus({ documents, corpusDir, mirrorDir, fetchImpl });

    expect(report.results[0]).toMatchObject({ status: "present", edition: "original", file: "a.html", checksum: "recorded" });
    expect(await documentsIn(corpusDir)).toEqual(["a.html"]);
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("never records an error page as a PDF's checksum", async () => {
    const pdfDoc = doc("p", { original: { url: "https://example.test/pdf/1", file: "p.pdf", mediaType: "application/pdf", sha256: null } });
    const fetchImpl = serving("<!DOCTYPE html><title>Just a moment...</title>", { headers: { "content-type": "text/html" } });
    const report = await fetchCorpus({ documents: [pdfDoc], corpusDir, fetchImpl });

    expect(report.results[0]?.status).toBe("missing");
    expect(report.results[0]?.reason).toContain('the server sent text/html, not a PDF (it starts with "<!DOCTYPE html><title>Ju")');
    expect(await readdir(corpusDir)).toEqual([]);
  });

  it("treats HTTP 404 as missing and keeps no file", async () => {
    const fetchImpl = serving("nope", { status: 404, statusText: "Not Found" });
    const report = await fetchCorpus({ documents: [single("a", null)], corpusDir, mirrorDir, fetchImpl });

    expect(report.results[0]?.status).toBe("missing");
    expect(report.results[0]?.reason).toContain("HTTP 404");
    expect(await readdir(corpusDir)).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
    expect(exitCodeFor(report, true)).toBe(2);
  });

  it("reports a download that times out as missing", async () => {
    const fetchImpl = vi.fn<typeof fetch>(
      (_url, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))),
    );
    const report = await fetchCorpus({ documents: [single("a", null)], corpusDir, fetchImpl, timeoutMs: 50 });

    expect(report.results[0]?.status).toBe("missing");
    expect(report.results[0]?.reason).toContain("timed out after 50 ms");
  });

  it("reports each document through onEvent", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const events: string[] = [];
    await fetchCorpus({
      documents: [single("a", "alpha text"), single("b", null)],
      corpusDir,
      mirrorDir,
      fetchImpl: offline(),
      onEvent: (e) => events.push(e.type === "start" ? `start ${e.document.id}` : `${e.result.id} ${e.result.status}`),
    });
    expect(events).toEqual(["start a", "a copied", "start b", "b missing"]);
  });

  it("refuses to work with an unreadable lock file, naming it", async () => {
    await mkdir(corpusDir);
    await writeFile(path.join(corpusDir, LOCK_FILE), "{ half a lock");
    const err = await fetchCorpus({ documents: [single("a", null)], corpusDir, fetchImpl: offline() }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: "CORPUS_LOCK_INVALID", details: { file: path.join(corpusDir, LOCK_FILE) } });
    expect((err as Error).message).toContain(path.join(corpusDir, LOCK_FILE));
    expect((err as Error).message).toContain("delete it");
  });
});

describe("formatProblem", () => {
  it("accepts what looks like the edition's format and refuses what does not", () => {
    expect(formatProblem("application/pdf", Buffer.from("%PDF-1.5\n"), "application/octet-stream")).toBeUndefined();
    expect(formatProblem("text/html", Buffer.from("<!doctype html>"), "text/html; charset=utf-8")).toBeUndefined();
    expect(formatProblem("text/html", Buffer.from("%PDF-1.5"), "application/pdf")).toMatch(/a PDF, not text\/html/);
    expect(formatProblem("text/html", Buffer.from("{}"), "application/json")).toMatch(/not an HTML page/);
    expect(formatProblem("text/markdown", Buffer.from([0x50, 0x4b, 0x00, 0x01]))).toMatch(/binary/);
  });
});

describe("resolveEntries: which edition ingest reads", () => {
  const documents = [twoEditions("a", "alpha text")];

  it("is the edition the lock names, else the one whose file is there, else the mirror edition", async () => {
    await mkdir(corpusDir);
    expect((await resolveEntries(documents, corpusDir))[0]).toMatchObject({ file: "a.md", edition: "mirror", mediaType: "text/markdown" });

    await writeFile(path.join(corpusDir, "a.html"), "<p>page</p>");
    expect((await resolveEntries(documents, corpusDir))[0]).toMatchObject({ file: "a.html", edition: "original", mediaType: "text/html", sha256: null });

    await writeFile(path.join(corpusDir, "a.md"), "alpha text");
    expect((await resolveEntries(documents, corpusDir))[0]?.edition).toBe("mirror"); // both there, no lock: the mirror's

    const report = await fetchCorpus({ documents, corpusDir, fetchImpl: offline() }); // no mirror: the original is preferred
    expect(report.results[0]).toMatchObject({ status: "present", edition: "original", checksum: "first-use" });
    const entry = (await resolveEntries(documents, corpusDir))[0]!;
    expect(entry).toMatchObject({ file: "a.html", edition: "original", sha256: sha("<p>page</p>"), url: "https://example.test/a", title: "Title of a" });
    expect(entry).not.toHaveProperty("editions");
  });
});

describe("the real mirror", () => {
  it("copies and verifies all 9 documents' mirror editions", async () => {
    const realMirror = path.resolve(projectRoot, "../shared/corpus");
    expect(existsSync(realMirror), `the shared corpus mirror is not at ${realMirror}`).toBe(true);
    const documents = await loadCorpusManifest(path.join(projectRoot, "corpus", "manifest.json"));
    const fetchImpl = offline();

    const report = await fetchCorpus({ documents, corpusDir, mirrorDir: realMirror, fetchImpl });

    expect(report.results.map((r) => [r.id, r.status, r.edition, r.checksum])).toEqual(documents.map((d) => [d.id, "copied", "mirror", "pinned"]));
    for (const d of documents) expect(await sha256File(path.join(corpusDir, d.editions.mirror!.file)), d.id).toBe(d.editions.mirror!.sha256);
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(exitCodeFor(report, true)).toBe(0);
    const entries = await resolveEntries(documents, corpusDir);
    expect(entries.map((e) => [e.id, e.edition, e.file])).toEqual(documents.map((d) => [d.id, "mirror", d.editions.mirror!.file]));
  });

  it("is what the test run's shared corpus (.cache/test-corpus, from global setup) holds: 9 documents, verified", async () => {
    const real = inject("realCorpus");
    const documents = await loadCorpusManifest(real.manifest);
    const report = await fetchCorpus({ documents, corpusDir: real.corpusDir, fetchImpl: offline() });
    expect(report.results.map((r) => r.status)).toEqual(Array(9).fill("present"));
    expect(report.results.every((r) => r.checksum === "pinned")).toBe(true);
  });
});

describe("loadCorpusManifest", () => {
  const SOURCES = readFile(path.resolve(projectRoot, "../shared/corpus/SOURCES.md"), "utf8");

  it("loads the project manifest: 9 documents, each with a mirror and an original edition", async () => {
    const documents = await loadCorpusManifest(path.join(projectRoot, "corpus", "manifest.json"));
    expect(documents).toHaveLength(9);
    const sources = await SOURCES;
    for (const d of documents) {
      const { mirror, original } = d.editions;
      expect(mirror, d.id).toBeDefined();
      expect(original, d.id).toBeDefined();
      // the mirror's checksum is the one SOURCES.md pins for that file
      const row = sources.split("\n").find((line) => line.startsWith("| ") && line.includes(`| ${mirror!.sha256} |`));
      expect(row?.replace(/\*\*/g, ""), d.id).toContain(`| ${mirror!.file} |`);
    }
    const by = Object.fromEntries(documents.map((d) => [d.id, d.editions]));
    // byte-identical originals share the mirror's file and checksum
    for (const id of ["attention", "gpt1", "gpt2", "instructgpt"]) {
      expect(by[id]!.original!.file, id).toBe(by[id]!.mirror!.file);
      expect(by[id]!.original!.sha256, id).toBe(by[id]!.mirror!.sha256);
    }
    // the others: a file of their own, no known checksum
    for (const id of ["gpt3", "rlhf-preferences", "rlhf-summarize", "blog-llm-production", "blog-rlhf"]) {
      expect(by[id]!.original!.file, id).not.toBe(by[id]!.mirror!.file);
      expect(by[id]!.original!.sha256, id).toBeNull();
    }
    expect(by.gpt3!.original).toMatchObject({ url: "https://arxiv.org/pdf/2005.14165", mediaType: "application/pdf" });
    expect(by["rlhf-summarize"]!.original).toMatchObject({ url: "https://arxiv.org/pdf/2009.01325", mediaType: "application/pdf" });
    expect(by["rlhf-summarize"]!.mirror?.sha256).toBe("cb179073502ff797c198290506cd92f6b7aa042229df65eb623512e354c685a1");
    expect(by["blog-rlhf"]!.original).toMatchObject({ url: "https://huyenchip.com/2023/05/02/rlhf.html", mediaType: "text/html" });
    expect(documents.find((d) => d.id === "gpt3")?.url).toBe("https://arxiv.org/abs/2005.14165"); // the page people cite
  });

  it("reads the older one-file form as one edition from the mirror or the URL", async () => {
    const file = path.join(tmp, "legacy.json");
    const legacy = { id: "a", title: "A", authors: [], year: 2020, kind: "paper", url: "https://example.test/a.pdf", file: "a.pdf", mediaType: "application/pdf", sha256: "AB".repeat(32) };
    await writeFile(file, JSON.stringify({ documents: [legacy] }));
    const [d] = await loadCorpusManifest(file);
    const edition = { file: "a.pdf", mediaType: "application/pdf", sha256: "ab".repeat(32) };
    expect(d?.editions).toEqual({ mirror: edition, original: { url: "https://example.test/a.pdf", ...edition } });
  });

  it("names the file on invalid JSON", async () => {
    const file = path.join(tmp, "bad.json");
    await writeFile(file, "{ not json");
    await expect(loadCorpusManifest(file)).rejects.toThrow(new RegExp(`${file}.*not valid JSON`));
  });

  /** MANIFEST_INVALID's message, and its issues as "path: message" lines (paths as z.prettifyError writes them). */
  async function manifestFailure(file: string): Promise<{ message: string; issues: string }> {
    const err = await loadCorpusManifest(file).catch((e: unknown) => e);
    if (!isAppError(err, "MANIFEST_INVALID")) throw new Error(`expected MANIFEST_INVALID, got ${String(err)}`);
    expect(err.details?.file).toBe(file);
    return { message: err.message, issues: (err.details?.issues ?? []).map((i) => `${i.path}: ${i.message}`).join("\n") };
  }

  it("names the file and each field on a schema error", async () => {
    const file = path.join(tmp, "bad.json");
    const bad = { ...twoEditions("a", "x"), kind: "video", editions: { mirror: { ...md("../escape.md", "x"), sha: "typo" }, original: { ...md("a.html", null), url: "ftp://x" } } };
    await writeFile(file, JSON.stringify({ documents: [bad, { ...single("b", null), editions: {} }] }));
    const { message, issues } = await manifestFailure(file);
    expect(message).toContain(file);
    expect(message).toMatch(/→ at documents\[0\]\.kind/);
    expect(issues).toContain("documents[0].kind");
    expect(issues).toContain("documents[0].editions.mirror.file: must be a plain file name");
    expect(issues).toMatch(/documents\[0\]\.editions\.mirror: Unrecognized key: "sha"/);
    expect(issues).toContain("documents[0].editions.original.url: must be an http(s) URL");
    expect(issues).toContain("documents[1].editions: must list a mirror edition, an original edition or both");
  });

  it("rejects duplicate ids, a file shared by two documents, and one file with two checksums", async () => {
    const file = path.join(tmp, "dup.json");
    const clash = doc("c", { mirror: md("c.md", "one"), original: at(md("c.md", "two")) });
    await writeFile(file, JSON.stringify({ documents: [single("a", "x"), { ...single("a", "y"), id: "a" }, twoEditions("b", "x"), { ...twoEditions("d", "y"), editions: { mirror: md("b.md", "y") } }, clash] }));
    const { issues } = await manifestFailure(file);
    expect(issues).toMatch(/documents\[1\]\.id: duplicate id "a"/);
    expect(issues).toMatch(/documents\[3\]\.editions\.mirror\.file: duplicate file "b\.md" \(also used by "b"\)/);
    expect(issues).toMatch(/documents\[4\]\.editions: the mirror and original editions name the same file, so they must have the same sha256/);
  });
});

describe("corpus:fetch CLI main()", () => {
  function captureOutput() {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    return lines;
  }

  it("exits 0 when every document is copied, printing a line per document", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const manifest = path.join(tmp, "manifest.json");
    await writeFile(manifest, JSON.stringify({ documents: [twoEditions("a", "alpha text")] }));
    const lines = captureOutput();

    const code = await main(["--from", mirrorDir, "--corpus", corpusDir, "--manifest", manifest], {});

    expect(code).toBe(0);
    expect(lines).toContain("✓ a  copied          10 B  a.md (mirror edition)");
    expect(lines.some((l) => l.startsWith("exit 0"))).toBe(true);
  });

  it("exits 1 on an unknown flag, an invalid manifest and an unreadable lock", async () => {
    const lines = captureOutput();
    expect(await main(["--bogus"], {})).toBe(1);
    const manifest = path.join(tmp, "manifest.json");
    await writeFile(manifest, "{}");
    expect(await main(["--corpus", corpusDir, "--manifest", manifest], {})).toBe(1);
    await writeFile(manifest, JSON.stringify({ documents: [single("a", null)] }));
    await mkdir(corpusDir);
    await writeFile(path.join(corpusDir, LOCK_FILE), JSON.stringify({ version: 2 }));
    expect(await main(["--corpus", corpusDir, "--manifest", manifest], {})).toBe(1);
    expect(lines.some((l) => l.startsWith(`error: Invalid editions lock ${path.join(corpusDir, LOCK_FILE)}`))).toBe(true);
  });
});
