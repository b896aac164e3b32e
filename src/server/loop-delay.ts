/**
 * How long the event loop has been busy without a break. Work on the main thread (query embedding,
 * retrieval) makes requests wait, in the socket buffers and in the loop's own queues, where no
 * count of requests in flight sees them: the loop gets to the next request only when it is done
 * with the work queued before it.
 *
 * A 10 ms interval timer notes when it last ran. Timers run between the loop's turns, so the time
 * since that tick is how long the current turn has been running: what a request handled now has
 * been waiting behind. When the loop keeps up it is ~0: a request that finds the loop idle is not
 * delayed by the work of the request before it, however long that was.
 * One timer per process (the event loop is the process's), unref'd: it never keeps it alive.
 */
const TICK_MS = 10;

let timer: NodeJS.Timeout | undefined;
let lastTick = 0;

/** Milliseconds the event loop has been busy since it last had time for its timers: ~0 when it keeps up. */
export function eventLoopBusyMs(): number {
  if (!timer) {
    lastTick = performance.now();
    timer = setInterval(() => (lastTick = performance.now()), TICK_MS);
    timer.unref();
  }
  return Math.max(0, performance.now() - lastTick - TICK_MS);
}
