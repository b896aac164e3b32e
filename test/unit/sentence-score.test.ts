import { describe, expect, it } from "vitest";
import { analyzePassage } from "../../src/retrieval/passages.js";
import { analyzeQuery, type CorpusVocabulary } from "../../src/retrieval/query.js";
import { bestWindow, candidateStrength, readRow, scoreWindows, windowText } from "../../src/retrieval/sentence-score.js";

const corpus: CorpusVocabulary = { idf: () => 1, has: () => true, named: () => [] };
const best = (question: string, text: string, section: string | null = null) => {
  const q = analyzeQuery(question, corpus);
  const p = analyzePassage(text, section);
  const w = bestWindow(scoreWindows(q, p, new Set()));
  return w ? windowText(p, w) : "";
};

describe("candidateStrength", () => {
  it("ties a number to the thing counted", () => {
    const q = analyzeQuery("For how many epochs were the SFT models trained?", corpus);
    const [tied] = analyzePassage("We trained the SFT models for 16 epochs.").sentences;
    const [loose] = analyzePassage("The SFT models were trained with 3 learning rates.").sentences;
    expect(candidateStrength(q, tied!)).toBeGreaterThan(candidateStrength(q, loose!));
  });

  it("never takes a number the question already states", () => {
    const q = analyzeQuery("How many GPUs trained GPT-3 175B?", corpus);
    const [s] = analyzePassage("GPT-3 175B was trained on a cluster.").sentences;
    expect(candidateStrength(q, s!)).toBe(0);
  });

  it("prefers a quoted or named term for a naming question", () => {
    const q = analyzeQuery("What do the authors call the performance drop?", corpus);
    const [quoted] = analyzePassage("The model suffers an “alignment tax”: a performance drop.").sentences;
    const [plain] = analyzePassage("The performance drop was seen on SQuAD.").sentences;
    expect(candidateStrength(q, quoted!)).toBeGreaterThan(candidateStrength(q, plain!));
  });

  it("scores explicit causes above weak cues for why-questions", () => {
    const q = analyzeQuery("Why use comparisons?", corpus);
    const [strong, weak, none] = analyzePassage("We use comparisons because they are consistent. Comparisons are better. We use comparisons.").sentences;
    expect(candidateStrength(q, strong!)).toBe(1.5);
    expect(candidateStrength(q, weak!)).toBe(1);
    expect(candidateStrength(q, none!)).toBe(0);
  });
});

describe("scoreWindows", () => {
  it("picks the sentence that states the fact over one that only repeats the question", () => {
    expect(best("Which optimizer was used to train the Transformer?", "We trained the Transformer on WMT data with care. We used the Adam optimizer with β1 = 0.9.")).toContain("Adam");
  });

  it("adds the answering sentence after the one that restates the question", () => {
    const text = "We ask humans to compare clips rather than give absolute scores. We found comparisons easier to provide because they are more consistent.";
    expect(best("Why ask humans to compare clips rather than give absolute scores?", text)).toContain("because");
  });

  it("gives an anaphoric sentence the heading it refers to", () => {
    expect(best("Which use case is the most popular enterprise application?", "Talk-to-your-data\nThis is the most popular enterprise application so far.")).toMatch(/^Talk-to-your-data: This is/);
  });

  it("never answers with a bare heading when a sentence states the fact", () => {
    expect(best("What accuracy on SciTail?", "4.2 SciTail accuracy\nOur model reaches an accuracy of 88.3 on SciTail.")).toContain("88.3");
  });
});

describe("readRow", () => {
  it("aligns values with the header's columns", () => {
    const p = analyzePassage("Method MNLI SNLI SciTail\nCAFE 80.2 89.3 83.3\nOurs 82.1 89.9 88.3");
    const row = p.sentences.find((s) => s.text.startsWith("Ours"))!;
    expect(readRow(row)).toBe("Ours: MNLI 82.1, SNLI 89.9, SciTail 88.3");
  });

  it("reads markdown cells with their header", () => {
    const p = analyzePassage("Dataset | Tokens | Weight\nCommon Crawl | 410 billion | 60%\nWebText2 | 19 billion | 22%");
    const row = p.sentences.find((s) => s.text.startsWith("Common"))!;
    expect(readRow(row)).toBe("Common Crawl; Tokens: 410 billion; Weight: 60%");
  });
});
