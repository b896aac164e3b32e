/**
 * npm run migrate: applies the Postgres schema migrations (src/store/postgres/migrations) to
 * DATABASE_URL. The server and ingest also apply them when they start; this runs them on their own
 * (a deployment step before rolling out replicas).
 * Exit codes: 0 migrated or up to date; 1 configuration error or database unreachable; 2 the
 * database's schema is newer than this build.
 */
import { loadConfig } from "../config/index.js";
import { isAppError } from "../errors.js";
import { Database, redactUrl } from "../store/postgres/db.js";
import { isMain } from "./is-main.js";

export async function main(): Promise<number> {
  const config = loadConfig();
  const { databaseUrl } = config.store;
  if (!databaseUrl) {
    console.error("migrate: set DATABASE_URL (and INDEX_STORE=postgres to use it)");
    return 1;
  }
  const db = new Database({ ...config.store, databaseUrl });
  try {
    const r = await db.ready();
    const what = r.applied.length ? `applied ${r.applied.map((m) => `${String(m.version).padStart(3, "0")}_${m.name}`).join(", ")}` : "nothing to apply";
    console.log(`migrate: ${redactUrl(databaseUrl)}: ${what}; schema version ${r.version}`);
    return 0;
  } catch (err) {
    console.error(`migrate: ${(err as Error).message}`);
    return isAppError(err, "SCHEMA_TOO_NEW") ? 2 : 1;
  } finally {
    await db.end();
  }
}

if (isMain(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(isAppError(err, "CONFIG_INVALID") ? err.message : `migrate failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
