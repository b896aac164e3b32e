import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/fetch.js";
import { exitCodeFor, fetchCorpus, type FetchResult } from "../../src/corpus/fetch.js";
import { loadCorpusManifest, sha256File, type CorpusEntry } from "../../src/corpus/manifest.js";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

function entry(id: string, content: string | null, overrides: Partial<CorpusEntry> = {}): CorpusEntry {
  return {
    id,
    title: `Title of ${id}`,
    authors: ["A. Author"],
    year: 2020,
    kind: "paper",
    url: `https://example.test/${id}.md`,
    file: `${id}.md`,
    mediaType: "text/markdown",
    sha256: content === null ? null : sha(content),
    ...overrides,
  };
}

const offline = () => vi.fn<typeof fetch>(async () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } })));
const byId = (results: FetchResult[], id: string) => results.find((r) => r.id === id)!;

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
  it("copies from the mirror and verifies the checksum", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const fetchImpl = offline();
    const report = await fetchCorpus({ entries: [entry("a", "alpha text")], corpusDir, mirrorDir, fetchImpl });

    expect(report.results).toEqual([{ id: "a", file: "a.md", status: "copied", bytes: 10, sha256: sha("alpha text") }]);
    expect(report.ok).toBe(true);
    expect(exitCodeFor(report)).toBe(0);
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("alpha text");
    expect(await readdir(corpusDir)).toEqual(["a.md"]); // no temp files left
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it("is idempotent: a second run leaves verified files alone", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    await writeFile(path.join(mirrorDir, "b.md"), "beta text");
    const entries = [entry("a", "alpha text"), entry("b", null)];
    await fetchCorpus({ entries, corpusDir, mirrorDir, fetchImpl: offline() });
    const before = await stat(path.join(corpusDir, "a.md"));

    const fetchImpl = offline();
    const report = await fetchCorpus({ entries, corpusDir, mirrorDir, fetchImpl });

    expect(report.results.map((r) => r.status)).toEqual(["present", "present"]);
    const after = await stat(path.join(corpusDir, "a.md"));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(exitCodeFor(report)).toBe(0);
  });

  it("rejects a checksum mismatch, names file and both hashes, and keeps nothing", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "tampered");
    const report = await fetchCorpus({ entries: [entry("a", "original")], corpusDir, mirrorDir, fetchImpl: offline() });

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
    const report = await fetchCorpus({ entries: [entry("a", "alpha text")], corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results[0]?.status).toBe("copied");
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("alpha text");
  });

  it("deletes a corrupt corpus file it cannot replace and reports a mismatch", async () => {
    await mkdir(corpusDir);
    await writeFile(path.join(corpusDir, "a.md"), "corrupt");
    const report = await fetchCorpus({ entries: [entry("a", "alpha text")], corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results[0]?.status).toBe("checksum-mismatch");
    expect(report.results[0]?.reason).toContain(sha("corrupt"));
    expect(existsSync(path.join(corpusDir, "a.md"))).toBe(false);
  });

  it("reports a document it cannot get as missing and carries on with the others", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    await writeFile(path.join(mirrorDir, "c.md"), "gamma text");
    const fetchImpl = offline();
    const entries = [entry("a", "alpha text"), entry("b", "beta text"), entry("c", "gamma text")];
    const report = await fetchCorpus({ entries, corpusDir, mirrorDir, fetchImpl });

    expect(report.results.map((r) => r.status)).toEqual(["copied", "missing", "copied"]);
    const b = byId(report.results, "b");
    expect(b.reason).toContain(`not in mirror ${mirrorDir}`);
    expect(b.reason).toContain("https://example.test/b.md");
    expect(b.reason).toContain("fetch failed (ENOTFOUND)");
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect((await readdir(corpusDir)).sort()).toEqual(["a.md", "c.md"]);
    expect(exitCodeFor(report)).toBe(0);
    expect(exitCodeFor(report, true)).toBe(2);
  });

  it("gives a checksum mismatch precedence over a missing document in the exit code", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "tampered");
    const entries = [entry("a", "original"), entry("b", "beta text")];
    const report = await fetchCorpus({ entries, corpusDir, mirrorDir, fetchImpl: offline() });

    expect(report.results.map((r) => r.status)).toEqual(["checksum-mismatch", "missing"]);
    expect(exitCodeFor(report)).toBe(3);
  });

  it("downloads from the URL when the document is not in the mirror", async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => new Response("downloaded body"));
    const report = await fetchCorpus({ entries: [entry("a", "downloaded body")], corpusDir, mirrorDir, fetchImpl });

    expect(report.results[0]).toMatchObject({ status: "downloaded", bytes: 15, sha256: sha("downloaded body") });
    expect(fetchImpl).toHaveBeenCalledWith("https://example.test/a.md", expect.objectContaining({ redirect: "follow" }));
    expect(await readFile(path.join(corpusDir, "a.md"), "utf8")).toBe("downloaded body");
    expect(await readdir(corpusDir)).toEqual(["a.md"]);
  });

  it("downloads without any mirror, accepting any bytes when the manifest has no checksum", async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => new Response("whatever"));
    const report = await fetchCorpus({ entries: [entry("a", null)], corpusDir, fetchImpl });

    expect(report.results[0]).toMatchObject({ status: "downloaded", sha256: sha("whatever") });
  });

  it("treats HTTP 404 as missing and keeps no file", async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => new Response("nope", { status: 404, statusText: "Not Found" }));
    const report = await fetchCorpus({ entries: [entry("a", null)], corpusDir, mirrorDir, fetchImpl });

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
    const report = await fetchCorpus({ entries: [entry("a", null)], corpusDir, fetchImpl, timeoutMs: 50 });

    expect(report.results[0]?.status).toBe("missing");
    expect(report.results[0]?.reason).toContain("timed out after 50 ms");
  });

  it("reports each document through onEvent", async () => {
    await writeFile(path.join(mirrorDir, "a.md"), "alpha text");
    const events: string[] = [];
    await fetchCorpus({
      entries: [entry("a", "alpha text"), entry("b", null)],
      corpusDir,
      mirrorDir,
      fetchImpl: offline(),
      onEvent: (e) => events.push(e.type === "start" ? `start ${e.entry.id}` : `${e.result.id} ${e.result.status}`),
    });
    expect(events).toEqual(["start a", "a copied", "start b", "b missing"]);
  });
});

