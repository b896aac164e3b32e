import { describe, expect, it } from "vitest";
import {
  cleanPages,
  collectHyphenated,
  dehyphenate,
  fixCharacters,
  fixLigatures,
  normalizeWhitespace,
  parseHeading,
  removePageArtifacts,
  removeRepeatedLines,
} from "../../src/ingest/clean.js";

describe("fixLigatures / fixCharacters", () => {
  it("replaces the Latin ligature code points by their letters", () => {
    expect(fixLigatures("ﬁne-tuning, ﬂow, eﬀect, oﬃce, waﬄe, ﬅar, ﬆop")).toBe("fine-tuning, flow, effect, office, waffle, star, stop");
  });

  it("does not apply NFKC to the rest of the text", () => {
    expect(fixLigatures("x² ℓ ﬁ")).toBe("x² ℓ fi");
  });

  it("composes TeX spacing accents, normalises odd spaces and drops soft hyphens", () => {
    expect(fixCharacters("cot´e caf´e")).toBe("coté café");
    expect(fixCharacters("a\u00A0b\u2009c hy\u00ADphen\r\nx")).toBe("a b c hyphen\nx");
  });
});

describe("dehyphenate", () => {
  it("re-joins a word broken at a line end when the continuation is lowercase", () => {
    expect(dehyphenate("the trans-\nformer model is\nnew")).toBe("the transformer\nmodel is\nnew");
  });

  it("keeps the hyphen when the document writes the compound with a hyphen inside a line", () => {
    const text = "we use self-attention here and\nmulti-head self-\nattention there, and trans-\nformers";
    expect(dehyphenate(text)).toBe("we use self-attention here and\nmulti-head self-attention\nthere, and transformers");
  });

  it("uses the document-wide set of compounds when given", () => {
    const known = collectHyphenated(["page one mentions state-of-the-art results"]);
    expect(dehyphenate("a new state-of-the-\nart model", known)).toBe("a new state-of-the-art\nmodel");
    expect(dehyphenate("a new state-of-the-\nart model", new Set())).toBe("a new state-of-theart\nmodel");
  });

  it("ignores the keep rule for a one-letter left part", () => {
    expect(dehyphenate("x-\nray", new Set(["x-ray"]))).toBe("xray");
  });

  it("keeps the hyphen before a capital and does not join a footnote", () => {
    expect(dehyphenate("English-\nGerman task")).toBe("English-German\ntask");
    expect(dehyphenate("due to over-\n1https://example.com")).toBe("due to over-\n1https://example.com");
  });

  it("does not count a compound cut at a line end as written with a hyphen", () => {
    const pairs = collectHyphenated(["one self-atten-\ntion", "a well-known fact"]);
    expect(pairs.has("self-atten")).toBe(false);
    expect(pairs.has("well-known")).toBe(true);
  });
});

describe("page furniture", () => {
  it("removes lines repeated on ≥ 30% of pages (digits normalised) and keeps unique lines", () => {
    const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    const pages = words.map((w, i) => `Journal of Tests, Vol. ${i + 1}\nUnique body text about ${w}.\nPage ${i + 1}`);
    pages[2] += "\nA line that appears once.";
    const out = removeRepeatedLines(pages);
    expect(out.join("\n")).not.toMatch(/Journal of Tests/);
    expect(out.join("\n")).not.toMatch(/^Page \d$/m);
    expect(out[0]).toBe("Unique body text about alpha.");
    expect(out[2]).toBe("Unique body text about gamma.\nA line that appears once.");
  });

  it("needs at least 3 pages and the share threshold", () => {
    const two = ["Header\nbody one", "Header\nbody two"];
    expect(removeRepeatedLines(two)).toEqual(two);
    const ten = Array.from({ length: 10 }, (_, i) => `body ${"abcdefghij"[i]}` + (i < 2 ? "\nRare line" : ""));
    expect(removeRepeatedLines(ten)[0]).toContain("Rare line"); // 2 of 10 pages < 3 pages
  });

  it("removes the arXiv margin stamp wherever it is, but not arXiv references", () => {
    const page = "Body text.\narXiv:1706.03741v4 [stat.ML] 17 Feb 2023\nSee arXiv preprint arXiv:1706.03741, 2017.\nmixed arXiv:2203.02155v1 [cs.CL] 4 Mar 2022 line";
    const out = removePageArtifacts(page);
    expect(out).not.toMatch(/\[stat\.ML\]|\[cs\.CL\]/);
    expect(out).toContain("See arXiv preprint arXiv:1706.03741, 2017.");
    expect(out.split("\n")).toHaveLength(3);
    expect(out.split("\n")[2]!.replace(/\s+/g, " ")).toBe("mixed line");
  });

  it("removes bare page-number lines and keeps numbers inside text", () => {
    expect(removePageArtifacts("text\n12\n- 3 -\n12 layers of attention")).toBe("text\n12 layers of attention");
  });
});

