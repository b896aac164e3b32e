/**
 * Versioned prompt templates: prompts/<version>.md with front matter (version, description) and
 * `## system` / `## user` sections; `{{name}}` placeholders are filled at request time.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../errors.js";

export interface PromptTemplate {
  version: string;
  description: string;
  system: string;
  user: string;
}

/** UNKNOWN_PROMPT_VERSION, naming the versions there are. */
function unknownVersion(version: string, available: string[]): AppError<"UNKNOWN_PROMPT_VERSION"> {
  return new AppError("UNKNOWN_PROMPT_VERSION", `unknown prompt version "${version}"; available: ${available.join(", ") || "none"}`, {
    details: { version, available },
  });
}

export class PromptLibrary {
  private readonly cache = new Map<string, PromptTemplate>();

  constructor(private readonly dir: string) {}

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3)).sort();
    } catch {
      return [];
    }
  }

  async get(version: string): Promise<PromptTemplate> {
    const cached = this.cache.get(version);
    if (cached) return cached;
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(version)) throw unknownVersion(version, await this.list());
    let text: string;
    try {
      text = await readFile(path.join(this.dir, `${version}.md`), "utf8");
    } catch {
      throw unknownVersion(version, await this.list());
    }
    const template = parseTemplate(version, text);
    this.cache.set(version, template);
    return template;
  }
}

export function parseTemplate(version: string, text: string): PromptTemplate {
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(text);
  const meta = Object.fromEntries(
    (fm?.[1] ?? "").split("\n").map((l) => [l.slice(0, l.indexOf(":")).trim(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  const body = fm ? text.slice(fm[0].length) : text;
  const section = (name: string) => {
    const m = new RegExp(`^## ${name}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, "m").exec(body);
    if (!m) throw new Error(`prompt ${version}: missing "## ${name}" section`);
    return m[1]!.trim();
  };
  return { version: meta.version || version, description: meta.description ?? "", system: section("system"), user: section("user") };
}

export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? "");
}
