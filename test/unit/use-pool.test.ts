/** The bundled encoder's worker pool (piscina), driven with a stub worker script instead of the model. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { UseEmbedder } from "../../src/embed/use.js";

const stub = new URL("../helpers/embed-worker-stub.mjs", import.meta.url);
const open: UseEmbedder[] = [];
const embedder = (workers = 2) => {
  const e = new UseEmbedder(workers, { workerFile: stub });
  open.push(e);
  return e;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

describe("UseEmbedder worker pool", () => {
  it("starts no worker until the first passages, then embeds them in order with progress", async () => {
    const e = embedder();
    expect(e.threads).toBe(0);
    const texts = Array.from({ length: 20 }, (_, i) => "x".repeat(i + 1));
    const progress: number[] = [];
    const vectors = await e.embedDocuments(texts, (n) => progress.push(n));
    expect(vectors.map((v) => v[0])).toEqual(texts.map((t) => t.length));
    expect(new Set(vectors.map((v) => v[1])).size).toBe(2); // batches spread over both workers
    expect(progress.at(-1)).toBe(20);
    expect(e.threads).toBe(2);
  });

  it.each(["exit", "throw"])("rejects the batch of a worker that crashes (%s) and replaces the worker", async (how) => {
    const e = embedder();
    const before = (await e.embedDocuments(["a", "b"])).map((v) => v[1]);
    await expect(e.embedDocuments([how])).rejects.toThrow(/embedding worker: (worker exited with code: 3|worker blew up)/);
    const after = await e.embedDocuments(["cc", "dd"]);
    expect(after.map((v) => v[0])).toEqual([2, 2]);
    expect(e.threads).toBe(2);
    // A fresh thread stands in for the crashed one.
    expect(after.map((v) => v[1]).some((id) => !before.includes(id))).toBe(true);
  });

  it("close() terminates the workers and rejects batches still queued", async () => {
    const e = embedder(1);
    await e.embedDocuments(["a"]);
    // One batch is out (asleep in the worker) and one queued behind it when the pool closes.
    const queued = expect(e.embedDocuments(Array.from({ length: 16 }, () => "sleep"))).rejects.toThrow(/embedding worker: Terminating worker thread/);
    await e.close();
    await queued;
    expect(e.threads).toBe(0);
    // A closed embedder starts a new pool when used again.
    expect((await e.embedDocuments(["abc"]))[0]![0]).toBe(3);
  });

  it("does not keep the process alive while idle", async () => {
    const child = fileURLToPath(new URL("../helpers/use-idle-child.ts", import.meta.url));
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ vectors: [1, 2, 3], threads: 2 });
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
