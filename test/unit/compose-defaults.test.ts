import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envSchema, PROJECT_ROOT } from "../../src/config/index.js";

// docker compose passes every setting with a fallback (`NAME: ${NAME:-value}`); a fallback that differs
// from the schema's default silently gives compose users another product than `npm start` (it once
// made compose embed with the slow bundled encoder while the documented default was LSA).
// Settings compose sets on purpose to something else, and why.
const CONTAINER_SPECIFIC: Record<string, string> = {
  CORPUS_MIRROR: "the read-only mount of the host's corpus copy inside the container",
  DATABASE_URL: "the compose file's own postgres service (the app has no default database)",
};
const FILES = ["docker-compose.yml", "docker-compose.postgres.yml"];
const fallbacks = FILES.flatMap((file) => [...readFileSync(join(PROJECT_ROOT, file), "utf8").matchAll(/^\s+([A-Z][A-Z0-9_]*): \$\{\1:?-([^}]*)\}\s*$/gm)]
  .map((m) => ({ file, name: m[1] as string, value: m[2] as string })))
  .filter(({ name, value }) => value !== "" && name in envSchema.shape && !(name in CONTAINER_SPECIFIC));

describe("docker compose files", () => {
  it("pass settings through with fallbacks", () => {
    expect(fallbacks.filter((f) => f.file === "docker-compose.yml").map((f) => f.name)).toContain("EMBEDDER");
    expect(fallbacks.filter((f) => f.file === "docker-compose.postgres.yml").map((f) => f.name)).toContain("PG_POOL_MAX");
  });

  it.each(fallbacks)("$file falls back to the configuration default for $name", ({ name, value }) => {
    const field = envSchema.shape[name as keyof typeof envSchema.shape];
    expect(field.parse(value)).toEqual(field.parse(undefined));
  });
});
