/**
 * Static checks of the Docker deliverables (no engine needed): docker-compose validates the compose
 * files, and the Dockerfile has the properties the deployment relies on.
 * End-to-end proof (build, up, ask, re-index) is scripts/compose-smoke.sh.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SETUP_HINT = "docker-compose is not installed: run `sudo scripts/container-setup.sh` (installs podman + docker-compose)";

function compose(args: string[]) {
  const r = spawnSync("docker-compose", args, {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
    // validate the files themselves, not whatever a developer's .env/shell sets
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(SETUP_HINT);
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectValid(args: string[]) {
  const r = compose([...args, "config", "-q"]);
  expect(r.code, `docker-compose ${args.join(" ")} config -q\n${r.err}`).toBe(0);
}

function services(args: string[]): string[] {
  const r = compose([...args, "config", "--services"]);
  expect(r.code, r.err).toBe(0);
  return r.out.split("\n").map((s) => s.trim()).filter(Boolean).sort();
}

describe("docker-compose.yml", () => {
  it("docker-compose is installed", () => {
    const r = compose(["version"]);
    expect(r.code, SETUP_HINT).toBe(0);
  });

  it("validates (default services)", () => {
    expectValid(["-f", "docker-compose.yml"]);
    // (docker-compose 1.29 lists profiled services here too; `up` starts only api)
    expect(services(["-f", "docker-compose.yml"])).toContain("api");
  });

  it("validates with the tools and local-llm profiles", () => {
    const args = ["-f", "docker-compose.yml", "--profile", "tools", "--profile", "local-llm"];
    expectValid(args);
    expect(services(args)).toEqual(["api", "ingest", "ollama", "ollama-pull"]);
  });

  it("validates with the local-LLM override, which points the API at Ollama", () => {
    const args = ["-f", "docker-compose.yml", "-f", "docker-compose.local-llm.yml", "--profile", "local-llm"];
    expectValid(args);
    const r = compose([...args, "config"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("LLM_BASE_URL: http://ollama:11434/v1");
    expect(r.out).toContain("LLM_PROVIDER: openai-compatible");
    expect(r.out).toMatch(/LLM_MODEL: llama3\.2:1b/);
  });

  it("publishes PORT, keeps the container port at 3000 and has a healthcheck on /readyz", () => {
    const r = compose(["-f", "docker-compose.yml", "config"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/published: 3000\s+target: 3000/);
    expect(r.out).toContain("/readyz");
    expect(r.out).toContain("restart: unless-stopped");
  });
});

describe("docker-compose.postgres.yml (profile postgres)", () => {
  const args = ["-f", "docker-compose.postgres.yml", "--profile", "postgres"];

  it("validates, with the database, the API, the proxy and the one-shot migrate and ingest", () => {
    expectValid(args);
    expect(services(args)).toEqual(["api", "ingest", "migrate", "postgres", "proxy"]);
  });

  it("pins the pgvector image, keeps the data in a volume, and waits for the database's healthcheck", () => {
    const r = compose([...args, "config"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/image: pgvector\/pgvector:\d+\.\d+\.\d+-pg\d+/);
    expect(r.out).toMatch(/- pgdata:\/var\/lib\/postgresql\/data/);
    expect(r.out).toContain("pg_isready");
    expect(r.out).toContain("condition: service_healthy");
    expect(r.out).toContain("INDEX_STORE: postgres");
    expect(r.out).toMatch(/DATABASE_URL: postgres:\/\/llmops:llmops@postgres:5432\/llmops/);
  });

  it("publishes only the proxy, so `--scale api=N` starts N replicas without a port clash", () => {
    const r = compose([...args, "config"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.match(/published:/g)).toHaveLength(1);
    expect(r.out).toMatch(/published: 3080\s+target: 80/);
    const conf = readFileSync(path.join(root, "deploy/nginx-api.conf"), "utf8");
    expect(conf).toMatch(/server api:3000/);
    expect(conf).toMatch(/proxy_pass http:\/\/api;/);
  });
});

describe("deploy/compose-smoke-postgres.yml (smoke override of the postgres profile)", () => {
  const args = ["-f", "docker-compose.postgres.yml", "-f", "deploy/compose-smoke-postgres.yml", "--profile", "postgres"];

  it("replaces the postgres service by the PGlite stand-in and publishes the API on loopback", () => {
    expectValid(args);
    const r = compose([...args, "config"]);
    expect(r.code, r.err).toBe(0);
    const pgBlock = r.out.slice(r.out.indexOf("\n  postgres:"), r.out.indexOf("\n  proxy:"));
    expect(pgBlock).toContain("image: llmops-pg-standin:latest");
    expect(pgBlock).not.toContain("pg_isready");
    expect(r.out).not.toContain("image: pgvector/pgvector");
    // api, migrate and ingest still reach the database by its service name
    expect(r.out).toMatch(/DATABASE_URL: postgres:\/\/llmops:llmops@postgres:5432\/llmops/);
    expect(r.out).toMatch(/- 127\.0\.0\.1:3918:3000\/tcp/);
  });

  it("the stand-in image is built FROM the project's image and serves pg-standin.ts on 5432", () => {
    const text = readFileSync(path.join(root, "deploy/pg-standin.Dockerfile"), "utf8");
    expect(text).toMatch(/^ARG APP_IMAGE=llmops-qa:latest$/m);
    expect(text).toMatch(/^FROM \$\{APP_IMAGE\}$/m);
    expect(text).toMatch(/COPY node_modules\/@electric-sql /);
    expect(text).toMatch(/ENTRYPOINT \[.*"scripts\/pg-standin\.ts", "--host", "0\.0\.0\.0", "--port", "5432"\]/);
    expect(text).toMatch(/USER node/);
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8");
  // instructions with line continuations joined, comments dropped
  const lines = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(`${name} `));

  it("is multi-stage on node:20-bookworm-slim", () => {
    const from = instr("FROM");
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const f of from) expect(f).toMatch(/node:20-bookworm-slim/);
  });

  it("runs as a non-root user", () => {
    const users = instr("USER");
    expect(users.length, "no USER instruction").toBeGreaterThan(0);
    const last = users[users.length - 1]!.split(/\s+/)[1]!;
    expect(["root", "0", "0:0", "root:root"]).not.toContain(last);
  });

  it("has a HEALTHCHECK on /readyz that needs no curl", () => {
    const hc = instr("HEALTHCHECK");
    expect(hc).toHaveLength(1);
    expect(hc[0]).toContain("/readyz");
    expect(hc[0]).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it("starts the app with tsx and exposes 3000", () => {
    expect(instr("CMD").at(-1)).toMatch(/tsx.*src\/cli\/start\.ts/);
    expect(instr("EXPOSE").join(" ")).toContain("3000");
    expect(text).toMatch(/NODE_ENV=production/);
  });

  it(".dockerignore keeps dependencies and data out but the corpus manifest in", () => {
    const ignore = readFileSync(path.join(root, ".dockerignore"), "utf8").split(/\r?\n/).map((l) => l.trim());
    expect(ignore).toContain("node_modules");
    expect(ignore).toContain(".git");
    expect(ignore).toContain("corpus/*");
    expect(ignore).toContain("!corpus/manifest.json");
  });
});
