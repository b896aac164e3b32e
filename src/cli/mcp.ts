/**
 * npm run --silent mcp: the service as an MCP server over stdio, for MCP clients that start their
 * servers as processes (Claude Desktop, Cursor, the SDK's StdioClientTransport). It serves the index in
 * INDEX_DIR (built by npm start or npm run ingest); stdout carries the protocol only, logs go to stderr.
 * Citation links are on PUBLIC_URL when it is set (where `npm start` serves the files), else paths.
 * (`--silent` keeps npm's own banner off stdout.)
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { loadConfig } from "../config/index.js";
import { isAppError } from "../errors.js";
import { createMcpServer } from "../server/mcp.js";
import { QaService } from "../service/index.js";
import { isMain } from "./is-main.js";

export async function mcp(): Promise<void> {
  const config = loadConfig();
  const service = new QaService(config);
  service.on("indexLoaded", ({ generation, chunks }) => console.error(`mcp: index ${generation} loaded (${chunks} chunks)`));
  service.on("indexLoadFailed", (reason) => console.error(`mcp: index not loaded: ${reason}`));
  await service.start();
  const server = createMcpServer(service, { linkBase: config.publicUrl });
  const transport = new StdioServerTransport();
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await service.close();
    process.exit(0);
  };
  transport.onclose = () => void stop();
  process.stdin.on("end", () => void stop());
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
  await server.connect(transport);
  console.error(`mcp: serving ${config.indexDir} over stdio`);
}

if (isMain(import.meta.url)) {
  mcp().catch((err) => {
    console.error(isAppError(err, "CONFIG_INVALID") ? err.message : `mcp: failed to start: ${(err as Error).message}`);
    process.exit(1);
  });
}
