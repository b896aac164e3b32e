/**
 * The answer cache: finished answers by what decides them (the normalised standalone question, the
 * document scope, the prompt version and its template, the model, the index generation, k). A new
 * index generation or a changed prompt gives new keys, so stale answers are never served; they age
 * out by LRU and TTL (lru-cache). Answers that fell back or carry a warning are not cached.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { fold } from "../text/analyze.js";

export interface CacheKeyParts {
  standaloneQuestion: string;
  docs?: string[];
  promptVersion: string;
  /** sha256 of the template's text: an edited template under the same version is another prompt. */
  promptHash: string;
  model: string;
  generation: string;
  k: number;
  /** A request's own sampling settings (the OpenAI-compatible API's temperature, max_tokens), when it set any. */
  sampling?: string;
}

/** Case, Unicode form, spacing and closing punctuation do not make another question. */
export function normaliseQuestion(q: string): string {
  return fold(q).replace(/\s+/g, " ").replace(/[\s?.!]+$/, "").trim();
}

export function cacheKey(p: CacheKeyParts): string {
  const scope = [...new Set(p.docs ?? [])].sort();
  const parts = [normaliseQuestion(p.standaloneQuestion), scope.join(","), p.promptVersion, p.promptHash, p.model, p.generation, String(p.k), ...(p.sampling ? [p.sampling] : [])];
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

export interface CacheOptions {
  /** Entries kept (least recently used dropped first); 0 turns the cache off. */
  size: number;
  ttlMs: number;
}

export class AnswerCache<V extends object> {
  private readonly lru: LRUCache<string, V> | undefined;

  constructor(opts: CacheOptions) {
    this.lru = opts.size > 0 ? new LRUCache<string, V>({ max: opts.size, ttl: opts.ttlMs }) : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get(key: string): V | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: V): void {
    this.lru?.set(key, value);
  }

  clear(): void {
    this.lru?.clear();
  }
}
