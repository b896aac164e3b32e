// Run as a child process by test/unit/use-pool.test.ts: embeds through the pool and never closes it.
// The process must end by itself: an idle pool does not keep it alive.
import { UseEmbedder } from "../../src/embed/use.js";

const embedder = new UseEmbedder(2, { workerFile: new URL("./embed-worker-stub.mjs", import.meta.url) });
const vectors = await embedder.embedDocuments(["a", "bb", "ccc"]);
console.log(JSON.stringify({ vectors: vectors.map((v) => v[0]), threads: embedder.threads }));
