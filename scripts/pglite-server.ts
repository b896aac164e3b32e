/**
 * The stand-in Postgres used by the tests, `scripts/pg-standin.ts` and the compose smoke run: PGlite
 * (Postgres 17 in WebAssembly with the real pgvector extension) behind @electric-sql/pglite-socket's
 * wire-protocol server. Dev dependencies only; production points DATABASE_URL at a real Postgres.
 *
 * PGlite is ONE session: pglite-socket 0.1.6 multiplexes its connections onto it message by message.
 * It keeps a transaction's messages together, but not an extended-protocol exchange (Parse, Bind,
 * Describe, Execute ... Sync) outside one, so two connections' unnamed statements overwrite each other
 * ("unnamed prepared statement does not exist", "bind message supplies 7 parameters, but prepared
 * statement requires 6"), and a failed message leaves its queue stuck. We replace the queue's
 * scheduler (our own code, because the library has no option for it): a connection keeps the session
 * from its first message to its Sync (or simple Query), and for its whole transaction, as Postgres
 * would give each connection its own backend. What PGlite still cannot give: concurrent transactions
 * (they run one after another) and per-connection settings (SET is session-wide).
 */
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
  onData: (data: Uint8Array) => void;
}

interface QueryQueue {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Message types that continue an extended-protocol exchange; Sync ("S") and Query ("Q") end one. */
const EXTENDED = new Set(["P", "B", "D", "E", "C", "H", "F"].map((c) => c.charCodeAt(0)));
const ENDS = new Set(["S", "Q", "X"].map((c) => c.charCodeAt(0)));

function serialiseExchanges(server: PGLiteSocketServer, db: PGlite): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  /** The connection in the middle of an exchange (no Sync yet): it keeps the session. */
  let open: number | null = null;
  q.processQueue = async function (this: QueryQueue) {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = open ?? (db.isInTransaction() ? this.lastHandlerId : null);
        const idx = owner === null ? 0 : this.queue.findIndex((i) => i.handlerId === owner);
        if (idx === -1) break; // the owner's next message wakes the queue up
        const item = this.queue.splice(idx, 1)[0]!;
        const type = item.message[0]!;
        let bytes = 0;
        try {
          await db.runExclusive(() =>
            db.execProtocolRawStream(item.message, {
              onRawData: (d: Uint8Array) => {
                bytes += d.length;
                item.onData(d);
              },
            }),
          );
        } catch (err) {
          open = null;
          item.reject(err);
          continue;
        }
        this.lastHandlerId = item.handlerId;
        if (ENDS.has(type)) open = null;
        else if (EXTENDED.has(type)) open = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (open === handlerId) {
      open = null;
      void q.processQueue();
    }
  };
}

export interface StandIn {
  db: PGlite;
  server: PGLiteSocketServer;
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startStandIn(opts: { host?: string; port?: number; dataDir?: string; maxConnections?: number } = {}): Promise<StandIn> {
  const host = opts.host ?? "127.0.0.1";
  const db = await PGlite.create({ extensions: { vector }, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) });
  const server = new PGLiteSocketServer({ db, port: opts.port ?? 0, host, maxConnections: opts.maxConnections ?? 500 });
  serialiseExchanges(server, db);
  await server.start();
  const port = (server as unknown as { port: number }).port;
  return {
    db,
    server,
    host,
    port,
    url: `postgres://postgres@${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
