/** The rules kept in one place: stop words, the document id, the view of a hit. */
import { describe, expect, it } from "vitest";
import { DOCUMENT_ID, documentId } from "../../src/corpus/manifest.js";
import { viewHit } from "../../src/retrieval/retriever.js";
import { askBody, addDocumentUrlBody, searchBody } from "../../src/server/schemas.js";
import { FUNCTION_WORDS, isStopWord } from "../../src/text/analyze.js";
import { parseHeading } from "../../src/ingest/clean.js";

describe("one of each", () => {
  it("the heading detector's function words are part of the one stop list", () => {
    for (const w of FUNCTION_WORDS) expect(isStopWord(w)).toBe(true);
    expect(parseHeading("3 A promising source of text is")).toBeNull();
    // Stop words outside the subset may end a title.
    expect(parseHeading("2.2 Data Used")).toEqual({ number: "2.2", text: "2.2 Data Used" });
  });

  it("one document-id rule for the manifest, uploads and the API's filters", () => {
    for (const ok of ["gpt3", "rlhf-summarize", "a", "x".repeat(64)]) expect(DOCUMENT_ID.test(ok)).toBe(true);
    for (const bad of ["", "-a", "GPT3", "a_b", "a/b", "x".repeat(65)]) expect(DOCUMENT_ID.test(bad)).toBe(false);
    expect(documentId.safeParse("x".repeat(65)).success).toBe(false);
    expect(addDocumentUrlBody.safeParse({ url: "https://example.org/a.pdf", id: "Bad Id" }).success).toBe(false);
    expect(searchBody.safeParse({ query: "q", docs: ["gpt3", "../etc"] }).success).toBe(false);
    expect(askBody.safeParse({ question: "q", docs: ["gpt3"] }).success).toBe(true);
  });

  it("a hit is shown the same way everywhere: chunk address, text, score to 4 decimals", () => {
    const chunk = { id: "gpt3:4", docId: "gpt3", title: "GPT-3", page: 3, pageEnd: 4, section: "2 Approach", position: 4, text: "t", hash: "h" };
    expect(viewHit({ chunk, score: 0.123456 })).toEqual({ id: "gpt3:4", docId: "gpt3", title: "GPT-3", page: 3, section: "2 Approach", text: "t", score: 0.1235 });
  });
});
