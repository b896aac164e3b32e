/** The configuration: one schema (env -> nested config), its messages, and the README's table kept true. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { envSchema, loadConfig, PROJECT_ROOT, SETTING_NAMES } from "../../src/config/index.js";
import { isAppError } from "../../src/errors.js";

describe("configuration", () => {
  it("maps the environment into the nested shape the code reads", () => {
    const c = loadConfig({ RETRIEVAL_RERANK_WEIGHT: "0.7", CORS_ORIGINS: "a, b,,c", UPLOAD_LIMIT_MB: "2", WATCH_INDEX: "no", LLM_BASE_URL: "http://localhost:1/v1" });
    expect(c.retrieval.rerankWeight).toBe(0.7);
    expect(c.http).toMatchObject({ corsOrigins: ["a", "b", "c"], uploadLimitBytes: 2 * 1024 * 1024, watchIndex: false });
    expect(c.llm).toMatchObject({ provider: "openai-compatible", model: "llama3.2" });
    expect(loadConfig({}).llm).toMatchObject({ provider: "extractive", model: "extractive" });
  });

  it("names each bad variable, with the value it got; cross-field checks only once the fields parse", () => {
    const issues = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        if (!isAppError(err, "CONFIG_INVALID")) throw err;
        return err.details!.issues.map((i) => `${i.path}: ${i.message}`);
      }
      throw new Error("expected CONFIG_INVALID");
    };
    expect(issues({ PORT: "99999", CHUNK_SIZE: "300", CHUNK_OVERLAP: "300" })).toEqual(['PORT: Too big: expected number to be <=65535 (got "99999")']);
    expect(issues({ CHUNK_SIZE: "300", CHUNK_OVERLAP: "300", LLM_PROVIDER: "openai" })).toEqual([
      "CHUNK_OVERLAP: must be smaller than CHUNK_SIZE",
      "OPENAI_API_KEY: required when LLM_PROVIDER=openai",
    ]);
    expect(issues({ PRICE_TABLE: "{bad" })[0]).toMatch(/^PRICE_TABLE: must be JSON like/);
  });

  it("the README's configuration table lists every variable with the schema's default", () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
    const documented = new Map<string, string | undefined>();
    for (const row of table.split("\n").filter((l) => l.startsWith("| `"))) {
      const [names, defaults] = row.split(" | ");
      const vars = [...names!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
      const values = defaults!.split(/, (?=`|\()/);
      vars.forEach((v, i) => documented.set(v, values.length === vars.length ? /^`([^`]*)`/.exec(values[i]!)?.[1] : undefined));
    }
    expect([...documented.keys()].sort()).toEqual([...SETTING_NAMES].sort());
    for (const [name, value] of documented) {
      const fallback = envSchema.shape[name as keyof typeof envSchema.shape].parse(undefined);
      if (value === undefined || value.startsWith("<project>") || fallback === undefined) continue;
      expect(String(fallback), name).toBe(value);
    }
  });
});
