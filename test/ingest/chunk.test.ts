import { describe, expect, it } from "vitest";
import { chunkDocument, indexedText } from "../../src/ingest/chunk.js";
import { splitSentences } from "../../src/text/sentences.js";
import type { LoadedDocument, Segment } from "../../src/ingest/types.js";

const meta = { docId: "doc", title: "A Test Paper" };

/** `n` distinct sentences of about 60-70 characters, tagged with a label so their origin is visible. */
function sentences(label: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `Sentence ${label}${from + i} says something about the topic of ${label}.`);
}

function paged(section: string | null, perPage: Record<number, string[]>): Segment[] {
  return Object.entries(perPage).map(([page, s]) => ({ page: Number(page), section, text: s.join(" ") }));
}

describe("chunkDocument", () => {
  const size = 300;
  const overlap = 80;
  const doc: LoadedDocument = {
    pages: 3,
    segments: [
      ...paged("1 Introduction", { 1: sentences("A", 6), 2: sentences("A", 6, 6) }),
      ...paged("2 Method", { 2: sentences("B", 5), 3: sentences("B", 8, 5) }),
    ],
  };

  it("keeps every chunk within the size, with consecutive positions and ids", async () => {
    const chunks = await chunkDocument(doc, meta, { size, overlap });
    expect(chunks.length).toBeGreaterThan(4);
    chunks.forEach((c, i) => {
      expect(c.text.length).toBeLessThanOrEqual(size);
      expect(c.position).toBe(i);
      expect(c.id).toBe(`doc:${i}`);
      expect(c.docId).toBe("doc");
      expect(c.title).toBe(meta.title);
      expect(c.text).toBe(c.text.trim());
    });
  });

  it("gives each chunk the page of its first and last sentence, including one spanning two pages", async () => {
    const chunks = await chunkDocument(doc, meta, { size, overlap });
    for (const c of chunks) {
      const labels = [...c.text.matchAll(/Sentence ([AB])(\d+)/g)].map((m) => ({ sec: m[1]!, n: Number(m[2]) }));
      const pageOf = ({ sec, n }: { sec: string; n: number }) => (sec === "A" ? (n < 6 ? 1 : 2) : n < 5 ? 2 : 3);
      expect(c.page).toBe(pageOf(labels[0]!));
      expect(c.pageEnd).toBe(pageOf(labels[labels.length - 1]!));
    }
    expect(chunks.some((c) => c.page === 1 && c.pageEnd === 2)).toBe(true);
  });

  it("never lets a chunk cross a section boundary", async () => {
    const chunks = await chunkDocument(doc, meta, { size, overlap });
    for (const c of chunks) {
      const hasA = c.text.includes("Sentence A");
      const hasB = c.text.includes("Sentence B");
      expect(hasA && hasB).toBe(false);
      expect(c.section).toBe(hasA ? "1 Introduction" : "2 Method");
    }
  });

  it("repeats whole trailing sentences (≤ overlap characters) at the start of the next chunk in a section", async () => {
    const chunks = await chunkDocument(doc, meta, { size, overlap });
    let checked = 0;
    for (let i = 0; i + 1 < chunks.length; i++) {
      const a = chunks[i]!;
      const b = chunks[i + 1]!;
      if (a.section !== b.section) {
        expect(b.text.startsWith("Sentence B0 ")).toBe(true); // no overlap carried into a new section
        continue;
      }
      const lastSentence = splitSentences(a.text).at(-1)!.text;
      expect(lastSentence.length).toBeLessThanOrEqual(overlap);
      expect(b.text.startsWith(lastSentence)).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(2);
  });

  it("cuts nothing mid-sentence: every chunk is a run of whole sentences", async () => {
    const chunks = await chunkDocument(doc, meta, { size, overlap });
    for (const c of chunks) expect(c.text).toMatch(/^Sentence [AB]\d+ .*\.$/s);
  });

  it("splits a single sentence longer than the size (a table dump) into pieces of at most size", async () => {
    const table = Array.from({ length: 120 }, (_, i) => `row${i} 0.${i}`).join(" ");
    const long: LoadedDocument = { pages: 1, segments: [{ page: 1, section: "Table", text: `Intro sentence. ${table} Outro sentence.` }] };
    const chunks = await chunkDocument(long, meta, { size: 200, overlap: 40 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(200);
    const all = chunks.map((c) => c.text).join(" ");
    for (const i of [0, 59, 119]) expect(all).toContain(`row${i} 0.${i}`);
    expect(all).toContain("Outro sentence.");
  });

  it("joins a sentence cut by a page break into one unit spanning both pages", async () => {
    const d: LoadedDocument = {
      pages: 2,
      segments: [
        { page: 1, section: "S", text: "First sentence here. The second sentence starts on page one and" },
        { page: 2, section: "S", text: "ends on page two. Third sentence." },
      ],
    };
    const [chunk] = await chunkDocument(d, meta, { size: 500, overlap: 0 });
    expect(chunk!.text).toBe("First sentence here. The second sentence starts on page one and ends on page two. Third sentence.");
    expect([chunk!.page, chunk!.pageEnd]).toEqual([1, 2]);
  });

  it("lets a chunk cover at most two pages", async () => {
    const d: LoadedDocument = {
      pages: 3,
      segments: [1, 2, 3].map((page) => ({ page, section: null, text: `Short text on page ${page}. Another sentence on page ${page}.` })),
    };
    const chunks = await chunkDocument(d, meta, { size: 900, overlap: 150 });
    expect(chunks.map((c) => [c.page, c.pageEnd])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(chunks[1]!.text.startsWith("Short text on page 2. Another sentence on page 2. Short text on page 3.")).toBe(true);
  });

  it("puts a tiny section in front of the next one's first chunk, under the tiny section's name", async () => {
    const d: LoadedDocument = {
      pages: null,
      segments: [
        { page: null, section: "3 Model", text: "Short intro." },
        { page: null, section: "3.1 Encoder", text: sentences("E", 10).join(" ") },
      ],
    };
    const chunks = await chunkDocument(d, meta, { size: 300, overlap: 0 });
    expect(chunks[0]!.section).toBe("3 Model");
    expect(chunks[0]!.text.startsWith("Short intro.\nSentence E0")).toBe(true);
    expect(chunks.slice(1).every((c) => c.section === "3.1 Encoder" && !c.text.includes("Short intro"))).toBe(true);
  });

  it("gives markdown chunks null pages and keeps paragraph breaks as newlines", async () => {
    const d: LoadedDocument = { pages: null, segments: [{ page: null, section: null, text: "Para one, sentence one. Sentence two.\n\nPara two." }] };
    const [chunk] = await chunkDocument(d, meta, { size: 500, overlap: 100 });
    expect(chunk).toMatchObject({ page: null, pageEnd: null, section: null, text: "Para one, sentence one. Sentence two.\nPara two." });
  });

  it("rejects impossible options", async () => {
    await expect(chunkDocument(doc, meta, { size: 100, overlap: 100 })).rejects.toThrow(RangeError);
    await expect(chunkDocument(doc, meta, { size: 0, overlap: 0 })).rejects.toThrow(RangeError);
  });
});

describe("indexedText", () => {
  const chunk = { title: "Attention Is All You Need", section: "3.2 Attention", text: "An attention function maps." };
  it("prefixes title and section when asked", () => {
    expect(indexedText(chunk, true)).toBe("Attention Is All You Need — 3.2 Attention\nAn attention function maps.");
    expect(indexedText({ ...chunk, section: null }, true)).toBe("Attention Is All You Need\nAn attention function maps.");
  });
  it("returns the text alone without prefix", () => {
    expect(indexedText(chunk, false)).toBe("An attention function maps.");
  });
});
