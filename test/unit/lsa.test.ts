import { describe, expect, it } from "vitest";
import { decodeLsa, encodeLsa, fitLsa, LsaEmbedder, lsaVector } from "../../src/embed/lsa.js";

const texts = [
  "the transformer uses multi-head self-attention over tokens",
  "self-attention lets every token attend to every other token",
  "attention heads in the transformer are computed in parallel",
  "reinforcement learning from human feedback trains a reward model",
  "the reward model scores outputs that human labelers compared",
  "human preferences between two outputs train the reward model",
  "a book contains around fifty thousand words",
  "words and tokens are counted differently by tokenizers",
];
const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

const { model, vectors } = await fitLsa(texts, { dimensions: 4, minDf: 1 });
const index = new Map(model.vocabulary.map((t, j) => [t, j]));

describe("LSA", () => {
  it("gives unit vectors of the requested size, the same for the same corpus", async () => {
    expect(vectors).toHaveLength(texts.length);
    for (const v of vectors) {
      expect(v).toHaveLength(4);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    expect((await fitLsa(texts, { dimensions: 4, minDf: 1 })).vectors).toEqual(vectors);
  });

  it("folding a fitted text in gives (nearly) its fitted vector", () => {
    for (let i = 0; i < texts.length; i++) expect(cos(lsaVector(model, index, texts[i]!), vectors[i]!)).toBeGreaterThan(0.95);
  });

  it("puts a query near the passages of its topic, even without shared words", () => {
    const q = lsaVector(model, index, "labelers preferences");
    const rlhf = [3, 4, 5].map((i) => cos(q, vectors[i]!));
    const attention = [0, 1, 2].map((i) => cos(q, vectors[i]!));
    expect(Math.min(...rlhf)).toBeGreaterThan(Math.max(...attention));
  });

  it("round-trips through its file format and refuses a damaged one", () => {
    const bytes = encodeLsa(model);
    const back = decodeLsa(bytes);
    expect(back.vocabulary).toEqual(model.vocabulary);
    expect(Array.from(back.table)).toEqual(Array.from(model.table));
    expect(() => decodeLsa(bytes.subarray(0, bytes.length - 4))).toThrow(/expected/);
  });

  it("refuses to embed before it has a model", async () => {
    await expect(new LsaEmbedder(4).embedQuery("x")).rejects.toThrow(/no model/);
    const fitted = await new LsaEmbedder(4).fit(texts);
    const e = new LsaEmbedder(4).withModel(fitted.model);
    expect((await e.embedQuery("reward model"))).toHaveLength(4);
  });
});
