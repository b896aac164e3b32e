/** npm run serve: serves the index in INDEX_DIR (no fetching, no building). */
import { loadConfig } from "../config/index.js";
import { isAppError } from "../errors.js";
import { handleSignals, startServer } from "../server/index.js";
import { isMain } from "./is-main.js";

export async function serve(): Promise<void> {
  const running = await startServer(loadConfig());
  handleSignals(running);
}

if (isMain(import.meta.url)) {
  serve().catch((err) => {
    console.error(isAppError(err, "CONFIG_INVALID", "SCHEMA_TOO_NEW") ? `refusing to start: ${err.message}` : `failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
