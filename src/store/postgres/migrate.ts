/**
 * Versioned schema migrations: numbered SQL files in ./migrations (NNN_name.sql), applied in order
 * and recorded in schema_migrations, all pending ones in one transaction.
 *
 * Written here (about 60 lines) rather than taken from node-pg-migrate: it serialises concurrent
 * starters with an advisory lock, which the PGlite stand-in cannot honour (every connection shares one
 * session there), whereas one transaction holding a table lock is serialised by both; and a database
 * whose schema is newer than this build must stop the process with a message that says so, which is
 * the first thing checked here.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { isSchemaTooNew, schemaTooNew } from "../errors.js";

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface MigrationReport {
  /** The schema version after the run (the newest migration applied). */
  version: number;
  applied: Migration[];
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => ({ version: Number(file.slice(0, 3)), name: file.slice(4, -4), file: path.join(dir, file) }));
}

export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const migrations = await listMigrations(dir);
  const known = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client's connection error is not handled by the pool: record it (the query rejects too).
  const onError = (err: Error) => (broken = err);
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    // Two processes starting at once: the second waits here, then sees what the first applied.
    await client.query("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE");
    const { rows } = await client.query<{ version: number; name: string }>("SELECT version, name FROM schema_migrations ORDER BY version");
    const newest = rows.at(-1);
    if (newest && newest.version > known) {
      await client.query("ROLLBACK");
      throw schemaTooNew(
        `the database schema is at version ${newest.version} (${newest.name}), newer than this build knows (version ${known}): ` +
          "run a build of llmops-qa at least as new as the one that migrated it, or point DATABASE_URL at another database",
      );
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: Migration[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(await readFile(m.file, "utf8"));
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      applied.push(m);
    }
    await client.query("COMMIT");
    return { version: Math.max(known, newest?.version ?? 0), applied };
  } catch (err) {
    if (!isSchemaTooNew(err)) await client.query("ROLLBACK").catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
