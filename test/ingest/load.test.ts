import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import PDFDocument from "pdfkit";
import { describe, expect, it } from "vitest";
import { chunkDocument } from "../../src/ingest/chunk.js";
import { htmlToText, loadHtml } from "../../src/ingest/html.js";
import { loadDocument } from "../../src/ingest/load.js";
import { loadMarkdown } from "../../src/ingest/markdown.js";
import { isAppError } from "../../src/errors.js";
import type { LoadedDocument } from "../../src/ingest/types.js";
import { BLOG_PAGE_HTML } from "../helpers/blog-page.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const corpusDir = path.resolve(projectRoot, "../shared/corpus");

/** A PDF with one text line per entry, one page per array (pdfkit writes each `text()` call on its own line). */
function makePdf(pages: string[][], options: PDFKit.PDFDocumentOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, compress: false, ...options });
    const parts: Buffer[] = [];
    doc.on("data", (b: Buffer) => parts.push(b));
    doc.on("end", () => resolve(Buffer.concat(parts)));
    doc.on("error", reject);
    for (const lines of pages) {
      doc.addPage();
      for (const line of lines) doc.text(line);
    }
    doc.end();
  });
}

/** The DOCUMENT_UNREADABLE error a load fails with: its message, and the file and reason in its details. */
async function loadError(promise: Promise<unknown>): Promise<{ message: string; file: string; reason: string }> {
  try {
    await promise;
  } catch (err) {
    if (!isAppError(err, "DOCUMENT_UNREADABLE") || !err.details) throw err;
    return { message: err.message, ...err.details };
  }
  throw new Error("expected DOCUMENT_UNREADABLE, but the document loaded");
}

const allText = (doc: LoadedDocument) => doc.segments.map((s) => s.text).join("\n");

