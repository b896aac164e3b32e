/** The passages given to the answerer: numbered, packed into a token budget, quoted as data. */
import type { SearchHit } from "../retrieval/retriever.js";
import { countTokens, truncateToTokens } from "./tokens.js";

export interface Passage {
  /** 1-based number the answer cites as [n]. */
  n: number;
  hit: SearchHit;
  /** The passage text given to the model (may be cut to fit the budget). */
  text: string;
}

/** Token counts of rendered passages by chunk content hash and position: a chunk's text never changes. */
const COSTS = new Map<string, number>();
const COSTS_LIMIT = 100_000;

function costOf(n: number, hit: SearchHit): number {
  const key = `${hit.chunk.hash}:${hit.chunk.id}:${n}`;
  let cost = COSTS.get(key);
  if (cost === undefined) {
    if (COSTS.size >= COSTS_LIMIT) COSTS.clear();
    COSTS.set(key, (cost = countTokens(renderPassage(n, hit, hit.chunk.text))));
  }
  return cost;
}

/** Every hit as a numbered passage, whole: what the extractive reader reads (no token budget, no tokenizer). */
export function numberPassages(hits: SearchHit[]): Passage[] {
  return hits.map((hit, i) => ({ n: i + 1, hit, text: hit.chunk.text }));
}

/** Takes hits in rank order while they fit in `budget` tokens; the last one may be truncated. */
export function packPassages(hits: SearchHit[], budget: number): Passage[] {
  const out: Passage[] = [];
  let used = 0;
  for (const hit of hits) {
    const cost = costOf(out.length + 1, hit);
    if (used + cost <= budget) {
      out.push({ n: out.length + 1, hit, text: hit.chunk.text });
      used += cost;
      continue;
    }
    const room = budget - used - 40;
    if (room >= 60) out.push({ n: out.length + 1, hit, text: truncateToTokens(hit.chunk.text, room) });
    break;
  }
  return out;
}

export function renderPassages(passages: Passage[]): string {
  return passages.map((p) => renderPassage(p.n, p.hit, p.text)).join("\n\n");
}

function renderPassage(n: number, hit: SearchHit, text: string): string {
  const c = hit.chunk;
  const where = [c.title, c.section, c.page ? `page ${c.page}` : null].filter(Boolean).join(", ");
  return `<passage n="${n}" source="${escapeAttr(where)}">\n${neutralize(text)}\n</passage>`;
}

/** A passage must not be able to close its own tag and speak outside it. */
function neutralize(text: string): string {
  return text.replace(/<\s*\/?\s*passage/gi, (m) => m.replace("<", "‹"));
}

const escapeAttr = (s: string) => s.replace(/["<>]/g, "'");
