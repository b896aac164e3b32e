/**
 * The web page (public/) end to end: the real server over a two-document index built here, driven by
 * Debian's Chromium through playwright-core. Screenshots of each state go to /tmp/web-*.png.
 */
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { ingestWithConfig } from "../src/ingest/run.js";
import { startServer, type RunningServer } from "../src/server/index.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const TRANSFORMER_DOC = `# Training the Transformer

## Training data and batching

We trained on the standard WMT 2014 English-German dataset consisting of about 4.5 million sentence pairs.
Sentences were encoded using byte-pair encoding, which has a shared source-target vocabulary of about 37000 tokens.

## Optimizer

We used the Adam optimizer with β1 = 0.9, β2 = 0.98 and ε = 10^-9 to train the Transformer.
We varied the learning rate over the course of training, increasing it linearly for the first 4000 warmup steps,
and decreasing it thereafter proportionally to the inverse square root of the step number.

## Regularization

We apply residual dropout to the output of each sub-layer, with a rate of 0.1 for the base model.
During training, we employed label smoothing of value 0.1, which hurts perplexity but improves accuracy and BLEU score.
`;

const RLHF_DOC = `# Reward models for RLHF

## Collecting comparisons

Labelers compare two model outputs for the same prompt and pick the one they prefer.
These pairwise comparisons are the training data for the reward model.

## Training the reward model

The reward model is a language model with a scalar head that predicts which output a labeler prefers.
Its loss is the negative log-likelihood of the preferred output under a Bradley-Terry model of the two rewards.

## Policy optimization

The policy is fine-tuned with proximal policy optimization against the learned reward,
with a KL penalty that keeps it close to the supervised fine-tuned model.
`;

const SHOTS = "/tmp";
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };

let dir: string;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the web page tests need it. Install it with: apt-get update && apt-get install -y chromium`);
  }
  dir = await mkdtemp(path.join(os.tmpdir(), "qa-web-"));
  const corpusDir = path.join(dir, "corpus");
  await mkdir(corpusDir);
  await writeFile(path.join(corpusDir, "transformer-training.md"), TRANSFORMER_DOC);
  await writeFile(path.join(corpusDir, "rlhf-reward-models.md"), RLHF_DOC);
  const manifest = path.join(dir, "corpus-manifest.json");
  const entry = (id: string, title: string, file: string) => ({
    id,
    title,
    authors: ["Test Author"],
    year: 2024,
    kind: "blog",
    url: `https://example.org/${id}`,
    file,
    mediaType: "text/markdown",
    sha256: null,
  });
  await writeFile(
    manifest,
    JSON.stringify({
      documents: [
        entry("transformer-training", "Training the Transformer", "transformer-training.md"),
        entry("rlhf-reward-models", "Reward models for RLHF", "rlhf-reward-models.md"),
      ],
    }),
  );
  const config = loadConfig({
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    INDEX_DIR: path.join(dir, "index"),
    CORPUS_DIR: corpusDir,
    CORPUS_MANIFEST: manifest,
    LLM_PROVIDER: "extractive",
    RATE_LIMIT_PER_MINUTE: "0",
    WATCH_INDEX: "false",
    LOG_LEVEL: "silent",
  });
  const built = await ingestWithConfig(config);
  expect(built.documents).toBe(2);
  server = await startServer(config);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Session {
  page: Page;
  /** Console errors, uncaught page errors and CSP violations seen so far. */
  problems: string[];
  close(): Promise<void>;
}

async function open(opts: BrowserContextOptions = {}): Promise<Session> {
  const context = await browser.newContext({ viewport: DESKTOP, ...opts });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  // Runs before the page's own scripts (injected by the browser, so the CSP does not apply to it).
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"}`);
    });
  });
  await page.goto(server.url, { waitUntil: "load" });
  // The document list and prompt versions load after the page: wait for both.
  await page.waitForSelector('#doc-list input[type="checkbox"]', { state: "attached" });
  await page.waitForFunction(() => (document.getElementById("prompt-version") as HTMLSelectElement).options[0]?.value !== "");
  return { page, problems, close: () => context.close() };
}