describe("the real mirror", () => {
  it("copies and verifies all 8 mirrored documents; rlhf-summarize is missing", async () => {
    const realMirror = path.resolve(projectRoot, "../shared/corpus");
    expect(existsSync(realMirror), `the shared corpus mirror is not at ${realMirror}`).toBe(true);
    const entries = await loadCorpusManifest(path.join(projectRoot, "corpus", "manifest.json"));
    const fetchImpl = offline();

    const report = await fetchCorpus({ entries, corpusDir, mirrorDir: realMirror, fetchImpl });

    const copied = report.results.filter((r) => r.status === "copied");
    expect(copied.map((r) => r.id).sort()).toEqual(entries.filter((e) => e.id !== "rlhf-summarize").map((e) => e.id).sort());
    expect(copied).toHaveLength(8);
    for (const e of entries.filter((e) => e.id !== "rlhf-summarize")) {
      expect(await sha256File(path.join(corpusDir, e.file)), e.file).toBe(e.sha256);
    }
    const missing = byId(report.results, "rlhf-summarize");
    expect(missing.status).toBe("missing");
    expect(missing.reason).toContain(`not in mirror ${realMirror}`);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(exitCodeFor(report)).toBe(0);
    expect(exitCodeFor(report, true)).toBe(2);
  });
});

describe("loadCorpusManifest", () => {
  it("loads the project manifest", async () => {
    const entries = await loadCorpusManifest(path.join(projectRoot, "corpus", "manifest.json"));
    expect(entries).toHaveLength(9);
    expect(entries.find((e) => e.id === "rlhf-summarize")?.sha256).toBeNull();
  });

  it("names the file on invalid JSON", async () => {
    const file = path.join(tmp, "bad.json");
    await writeFile(file, "{ not json");
    await expect(loadCorpusManifest(file)).rejects.toThrow(new RegExp(`${file}.*not valid JSON`));
  });

  it("names the file and the field on a schema error", async () => {
    const file = path.join(tmp, "bad.json");
    const bad = { ...entry("a", "x"), file: "../escape.md", kind: "video" };
    await writeFile(file, JSON.stringify({ documents: [bad] }));
    const err = await loadCorpusManifest(file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain("documents.0.file");
    expect((err as Error).message).toContain("documents.0.kind");
  });

  it("rejects duplicate ids", async () => {
    const file = path.join(tmp, "dup.json");
    await writeFile(file, JSON.stringify({ documents: [entry("a", "x"), entry("a", "y", { file: "other.md" })] }));
    await expect(loadCorpusManifest(file)).rejects.toThrow(/duplicate id "a"/);
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
    await writeFile(manifest, JSON.stringify({ documents: [entry("a", "alpha text")] }));
    const lines = captureOutput();

    const code = await main(["--from", mirrorDir, "--corpus", corpusDir, "--manifest", manifest], {});

    expect(code).toBe(0);
    expect(lines.some((l) => /^✓ a\s+copied\s+10 B$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith("exit 0"))).toBe(true);
  });

  it("exits 1 on an unknown flag and on an invalid manifest", async () => {
    captureOutput();
    expect(await main(["--bogus"], {})).toBe(1);
    const manifest = path.join(tmp, "manifest.json");
    await writeFile(manifest, "{}");
    expect(await main(["--corpus", corpusDir, "--manifest", manifest], {})).toBe(1);
  });
});