describe("normalizeWhitespace", () => {
  const long = "This is a fairly long line of body text that fills the column width nicely";
  it("joins soft-wrapped lines and breaks paragraphs after a short sentence end", () => {
    const text = `${long}\n${long}\nand ends here.\n${long}\n${long}.`;
    const out = normalizeWhitespace(text);
    expect(out.split("\n\n")).toHaveLength(2);
    expect(out.split("\n\n")[0]).toBe(`${long} ${long} and ends here.`);
  });

  it("collapses spaces and keeps table rows and headings on their own lines", () => {
    const text = `3.2   Attention\n${long}\n${long}\nModel\tBLEU\tCost\nTransformer 28.4 41.8 2.3\n${long}`;
    const out = normalizeWhitespace(text);
    expect(out.startsWith("3.2 Attention\n\n")).toBe(true);
    expect(out).toContain("\nModel BLEU Cost\nTransformer 28.4 41.8 2.3\n");
    expect(out).not.toMatch(/ {2}/);
  });
});

describe("parseHeading", () => {
  it.each([
    ["3.2 Attention", "3.2 Attention"],
    ["3.2.1 Scaled Dot-Product Attention", "3.2.1 Scaled Dot-Product Attention"],
    ["2.1. Training Dataset", "2.1 Training Dataset"],
    ["A Additional details", "A Additional details"],
    ["Abstract", "Abstract"],
    ["References", "References"],
    ["5.2 Who are we aligning to?", "5.2 Who are we aligning to?"],
  ])("accepts %s", (line, text) => {
    expect(parseHeading(line)?.text).toBe(text);
  });

  it.each([
    "A promising source of diverse and nearly unlimited text is",
    "1542M 48 1600",
    "3 T. heavy cream",
    "2 Results are shown in the table below.",
    "A single convolutional layer with kernel width k < n does not connect all pairs",
    "Figure 1: The Transformer",
  ])("rejects %s", (line) => {
    expect(parseHeading(line)).toBeNull();
  });
});

describe("cleanPages", () => {
  it("cleans a small paper end to end", () => {
    const header = "A Study of Tests";
    const pages = [
      `${header}\nAbstract\nIn this short paper we study the properties of the trans-\nformer architecture with self-attention layers in detail.\narXiv:1234.56789v2 [cs.CL] 1 Jan 2024\n1`,
      `${header}\n1 Introduction\nThe self-\nattention layers are the main topic of this paper and they are im-\n2`,
      `${header}\nportant for language modeling.\n3`,
    ];
    const out = cleanPages(pages);
    expect(out).toHaveLength(3);
    expect(out.join("\n")).not.toContain(header);
    expect(out[0]).toContain("we study the properties of the transformer architecture with self-attention");
    expect(out[0]).not.toMatch(/arXiv|^1$/m);
    expect(out[1]).toContain("The self-attention layers");
    expect(out[1]).toContain("they are important");
    expect(out[2]).toBe("for language modeling.");
  });
});
