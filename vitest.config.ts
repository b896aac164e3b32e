import { defineConfig } from "vitest/config";

/**
 * Two projects. `unit`: no ../shared, no ingest of the real corpus (fixture corpora the tests make
 * themselves, loopback servers on ephemeral ports); `npx vitest run --project unit` runs alone in a
 * clone without ../shared. `integration`: the real corpus indexed once by the global setup, the quality
 * gates, the browser, docker compose. `npm test` runs both (and the dependency rules first).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Suites that build indexes share two cores: run files one at a time to keep timings sane.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          // Unit files build only small fixture indexes in their own temp folders: run two at a time, and
          // share each worker's module graph (no vi.mock; spies are restored): 58 s -> 26 s on 2 cores.
          fileParallelism: true,
          isolate: false,
          maxWorkers: 2,
          include: ["test/unit/**/*.test.ts", "test/eval-match.test.ts", "test/ingest/{clean,chunk,pipeline}.test.ts", "test/corpus/online.test.ts", "test/server/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/quality.test.ts", "test/web.test.ts", "test/compose.test.ts", "test/corpus/fetch.test.ts", "test/ingest/load.test.ts"],
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
