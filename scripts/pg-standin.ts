/**
 * A stand-in Postgres for development and the compose smoke run: PGlite (Postgres 17 compiled to
 * WebAssembly, with the real pgvector extension) served over the wire protocol, reached with the same
 * pg client as a real server. One process, one session shared by its connections: for tests and a
 * laptop, never production (point DATABASE_URL at a real Postgres with pgvector there).
 *
 *   npx tsx scripts/pg-standin.ts [--port 5432] [--host 127.0.0.1] [--data DIR]
 *
 * Needs the dev dependencies @electric-sql/pglite and @electric-sql/pglite-socket.
 */
import { parseArgs } from "node:util";
import { startStandIn } from "./pglite-server.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: "5432" }, host: { type: "string", default: "127.0.0.1" }, data: { type: "string" } },
});
const t0 = performance.now();
const standIn = await startStandIn({ host: values.host, port: Number(values.port), ...(values.data ? { dataDir: values.data } : {}) });
console.log(`pg-standin: PGlite (pgvector) on ${values.host}:${standIn.port}${values.data ? `, data in ${values.data}` : ", in memory"}, ready in ${Math.round(performance.now() - t0)} ms`);
const stop = async (signal: string) => {
  console.log(`pg-standin: ${signal}, stopping`);
  await standIn.stop();
  process.exit(0);
};
process.once("SIGTERM", () => void stop("SIGTERM"));
process.once("SIGINT", () => void stop("SIGINT"));