describe("markdown", () => {
  const md = [
    "# Paper Title",
    "",
    "Intro paragraph with a [link to the docs](https://example.com/docs \"Docs\") and **bold** and _italic_ words.",
    "",
    '<span id="page-2-0"></span>![](_page_2_Figure_0.jpeg)',
    "",
    "## <span id=\"page-3-1\"></span>2.1 Training Dataset",
    "",
    "The dataset has 45TB of *compressed* text.",
    "",
    "| Model | Params | Layers |",
    "|-------|-------:|--------|",
    "| GPT-3 Small | 125M | 12 |",
    "| GPT-3 175B | 175.0B | 96 |",
    "",
    "* * *",
    "",
    "Setext Heading",
    "--------------",
    "",
    "table { border-collapse: collapse; width: 100%; } th, td { padding: 8px; }<table><tr><td>Prompt</td><td>Response</td></tr></table>",
    "",
    "![chart](/assets/pics/chart.png) Caption text stays. Keep `code` text and snake_case_names.",
    "Controversy score: { score }",
  ].join("\n");

  const doc = loadMarkdown(md);

  it("turns headings into sections (with the heading text cleaned) and has no pages", () => {
    expect(doc.pages).toBeNull();
    expect(doc.segments.map((s) => s.section)).toEqual(["Paper Title", "2.1 Training Dataset", "Setext Heading"]);
    expect(doc.segments.every((s) => s.page === null)).toBe(true);
    expect(doc.segments[1]!.text).toContain("The dataset has 45TB of compressed text.");
  });

  it("strips images, links, tags, emphasis, separators and leaked CSS", () => {
    const text = allText(doc);
    expect(text).toContain("Intro paragraph with a link to the docs and bold and italic words.");
    expect(text).not.toMatch(/!\[|\]\(|_page_|https?:|<span|<\/?t[dr]>|\* \* \*|border-collapse|\*\*/);
    expect(text).toContain("Caption text stays. Keep code text and snake_case_names.");
    expect(text).toContain("Controversy score: { score }");
  });

  it("keeps table text as 'a | b' rows, without separator rows", () => {
    const text = allText(doc);
    expect(text).toContain("Model | Params | Layers\nGPT-3 Small | 125M | 12\nGPT-3 175B | 175.0B | 96");
    expect(text).not.toMatch(/-{3}/);
    expect(text).toContain("Prompt | Response");
  });
});

describe("html", () => {
  it("drops script/style, makes h1-h6 sections and decodes every entity", () => {
    const doc = loadHtml(
      "<html><head><title>T</title><style>p{color:red}</style></head><body><p>Before &amp; after</p><h2>Costs &lt;2023&gt;</h2><script>var x = 1;</script><p>It&#39;s $0.624&nbsp;per call &mdash; caf&eacute; &rarr; &frac12; &#x1F600;.</p></body></html>",
    );
    expect(doc).toEqual({
      pages: null,
      segments: [
        { text: "Before & after", page: null, section: null },
        { text: "Costs <2023>\n\nIt's $0.624 per call — café → ½ 😀.", page: null, section: "Costs <2023>" },
      ],
    });
  });

  describe("a real blog page (Jekyll, like huyenchip.com)", () => {
    const doc = loadHtml(BLOG_PAGE_HTML);
    const text = allText(doc);
    const section = (name: string) => doc.segments.find((s) => s.section === name)?.text ?? "";

    it("keeps the article and leaves out site chrome, scripts, forms, hidden and aside content", () => {
      expect(text).not.toContain("NOT-CONTENT");
      expect(text).not.toMatch(/gtag|dataLayer|border-collapse|Subscribe|↩/);
      expect(text).toContain("how large language models (LLMs) will change machine learning workflows");
    });

    it("starts a section at each heading that has text under it", () => {
      expect(doc.segments.map((s) => s.section)).toEqual([null, "The ambiguity of natural languages", "Cost and latency", "Part II. Task composability"]);
      expect(doc.segments.every((s) => s.page === null)).toBe(true);
      expect(section("Cost and latency").startsWith("Cost and latency\n\nThe more explicit detail")).toBe(true);
    });

    it("decodes entities and collapses markup whitespace within paragraphs", () => {
      expect(section("The ambiguity of natural languages")).toContain(
        "Programming languages are “mostly” exact.1 Ambiguity in natural languages makes prompts flexible — and flaky.",
      );
      expect(section("The ambiguity of natural languages")).toContain("the café example shows that the same prompt can give different outputs → you need evaluation.");
      expect(text).toContain("A question that I’ve been asked a lot recently");
    });

    it("turns a table into rows of cells joined by ' | '", () => {
      expect(section("Cost and latency")).toContain(
        "Input tokens | Output tokens | Cost\nGPT-4 (8k context) | 10k | 200 | $0.312\nGPT-4 (32k context) | 10k | 200 | $0.624",
      );
    });

    it("keeps a code block's lines and indentation", () => {
      expect(section("Cost and latency")).toContain(
        'def classify(text):\n    prompt = "Is this email spam? <email>" + text\n    return llm(prompt)',
      );
    });

    it("puts list items on lines of one paragraph, numbering ordered ones", () => {
      expect(doc.segments[0]!.text).toContain(
        "Table of contents\n\nPart I. Challenges of productionizing prompt engineering\nThe ambiguity of natural languages\nCost and latency\nPart II. Task composability",
      );
      expect(section("Part II. Task composability")).toContain("1. Process the natural-language input.\n2. Convert it to SQL and run the query.");
      expect(section("Part II. Task composability")).toContain("1. Programming languages have their own ambiguities"); // the footnote
    });

    it("chunks into passages that carry their sections", async () => {
      const chunks = await chunkDocument(doc, { docId: "blog", title: "Building LLM applications for production" }, { size: 300, overlap: 0 });
      expect(new Set(chunks.map((c) => c.section))).toEqual(new Set([null, "The ambiguity of natural languages", "Cost and latency", "Part II. Task composability"]));
      expect(chunks.every((c) => c.page === null && !c.text.includes("NOT-CONTENT"))).toBe(true);
    });
  });

  it("uses <main> when there is no <article>, else the body without its chrome", () => {
    const chrome = "<header><p>Site NOT-CONTENT</p></header><nav>Menu NOT-CONTENT</nav><div role=\"navigation\">Links NOT-CONTENT</div>";
    const withMain = loadHtml(`<body>${chrome}<div class="promo">Promo NOT-CONTENT</div><main><h2>Intro</h2><p>Main text.</p></main><footer>Foot NOT-CONTENT</footer></body>`);
    expect(withMain.segments).toEqual([{ text: "Intro\n\nMain text.", page: null, section: "Intro" }]);
    const bodyOnly = loadHtml(`<body>${chrome}<div><p>Body text.</p></div><aside>Side NOT-CONTENT</aside><footer>Foot NOT-CONTENT</footer></body>`);
    expect(bodyOnly.segments).toEqual([{ text: "Body text.", page: null, section: null }]);
  });

  it("picks the article with the most text when a page has several", () => {
    const doc = loadHtml("<main><article><p>Teaser NOT-CONTENT</p></article><article><h1>Post</h1><p>The whole post, which is much longer than the teaser.</p></article></main>");
    expect(allText(doc)).toBe("Post\n\nThe whole post, which is much longer than the teaser.");
  });

  it("reads an HTML fragment as plain text (used for HTML tables inside markdown)", () => {
    expect(htmlToText("a &amp; <b>b</b><p>c</p><table><tr><td>x</td><td>y &lt; z</td></tr></table><script>no()</script>")).toBe("a & b\n\nc\n\nx | y < z");
  });
});

describe("pdf", () => {
  const header = "Journal of Synthetic Tests - Running Header";
  const pages = [
    [header, "1 Introduction", "Alpha text on the first page, about the trans-", "former architecture and nothing else.", "1"],
    [header, "Beta text on the second page continues the introduction.", "2 Method", "Gamma text describes the method.", "2"],
    [header, "Delta text on the third page ends the method.", "3"],
  ];

  it("loads pages with page numbers and sections, removes the running header and re-joins hyphenation", async () => {
    const doc = await loadDocument(await makePdf(pages), "synthetic.pdf");
    expect(doc.pages).toBe(3);
    const where = (word: string) => doc.segments.find((s) => s.text.includes(word));
    expect(where("Alpha")).toMatchObject({ page: 1, section: "1 Introduction" });
    expect(where("Beta")).toMatchObject({ page: 2, section: "1 Introduction" });
    expect(where("Gamma")).toMatchObject({ page: 2, section: "2 Method" });
    expect(where("Delta")).toMatchObject({ page: 3, section: "2 Method" });
    const text = allText(doc);
    expect(text).not.toContain("Running Header");
    expect(text).toContain("about the transformer architecture");
    expect(text).not.toMatch(/^\d$/m);

    const chunks = await chunkDocument(doc, { docId: "syn", title: "Synthetic" }, { size: 200, overlap: 0 });
    expect(chunks.map((c) => [c.section, c.page, c.pageEnd])).toEqual([
      ["1 Introduction", 1, 2],
      ["2 Method", 2, 3],
    ]);
  });

  it("rejects an empty file", async () => {
    const err = await loadError(loadDocument(Buffer.alloc(0), "empty.pdf"));
    expect(err.file).toBe("empty.pdf");
    expect(err.reason).toBe("empty file");
  });

  it("rejects a truncated PDF", async () => {
    const full = await makePdf(pages);
    const err = await loadError(loadDocument(full.subarray(0, Math.floor(full.length / 2)), "truncated.pdf"));
    expect(err.file).toBe("truncated.pdf");
    expect(err.reason).toMatch(/^damaged PDF: .*truncated/);
  });

  it("rejects a text file named .pdf, saying what it starts with", async () => {
    const err = await loadError(loadDocument(Buffer.from("Hello, this is plain text.\n"), "notes.pdf"));
    expect(err.file).toBe("notes.pdf");
    expect(err.reason).toBe('not a PDF (starts with "Hello, this is p")');
    expect(err.message).toBe(`notes.pdf: ${err.reason}`);
  });

  it("rejects a PDF whose structure is broken with pdf.js's message", async () => {
    const err = await loadError(loadDocument(Buffer.from("%PDF-1.4\nnot really a pdf\n%%EOF\n"), "broken.pdf", "application/pdf"));
    expect(err.reason).toMatch(/^damaged PDF: .+/);
  });

  it("rejects a password-protected PDF", async () => {
    const pdf = await makePdf([["secret text"]], { userPassword: "pw", ownerPassword: "owner", pdfVersion: "1.7" });
    const err = await loadError(loadDocument(pdf, "locked.pdf"));
    expect(err.reason).toMatch(/^encrypted PDF/);
  });

  it("rejects a PDF without text", async () => {
    const err = await loadError(loadDocument(await makePdf([[], []]), "blank.pdf"));
    expect(err.reason).toMatch(/^no extractable text/);
  });
});

describe("loadDocument dispatch", () => {
  it("uses the media type, then the extension (.txt is markdown)", async () => {
    const md = await loadDocument(Buffer.from("# Title\n\nSome **text**."), "notes.txt");
    expect(md.segments[0]).toMatchObject({ section: "Title", text: "Title\n\nSome text." });
    const html = await loadDocument(Buffer.from("<h1>Head</h1><p>Body</p>"), "upload.bin", "text/html; charset=utf-8");
    expect(html.segments[0]).toMatchObject({ section: "Head", text: "Head\n\nBody" });
  });

  it("rejects unsupported types, binary text and documents with no text", async () => {
    expect((await loadError(loadDocument(Buffer.from("x"), "data.docx"))).reason).toMatch(/unsupported file type/);
    expect((await loadError(loadDocument(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]), "a.md"))).reason).toMatch(/binary/);
    expect((await loadError(loadDocument(Buffer.from("![](img.png)\n\n* * *\n"), "figs.md"))).reason).toBe("no extractable text");
    expect((await loadError(loadDocument(Buffer.alloc(0), "empty.md"))).reason).toBe("empty file");
  });
});

