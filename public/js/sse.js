// The answer stream: a text/event-stream response body read as {event, data} objects, parsed by
// eventsource-parser (served from node_modules at /vendor/eventsource-parser/ by the server).
import { createParser } from "../vendor/eventsource-parser/index.js";

/**
 * Yields each event of the body as {event, data}, data parsed as JSON ({} when it is not JSON).
 * Aborting the fetch that produced the body makes the iteration throw its AbortError.
 * @param {ReadableStream<Uint8Array>} body
 */
export async function* readEvents(body) {
  /** @type {{event: string, data: any}[]} */
  const queue = [];
  const parser = createParser({
    onEvent: (m) => queue.push({ event: m.event ?? "message", data: parseJson(m.data) }),
  });
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
      while (queue.length) yield /** @type {{event: string, data: any}} */ (queue.shift());
    }
    // A last event without its blank line still counts.
    parser.reset({ consume: true });
    while (queue.length) yield /** @type {{event: string, data: any}} */ (queue.shift());
  } finally {
    reader.releaseLock();
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
