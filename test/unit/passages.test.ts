import { describe, expect, it } from "vitest";
import { analyzePassage } from "../../src/retrieval/passages.js";

describe("analyzePassage", () => {
  it("splits lines into sentences and marks headings as labels", () => {
    const p = analyzePassage("6.3 Energy Usage\nTraining consumed thousands of petaflop/s-days. It was costly.");
    expect(p.sentences.map((s) => s.shape)).toEqual(["label", "sentence", "sentence"]);
    expect(p.sentences[2]!.anaphoric).toBe(true);
  });

  it("strips a section heading glued to the first sentence", () => {
    const p = analyzePassage("3.1.2 Atari The second set of tasks we consider is a set of seven Atari games.", "3.1.2 Atari");
    expect(p.sentences[0]).toMatchObject({ text: "3.1.2 Atari", shape: "label" });
    expect(p.sentences[1]!.text.startsWith("The second set")).toBe(true);
  });

  it("reads table rows with their header and caption", () => {
    const p = analyzePassage("Table 1: Distribution of use case categories.\nUse-case (%)\nGeneration 45.6%\nOpen QA 12.4%");
    const rows = p.sentences.filter((s) => s.shape === "row");
    expect(rows.map((r) => r.text)).toEqual(["Generation 45.6%", "Open QA 12.4%"]);
    expect(rows[0]!.header?.text).toBe("Use-case (%)");
    expect(rows[0]!.header?.terms.has("distribut")).toBe(true);
  });

  it("marks numbers, names and quoted terms, and drops citations", () => {
    const p = analyzePassage("We use the Adam optimizer [20] and TRPO (Schulman et al., 2015), an “alignment tax” of 31,144 prompts.");
    const tokens = p.sentences[0]!.tokens;
    const t = (text: string) => tokens.find((x) => x.text === text);
    expect(t("Adam")?.name).toBe(true);
    expect(t("TRPO")?.name).toBe(true);
    expect(t("tax")?.quoted).toBe(true);
    expect(t("31,144")?.number).toBe(true);
    expect(t("20")).toBeUndefined();
    expect(t("Schulman")).toBeUndefined();
    expect(t("We")?.name).toBe(false); // a capital at the start of a sentence is not a name
  });

  it("recognises formulas and flattened tables", () => {
    const p = analyzePassage("PE(pos,2i) = sin(pos/10000^(2i/dmodel)) + x_i\nMethod 82.1 81.4 89.9 88.3 88.1 56.0 71.4 71.3 82.3 59.2 80.2 79.0 89.3 and more");
    expect(p.sentences[0]!.shape).toBe("formula");
    expect(p.sentences[1]!.shape).toBe("table");
  });
});
