import { readFileSync } from "node:fs";
import { loadConfig } from "/work/main/src/config/index.js";
import { QaService } from "/work/main/src/service/index.js";
const fold = (s: string) => s.normalize("NFKC").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
const dev = readFileSync("/work/shared/eval/dev.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
const env = { ...process.env, INDEX_DIR: process.env.INDEX_DIR ?? "/tmp/idx-me", LLM_PROVIDER: "extractive", WATCH_INDEX: "false" };
const s = new QaService(loadConfig(env)); await s.start();
function hit(text: string, sup: string) {
  const t = fold(text), w = fold(sup).split(" ");
  if (t.includes(w.join(" "))) return true;
  // longest contiguous run
  let best = 0;
  for (let i = 0; i < w.length; i++) for (let j = w.length; j > i + best; j--) if (t.includes(w.slice(i, j).join(" "))) { best = j - i; break; }
  if (best / w.length >= 0.6) return true;
  const ts = new Set(t.split(" ")); const uw = [...new Set(w)];
  return uw.filter((x) => ts.has(x)).length / uw.length >= 0.85;
}
let r1 = 0, r5 = 0, r10 = 0, acc = 0, fa = 0, ab = 0, n = 0, u = 0;
for (const q of dev) {
  const a = await s.ask({ question: q.question });
  if (q.doc === null) { u++; if (!a.grounded) ab++; console.log("UNANS", q.id, a.grounded, q.question); continue; }
  n++;
  const { results } = await s.search(q.question, 10);
  const rank = results.findIndex((r) => r.docId === q.doc && hit(r.text, q.support));
  if (rank === 0) r1++; if (rank >= 0 && rank < 5) r5++; if (rank >= 0) r10++;
  const ok = q.answers.some((x: string) => fold(a.answer).includes(fold(x)));
  if (ok) acc++; if (!a.grounded) fa++;
  if (process.env.V || rank < 0 || rank >= 5 || !ok || !a.grounded) console.log(q.id, "rank", rank, "ok", ok, "grounded", a.grounded, q.question, "|", results.slice(0,3).map(r=>r.docId).join(","), "|", a.answer.slice(0, 160));
}
console.log({ r1: r1 / n, r5: r5 / n, r10: r10 / n, acc: acc / n, falseAbst: fa / n, abst: ab / u });
await s.close();
