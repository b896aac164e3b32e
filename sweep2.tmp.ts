import { readFileSync } from "node:fs";
import { loadConfig } from "/work/main/src/config/index.js";
import { QaService } from "/work/main/src/service/index.js";
import { Retriever } from "/work/main/src/retrieval/retriever.js";
import { LexicalIndex, buildLexical } from "/work/main/src/index/lexical.js";
import { indexedText } from "/work/main/src/ingest/chunk.js";
const fold = (s: string) => s.normalize("NFKC").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
const dev = readFileSync("/work/shared/eval/dev.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
function hit(text: string, sup: string) {
  const t = fold(text), w = fold(sup).split(" ");
  if (t.includes(w.join(" "))) return true;
  let best = 0;
  for (let i = 0; i < w.length; i++) for (let j = w.length; j > i + best; j--) if (t.includes(w.slice(i, j).join(" "))) { best = j - i; break; }
  if (best / w.length >= 0.6) return true;
  const ts = new Set(t.split(" ")); const uw = [...new Set(w)];
  return uw.filter((x) => ts.has(x)).length / uw.length >= 0.85;
}
const s = new QaService(loadConfig({ ...process.env, INDEX_DIR: "/tmp/idx-me", LLM_PROVIDER: "extractive", WATCH_INDEX: "false" })); await s.start();
const base = s.live.current()!;
const emb = (base as any).embedder;
const qv = new Map<string, number[]>();
for (const q of dev) qv.set(q.question, await emb.embedQuery(q.question));
const cached = { id: emb.id, dimensions: emb.dimensions, embedQuery: async (t: string) => qv.get(t)!, embedDocuments: emb.embedDocuments, close: async () => {} };
const al = new Map(base.index.manifest.documents.map((d) => [d.id, d.aliases]));
const texts = base.index.chunks.map((c) => indexedText(c, true, al.get(c.docId)));
for (const k1 of [1.2]) for (const b of [0.75]) for (const rw of [0, 0.3, 0.5, 1, 2, 4]) { const hb = 0;
  const lexical = new LexicalIndex(buildLexical(texts.map((t, i) => hb ? `${t.split("\n")[0]}\n${t}` : t), k1, b));
  for (const [dw, rrf] of [[0, 20], [0.3, 20], [0.5, 10]]) {
  const r = new Retriever({ ...base.index, lexical }, cached as any, { lexicalWeight: 1, denseWeight: dw, rrfK: rrf, candidates: 50, rerankWeight: rw, rerankDepth: 30 });
  let r1 = 0, r5 = 0, mrr = 0, n = 0; const miss: string[] = [];
  for (const q of dev) { if (!q.doc) continue; n++;
    const { hits } = await r.search(q.question, { k: 10 });
    const rank = hits.findIndex((h) => h.chunk.docId === q.doc && hit(h.chunk.text, q.support));
    if (rank === 0) r1++; if (rank >= 0 && rank < 5) r5++; else miss.push(q.id); if (rank >= 0) mrr += 1 / (rank + 1);
  }
  console.log(`rw ${rw} k1 ${k1} b ${b} dense ${dw} rrf ${rrf}: r1 ${(r1/n).toFixed(2)} r5 ${(r5/n).toFixed(2)} mrr ${(mrr/n).toFixed(3)} miss ${miss.join(",")}`);
  }
}
await s.close();
