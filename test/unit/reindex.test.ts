/**
 * One owner per resource in re-indexing: the job embeds with the service's one embedder and never closes
 * it; Reindexer.idle() waits on the running job's promise instead of polling.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LsaEmbedder } from "../../src/embed/lsa.js";
import type { IngestResult } from "../../src/ingest/pipeline.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { QaService, type ReindexJob } from "../../src/service/index.js";
import { Reindexer } from "../../src/service/reindex.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";

/**
 * What is done with LSA embedders, wherever they were made: spies on the class, with `this` of each call.
 * (Spies rather than a module mock, so the file runs in the unit project's shared module graph.)
 */
function watchLsa() {
  const fit = vi.spyOn(LsaEmbedder.prototype, "fit");
  const close = vi.spyOn(LsaEmbedder.prototype, "close");
  const fitted = () => [...new Set(fit.mock.contexts)];
  const closes = (e: unknown) => close.mock.contexts.filter((c) => c === e).length;
  const fits = (e: unknown) => fit.mock.contexts.filter((c) => c === e).length;
  return { fitted, fits, closes };
}

async function fixture() {
  const corpus = await writeCorpus(SAMPLE_DOCS);
  return testConfig({ ...corpus, indexDir: await tempDir("index") });
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("re-index embedder ownership", () => {
  it("ingestWithConfig embeds with a given embedder and leaves it open; it closes one it made itself", async () => {
    const config = await fixture();
    const given = new LsaEmbedder(config.embedder.dimensions);
    const lsa = watchLsa();
    const r = await ingestWithConfig(config, { embedder: given });
    expect(r.chunks).toBeGreaterThan(0);
    expect(lsa.fitted()).toEqual([given]); // no second embedder
    expect(lsa.closes(given)).toBe(0);

    await ingestWithConfig(config, { force: true });
    const own = lsa.fitted().filter((e) => e !== given);
    expect(own).toHaveLength(1);
    expect(lsa.fits(own[0])).toBe(1);
    expect(lsa.closes(own[0])).toBe(1);
    expect(lsa.closes(given)).toBe(0);
  });

  it("a service's re-index jobs use the service's one embedder, which only the service closes", async () => {
    const lsa = watchLsa();
    const service = new QaService(await fixture());
    await service.start();
    const finished = (): Promise<ReindexJob> => new Promise((resolve) => service.once("reindexFinished", resolve));
    for (let i = 0; i < 2; i++) {
      const done = finished();
      await service.startReindex({ force: true });
      expect((await done).status).toBe("succeeded");
    }
    expect(service.status().ready).toBe(true);
    const fitted = lsa.fitted();
    expect(fitted).toHaveLength(1); // both jobs fitted the same embedder
    expect(lsa.fits(fitted[0])).toBe(2);
    expect(lsa.closes(fitted[0])).toBe(0);
    await service.close();
    expect(lsa.closes(fitted[0])).toBe(1);
  });
});

describe("Reindexer.idle()", () => {
  it("resolves when the running job finishes, without a timer", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval"] });
    let finish!: (r: IngestResult) => void;
    const reindexer = new Reindexer(
      () => new Promise<IngestResult>((resolve) => (finish = resolve)),
      async () => {},
    );
    const job = await reindexer.start();
    let idle = false;
    const waiting = reindexer.idle().then(() => (idle = true));
    expect(vi.getTimerCount()).toBe(0); // nothing scheduled: no polling
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);

    finish({ documents: 1, pages: 1, chunks: 1, embedded: 1, skipped: [], missing: [], seconds: 0, upToDate: false } as unknown as IngestResult);
    // The job's promise settles through microtasks alone: no fake timer has to advance.
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(true);
    await waiting;
    expect(job.status).toBe("succeeded");
    expect(await reindexer.isRunning()).toBe(false);
    await reindexer.idle(); // nothing running: at once
  });
});
