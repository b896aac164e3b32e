import { readFileSync } from "node:fs";
import { loadConfig } from "/work/main/src/config/index.js";
import { QaService } from "/work/main/src/service/index.js";
const fold = (s: string) => s.normalize("NFKC").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
const dev = readFileSync("/work/shared/eval/dev.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
const s = new QaService(loadConfig({ ...process.env, INDEX_DIR: "/tmp/idx-me", WATCH_INDEX: "false" })); await s.start();
const idx = s.live.current()!.index;
for (const id of ["q020", "q062", "q070", "q086"]) {
  const q = dev.find((d) => d.id === id);
  const hits = idx.lexical.search(q.question, 200);
  const w = fold(q.support).split(" ").slice(0, 6).join(" ");
  const rank = hits.findIndex((h) => fold(idx.chunks[h.ordinal]!.text).includes(w));
  const target = idx.chunks.findIndex((c) => c.docId === q.doc && fold(c.text).includes(w));
  console.log(id, q.question, "rank", rank, "target", target, idx.chunks[target]?.section, JSON.stringify(idx.chunks[target]?.text.slice(0, 400)));
  for (const h of hits.slice(0, 3)) console.log("   ", h.score.toFixed(1), idx.chunks[h.ordinal]!.id, idx.chunks[h.ordinal]!.section, idx.chunks[h.ordinal]!.text.slice(0, 120).replace(/\n/g, " "));
}
await s.close();