describe("real corpus mirror", () => {
  const expected: Record<string, number> = {
    "attention-is-all-you-need.pdf": 15,
    "gpt1-improving-language-understanding.pdf": 12,
    "gpt2-language-models-unsupervised-multitask.pdf": 24,
    "rlhf-deep-rl-from-human-preferences.pdf": 17,
    "instructgpt-training-to-follow-instructions.pdf": 68,
  };

  it("loads every PDF with the right page count and clean GPT-2 hyphenation", async () => {
    // No skip: a missing mirror is a failure of this test.
    expect(existsSync(corpusDir), `corpus mirror not found at ${corpusDir}`).toBe(true);
    const loaded: Record<string, LoadedDocument> = {};
    for (const [file, pageCount] of Object.entries(expected)) {
      const doc = await loadDocument(await readFile(path.join(corpusDir, file)), file, "application/pdf");
      expect(doc.pages, file).toBe(pageCount);
      const pagesWithText = new Set(doc.segments.map((s) => s.page));
      expect(pagesWithText.size, file).toBeGreaterThanOrEqual(pageCount - 2);
      expect(doc.segments.every((s) => s.page !== null && s.page >= 1 && s.page <= pageCount)).toBe(true);
      loaded[file] = doc;
    }

    const gpt2 = allText(loaded["gpt2-language-models-unsupervised-multitask.pdf"]!);
    expect(gpt2).not.toMatch(/\blan- ?guage\b|\bques- ?tion\b|\bcom- ?prehension\b/);
    expect(gpt2).toContain("state of the art results on 7 out of 8 tested language modeling datasets");
    expect(gpt2).not.toMatch(/[a-z]-\n[a-z]/);
    // "word- word" survives only where the paper itself has a dash after a word (two web-text samples).
    expect([...gpt2.matchAll(/\b[a-z]+- [a-z]+\b/g)].map((m) => m[0]).sort()).toEqual(["mint- had", "want- crushed"]);
    expect(gpt2).not.toContain("Language Models are Unsupervised Multitask Learners"); // running header, every page

    const rlhf = allText(loaded["rlhf-deep-rl-from-human-preferences.pdf"]!);
    expect(rlhf).not.toContain("arXiv:1706.03741v4");
    const attention = allText(loaded["attention-is-all-you-need.pdf"]!);
    expect(attention).not.toContain("Google hereby grants permission");
    expect(loaded["attention-is-all-you-need.pdf"]!.segments.find((s) => s.text.includes("Scaled Dot-Product Attention"))).toBeTruthy();
  });
});