/** Types the question, asks, and waits for the final state ("done", "not-covered" or "error"). */
async function ask(page: Page, question: string, submit: "click" | "enter" = "click"): Promise<string> {
  await page.fill("#question", question);
  if (submit === "click") await page.click("#ask");
  else await page.press("#question", "Enter");
  await page.waitForFunction(() => ["done", "not-covered", "error"].includes(document.getElementById("status")!.dataset.state ?? ""), undefined, {
    timeout: 30_000,
  });
  expect(await page.isDisabled("#ask")).toBe(false);
  return (await page.getAttribute("#status", "data-state")) ?? "";
}

describe("web page", () => {
  it("answers an on-topic question with citations and usage, without console errors (desktop)", async () => {
    const { page, problems, close } = await open();
    try {
      expect(await page.title()).toContain("LLMOps QA");
      expect(await page.locator("#doc-list input[type=checkbox]").count()).toBe(2);
      expect(await page.inputValue("#prompt-version")).toBe("qa-v1");

      expect(await ask(page, "Which optimizer was used to train the Transformer?")).toBe("done");

      const answer = await page.textContent("#answer");
      expect(answer).toContain("Adam");
      expect(await page.getAttribute("#answer", "class")).not.toContain("not-covered");
      expect(await page.isVisible("#error")).toBe(false);

      const cards = page.locator("#citations > .citation");
      expect(await cards.count()).toBeGreaterThanOrEqual(1);
      const first = cards.first();
      expect(await first.getAttribute("data-n")).toMatch(/^\d+$/);
      expect(await first.getAttribute("class")).toContain("cited");
      expect(await first.locator(".citation-title").textContent()).toBe("Training the Transformer");
      expect(await first.locator(".citation-page").textContent()).toMatch(/^(p\. \d+|no page)$/);
      expect(await first.locator(".citation-page").textContent()).toBe("no page"); // markdown has no pages
      const link = first.locator("a.citation-link");
      expect(await link.getAttribute("href")).toBe("https://example.org/transformer-training");
      expect(await link.getAttribute("target")).toBe("_blank");
      expect(await link.getAttribute("rel")).toContain("noopener");
      expect(((await first.locator(".citation-snippet").textContent()) ?? "").length).toBeLessThanOrEqual(310);

      const usage = (await page.textContent("#usage")) ?? "";
      expect(usage).toMatch(/Mode\s*extractive/);
      expect(usage).toMatch(/Prompt\s*qa-v1/);
      expect(usage).toMatch(/\d+ prompt \/ \d+ completion/);
      expect(usage).toContain("$0.000000");
      expect(usage).toMatch(/Total\s*[\d.,]+ ms/);

      // An [n] marker in the answer links to card n and highlights it.
      const ref = page.locator("#answer a.cite-ref").first();
      const n = await ref.getAttribute("data-n");
      await ref.click();
      await page.waitForSelector(`#citations > .citation.flash[data-n="${n}"]`);
      expect(await page.evaluate(() => document.activeElement?.getAttribute("data-n"))).toBe(n);

      await page.screenshot({ path: `${SHOTS}/web-desktop.png`, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("shows the loading state, then the not-covered state for an off-topic question (Enter submits)", async () => {
    const { page, problems, close } = await open();
    try {
      // Hold the request so the loading state can be seen: Ask disabled, status and skeleton shown.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await page.route("**/v1/ask", async (route) => {
        await gate;
        await route.continue();
      });
      await page.fill("#question", "What is the capital city of Australia?");
      await page.press("#question", "Enter");
      await page.waitForSelector("#ask:disabled");
      expect(await page.getAttribute("#answer", "aria-busy")).toBe("true");
      expect(await page.locator("#answer .skeleton").count()).toBe(1);
      expect(await page.textContent("#status")).not.toBe("");
      await page.press("#question", "Enter"); // ignored while a request runs
      await page.screenshot({ path: `${SHOTS}/web-loading.png` });
      release();

      await page.waitForFunction(() => document.getElementById("status")!.dataset.state === "not-covered", undefined, { timeout: 30_000 });
      expect(await page.isDisabled("#ask")).toBe(false);
      await page.unroute("**/v1/ask");
      expect(await page.getAttribute("#answer", "class")).toContain("not-covered");
      expect(await page.textContent("#answer")).toContain("Not covered by the documents");
      expect(await page.locator("#citations .citation.cited").count()).toBe(0);
      await page.screenshot({ path: `${SHOTS}/web-not-covered.png`, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("fits a 375 px phone screen and shows a citation card after asking", async () => {
    const { page, problems, close } = await open({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth);
      expect(await overflow()).toBeLessThanOrEqual(PHONE.width);
      for (const sel of ["#ask", "#prompt-version", "#doc-filter > summary"]) {
        const box = await page.locator(sel).boundingBox();
        expect(box?.height, `${sel} tap target`).toBeGreaterThanOrEqual(40);
      }

      expect(await ask(page, "Which optimizer was used to train the Transformer?")).toBe("done");
      expect(await overflow()).toBeLessThanOrEqual(PHONE.width);
      const card = page.locator("#citations > .citation").first();
      await card.scrollIntoViewIfNeeded();
      expect(await card.isVisible()).toBe(true);
      const box = await card.boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
      const linkBox = await card.locator("a.citation-link").boundingBox();
      expect(linkBox!.height).toBeGreaterThanOrEqual(40);

      // The open document filter must fit too.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.click("#doc-filter > summary");
      expect(await overflow()).toBeLessThanOrEqual(PHONE.width);
      await page.uncheck('#doc-list input[value="rlhf-reward-models"]');
      expect(await page.textContent("#doc-filter-summary")).toBe("Documents: 1 of 2");
      await page.screenshot({ path: `${SHOTS}/web-phone-filter.png` });
      await page.click("#doc-all");
      expect(await page.textContent("#doc-filter-summary")).toBe("Documents: all (2)");
      await page.click("#doc-filter > summary");

      await page.screenshot({ path: `${SHOTS}/web-phone.png`, fullPage: true });
      await card.screenshot({ path: `${SHOTS}/web-phone-card.png` });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SHOTS}/web-phone-top.png` });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("shows the error's message and code, and renders in dark mode", async () => {
    const { page, problems, close } = await open({ colorScheme: "dark" });
    try {
      // A prompt version the server does not know: 400 UNKNOWN_PROMPT_VERSION, before any stream opens.
      await page.evaluate(() => {
        const select = document.getElementById("prompt-version") as HTMLSelectElement;
        select.add(new Option("qa-missing", "qa-missing", true, true));
      });
      expect(await ask(page, "Which optimizer was used to train the Transformer?")).toBe("error");
      const error = (await page.textContent("#error")) ?? "";
      expect(error).toContain("UNKNOWN_PROMPT_VERSION");
      expect(error).toContain("qa-missing");
      await page.screenshot({ path: `${SHOTS}/web-error-dark.png`, fullPage: true });

      // Back to the default prompt: the error clears and the answer renders in dark mode.
      await page.selectOption("#prompt-version", "qa-v1");
      expect(await ask(page, "Which optimizer was used to train the Transformer?")).toBe("done");
      expect(await page.isVisible("#error")).toBe(false);
      await page.screenshot({ path: `${SHOTS}/web-dark.png`, fullPage: true });
      // The browser logs the refused ask's 400 itself; nothing else may go wrong.
      expect(problems).toEqual(["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]);
    } finally {
      await close();
    }
  });
});
