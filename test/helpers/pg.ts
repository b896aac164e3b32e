/**
 * A Postgres for the tests: PGlite (Postgres compiled to WebAssembly, with the real pgvector
 * extension) served over the wire protocol on an ephemeral loopback port, reached with the same pg +
 * pgvector clients production uses. With TEST_DATABASE_URL set, a real server instead: each test
 * file gets a schema of its own there (dropped at the end).
 *
 * PGlite is ~650 MB resident and takes seconds to start: start one per test file, not per test.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";

export interface TestDatabase {
  url: string;
  /** "pglite" or "external" (TEST_DATABASE_URL). */
  kind: "pglite" | "external";
  /** Runs SQL as an administrator of the test database (a fresh connection each time). */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.TEST_DATABASE_URL;
  const url = external ? await externalSchema(external) : undefined;
  if (url) {
    const schema = new URL(url).searchParams.get("options")!.replace(/^-c search_path=/, "").split(",")[0]!;
    return {
      url,
      kind: "external",
      sql: (text, values) => oneShot(url, text, values),
      stop: async () => {
        await oneShot(external!, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  }
  // The stand-in with its connection scheduler fixed (scripts/pglite-server.ts says why).
  const { startStandIn } = await import("../../scripts/pglite-server.js");
  const standIn = await startStandIn({ maxConnections: 200 });
  return {
    url: standIn.url,
    kind: "pglite",
    sql: (text, values) => oneShot(standIn.url, text, values),
    stop: () => standIn.stop(),
  };
}

async function externalSchema(base: string): Promise<string> {
  const schema = `llmops_test_${randomBytes(4).toString("hex")}`;
  await oneShot(base, `CREATE SCHEMA ${schema}`);
  await oneShot(base, "CREATE EXTENSION IF NOT EXISTS vector");
  const u = new URL(base);
  u.searchParams.set("options", `-c search_path=${schema},public`);
  return u.toString();
}

async function oneShot<R extends pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {}); // the query in flight rejects with it
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A TCP proxy on loopback in front of the database, to take it away and give it back while a server
 * uses it: close() refuses new connections and cuts the open ones (the database "goes away"), open()
 * listens again on the same port.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  static for(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
  }

  /** The URL through the proxy (same credentials, database and options). */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Picks a free port without listening on it yet (the "database down at start" case). */
  async reserve(): Promise<number> {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    this.port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    return this.port;
  }

  async open(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise((r) => server.close(r));
  }
}
