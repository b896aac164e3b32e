// A stand-in for src/embed/use-worker.mjs in unit tests: same protocol (default export, { texts } ->
// vectors), no model. A batch whose first text is "exit" ends its worker thread the way a native crash
// would; "throw" throws outside the task (an uncaught exception in the worker); "sleep" takes 5 s.
import { threadId } from "node:worker_threads";

export default async function embedBatch({ texts }) {
  if (texts[0] === "exit") process.exit(3);
  if (texts[0] === "throw") {
    setTimeout(() => {
      throw new Error("worker blew up");
    });
    await new Promise((r) => setTimeout(r, 5_000));
  }
  if (texts[0] === "sleep") await new Promise((r) => setTimeout(r, 5_000));
  return texts.map((t) => [t.length, threadId]);
}
