/**
 * The one sentence splitter (Intl.Segmenter, the platform's Unicode sentence boundaries), used by the
 * chunker (sentences are never cut) and by the passage analysis the reader and the reranker score.
 * Nothing else in src/ segments sentences (the chunker's LangChain character splitter only cuts a
 * single over-long sentence; the evaluation baseline's splitter is the recipe it reproduces).
 */
const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

/** Sentences of a text, trimmed; `breakBefore` when a newline precedes the sentence. */
export function splitSentences(text: string): Array<{ text: string; breakBefore: boolean }> {
  const out: Array<{ text: string; breakBefore: boolean }> = [];
  let pendingBreak = false;
  for (const { segment } of segmenter.segment(text)) {
    const trimmed = segment.replace(/[ \t]+/g, " ").trim();
    const leading = /^\s*/.exec(segment)![0];
    if (trimmed === "") {
      if (segment.includes("\n")) pendingBreak = true;
      continue;
    }
    out.push({ text: trimmed, breakBefore: pendingBreak || leading.includes("\n") });
    pendingBreak = /\n\s*$/.test(segment);
  }
  return out;
}
