/**
 * One owner per resource in re-indexing: the job embeds with the service's one embedder and never closes
 * it; Reindexer.idle() waits on the running job's promise instead of polling.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LsaEmbedder } from "../../src/embed/lsa.js";
import type { Embedder } from "../../src/embed/types.js";
import type { IngestResult } from "../../src/ingest/pipeline.js";
import { ingestWithConfig } from "../../src/ingest/run.js";
import { QaService, type ReindexJob } from "../../src/service/index.js";
import { Reindexer } from "../../src/service/reindex.js";
import { SAMPLE_DOCS, tempDir, testConfig, writeCorpus } from "../helpers/fixtures.js";

/** Every embedder the configuration creates, wrapped to count what is done with it. */
const created = vi.hoisted(() => [] as Array<{ fits: number; closes: number }>);

vi.mock("../../src/embed/index.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/embed/index.js")>();
  return { ...real, createEmbedder: (config: Parameters<typeof real.createEmbedder>[0]) => counted(real.createEmbedder(config)) };
});

function counted(inner: Embedder): Embedder & { fits: number; closes: number } {
  const e = {
    id: inner.id,
    dimensions: inner.dimensions,
    fits: 0,
    closes: 0,
    embedDocuments: (t: string[], p?: (n: number) => void) => inner.embedDocuments(t, p),
    embedQuery: (t: string) => inner.embedQuery(t),
    fit: async (t: string[]) => {
      e.fits++;
      return inner.fit!(t);
    },
    withModel: (m: Uint8Array) => inner.withModel!(m),
    close: async () => {
      e.closes++;
      await inner.close();
    },
  };
  created.push(e);
  return e;
}

async function fixture() {
  const corpus = await writeCorpus(SAMPLE_DOCS);
  return testConfig({ ...corpus, indexDir: await tempDir("index") });
}

afterEach(() => {
  created.length = 0;
  vi.useRealTimers();
});

describe("re-index embedder ownership", () => {
  it("ingestWithConfig embeds with a given embedder and leaves it open; it closes one it made itself", async () => {
    const config = await fixture();
    const given = counted(new LsaEmbedder(config.embedder.dimensions));
    created.length = 0;
    const r = await ingestWithConfig(config, { embedder: given });
    expect(r.chunks).toBeGreaterThan(0);
    expect(given).toMatchObject({ fits: 1, closes: 0 });
    expect(created).toHaveLength(0); // no second embedder

    await ingestWithConfig(config, { force: true });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ fits: 1, closes: 1 });
  });

  it("a service's re-index jobs use the service's one embedder, which only the service closes", async () => {
    const service = new QaService(await fixture());
    await service.start();
    expect(created).toHaveLength(1);
    const finished = (): Promise<ReindexJob> => new Promise((resolve) => service.once("reindexFinished", resolve));
    for (let i = 0; i < 2; i++) {
      const done = finished();
      await service.startReindex({ force: true });
      expect((await done).status).toBe("succeeded");
    }
    expect(service.status().ready).toBe(true);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ fits: 2, closes: 0 });
    await service.close();
    expect(created[0]!.closes).toBe(1);
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
