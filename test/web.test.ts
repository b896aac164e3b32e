/**
 * The web page (public/) end to end: the real server over a two-document index built here, driven by
 * Debian's Chromium through playwright-core. Two servers share the index: an extractive one, and one
 * whose LLM streams its answer a word at a time (slowly enough to watch, or to stop with Escape).
 * Screenshots of each state go to /tmp/web-*.png.
 */
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatModel, LlmReply } from "../src/answer/llm.js";
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

/** What the slow LLM answers: [1] is the top passage for the optimizer question, the Transformer's "Optimizer" section. */
const LLM_ANSWER =
  "The Transformer was trained with the Adam optimizer [1], with β1 = 0.9, β2 = 0.98 and ε = 10^-9. " +
  "The learning rate rose linearly for the first 4000 warmup steps and then decreased with the inverse square root of the step number [1].";

interface SlowLlm extends ChatModel {
  /** Pause before each word. */
  delayMs: number;
  calls: number;
  /** Calls whose request was aborted while the answer streamed. */
  aborted: number;
}

/** A ChatModel that streams LLM_ANSWER a word at a time, delayMs apart, and stops when its request is aborted. */
function slowLlm(): SlowLlm {
  const llm: SlowLlm = {
    model: "slow-test-model",
    delayMs: 40,
    calls: 0,
    aborted: 0,
    async complete(_system, _user, opts = {}): Promise<LlmReply> {
      llm.calls++;
      for (const word of LLM_ANSWER.match(/\S+\s*/g) ?? []) {
        await new Promise((r) => setTimeout(r, llm.delayMs));
        if (opts.signal?.aborted) {
          llm.aborted++;
          throw Object.assign(new Error("aborted"), { name: "AbortError" });
        }
        opts.onToken?.(word);
      }
      return { text: LLM_ANSWER, promptTokens: 120, completionTokens: 40 };
    },
  };
  return llm;
}

let dir: string;
let server: RunningServer;
let llmServer: RunningServer;
let llm: SlowLlm;
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
    // The server shares this process with the browser driver, whose work would count as event-loop delay.
    MAX_EVENT_LOOP_DELAY_MS: "0",
    WATCH_INDEX: "false",
    LOG_LEVEL: "silent",
  });
  const built = await ingestWithConfig(config);
  expect(built.documents).toBe(2);
  server = await startServer(config);
  llm = slowLlm();
  llmServer = await startServer(config, { llm });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await llmServer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Session {
  page: Page;
  /** Console errors, uncaught page errors and CSP violations seen so far. */
  problems: string[];
  close(): Promise<void>;
}

async function open(opts: BrowserContextOptions = {}, url = server.url): Promise<Session> {
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
  await page.goto(url, { waitUntil: "load" });
  // The document list and prompt versions load after the page: wait for both.
  await page.waitForSelector('#doc-list input[type="checkbox"]', { state: "attached" });
  await page.waitForFunction(() => (document.getElementById("prompt-version") as HTMLSelectElement).options[0]?.value !== "");
  return { page, problems, close: () => context.close() };
}

const FINAL = ["done", "not-covered", "error", "stopped"];
const LAST = ".turn:last-child";

/** Types the question, asks, and waits for its turn's final state; returns the status line's state. */
async function ask(page: Page, question: string, submit: "click" | "enter" = "click"): Promise<string> {
  const before = await page.locator(".turn").count();
  await page.fill("#question", question);
  if (submit === "click") await page.click("#ask");
  else await page.press("#question", "Enter");
  await waitForTurn(page, before + 1);
  expect(await page.isDisabled("#ask")).toBe(false);
  return (await page.getAttribute("#status", "data-state")) ?? "";
}

/** Waits until the conversation has n turns and the last one is finished (answered, not covered, failed or stopped). */
async function waitForTurn(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    ([n, final]) => {
      const turns = document.querySelectorAll<HTMLElement>(".turn");
      return turns.length === n && (final as string[]).includes(turns[n - 1]!.dataset.state ?? "");
    },
    [n, FINAL] as const,
    { timeout: 30_000 },
  );
}

/** The JSON bodies of the POST /v1/ask requests the page sends from now on. */
function askBodies(page: Page): any[] {
  const bodies: any[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/v1/ask") bodies.push(r.postDataJSON());
  });
  return bodies;
}

/** The same question asked of the server directly (JSON, no stream): what the page should show. */
async function askApi(base: string, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${base}/v1/ask`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Answer text without the [n] markers that name its citations (what the page sends as history). */
function withoutMarkers(text: string): string {
  return text
    .replace(/[ \t]*\[\d+(?:\s*[,;]\s*\d+)*\]/g, "")
    .replace(/[ \t]+([.,;:!?])/g, "$1")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}

const OPTIMIZER_Q = "Which optimizer was used to train the Transformer?";
/** Answered from the Transformer document over both documents, from the RLHF one (PPO) when scoped to it. */
const SCOPE_Q = "Which optimizer was used during training?";

describe("web page", () => {
  it("answers an on-topic question with citations and usage, without console errors (desktop)", async () => {
    const { page, problems, close } = await open();
    try {
      expect(await page.title()).toContain("LLMOps QA");
      expect(await page.locator("#doc-list input[type=checkbox]").count()).toBe(2);
      expect(await page.inputValue("#prompt-version")).toBe("qa-v1");
      expect(await page.isVisible("#conversation-panel")).toBe(false);

      expect(await ask(page, OPTIMIZER_Q)).toBe("done");

      const answer = await page.textContent(`${LAST} .answer`);
      expect(answer).toContain("Adam");
      expect(await page.getAttribute(`${LAST} .answer`, "class")).not.toContain("not-covered");
      expect(await page.isVisible("#error")).toBe(false);
      expect(await page.textContent(`${LAST} .question-text`)).toBe(OPTIMIZER_Q);

      const cards = page.locator(`${LAST} .citations > .citation`);
      expect(await cards.count()).toBeGreaterThanOrEqual(1);
      const first = cards.first();
      expect(await first.getAttribute("data-n")).toMatch(/^\d+$/);
      expect(await first.getAttribute("class")).toContain("cited");
      expect(await first.locator(".citation-title").textContent()).toBe("Training the Transformer");
      expect(await first.locator(".citation-page").textContent()).toBe("no page"); // markdown has no pages
      expect(await first.locator(".citation-section").textContent()).toBe("Optimizer");
      const link = first.locator("a.citation-link");
      expect(await link.getAttribute("href")).toBe("https://example.org/transformer-training");
      expect(await link.getAttribute("target")).toBe("_blank");
      expect(await link.getAttribute("rel")).toContain("noopener");
      expect(((await first.locator(".citation-snippet").textContent()) ?? "").length).toBeLessThanOrEqual(310);

      const usage = (await page.textContent(`${LAST} .usage`)) ?? "";
      expect(usage).toMatch(/Mode\s*extractive/);
      expect(usage).toMatch(/Prompt\s*qa-v1/);
      expect(usage).toMatch(/\d+ prompt \/ \d+ completion/);
      expect(usage).toContain("$0.000000");
      expect(usage).toMatch(/Retrieval\s*[\d.,]+ ms/);
      expect(usage).toMatch(/Total\s*[\d.,]+ ms/);

      // An [n] marker in the answer links to card n and highlights it.
      const ref = page.locator(`${LAST} .answer a.cite-ref`).first();
      const n = await ref.getAttribute("data-n");
      await ref.click();
      await page.waitForSelector(`${LAST} .citations > .citation.flash[data-n="${n}"]`);
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
      expect(await page.getAttribute(`${LAST} .answer`, "aria-busy")).toBe("true");
      expect(await page.locator(`${LAST} .answer .skeleton`).count()).toBe(1);
      expect(await page.textContent("#status")).not.toBe("");
      expect(await page.isVisible("#stop")).toBe(true);
      await page.press("#question", "Enter"); // ignored while a request runs
      await page.screenshot({ path: `${SHOTS}/web-loading.png` });
      release();

      await page.waitForFunction(() => document.getElementById("status")!.dataset.state === "not-covered", undefined, { timeout: 30_000 });
      expect(await page.isDisabled("#ask")).toBe(false);
      expect(await page.isVisible("#stop")).toBe(false);
      await page.unroute("**/v1/ask");
      expect(await page.locator(".turn").count()).toBe(1);
      expect(await page.getAttribute(`${LAST} .answer`, "class")).toContain("not-covered");
      expect(await page.textContent(`${LAST} .answer`)).toContain("Not covered by the documents");
      expect(await page.locator(`${LAST} .citation.cited`).count()).toBe(0);
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

      expect(await ask(page, OPTIMIZER_Q)).toBe("done");
      expect(await overflow()).toBeLessThanOrEqual(PHONE.width);
      for (const sel of ["#new-conversation", `${LAST} .copy-button`]) {
        const box = await page.locator(sel).boundingBox();
        expect(box?.height, `${sel} tap target`).toBeGreaterThanOrEqual(40);
      }
      const card = page.locator(`${LAST} .citations > .citation`).first();
      await card.scrollIntoViewIfNeeded();
      expect(await card.isVisible()).toBe(true);
      const box = await card.boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
      const linkBox = await card.locator("a.citation-link").boundingBox();
      expect(linkBox!.height).toBeGreaterThanOrEqual(40);

      // The open document filter must fit too.
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
      expect(await ask(page, OPTIMIZER_Q)).toBe("error");
      const error = (await page.textContent("#error")) ?? "";
      expect(error).toContain("UNKNOWN_PROMPT_VERSION");
      expect(error).toContain("qa-missing");
      expect(await page.getAttribute(LAST, "data-state")).toBe("error");
      expect(await page.textContent(`${LAST} .turn-note`)).toContain("UNKNOWN_PROMPT_VERSION");
      // The question is back in the box, to try again with one key press.
      expect(await page.inputValue("#question")).toBe(OPTIMIZER_Q);
      await page.screenshot({ path: `${SHOTS}/web-error-dark.png`, fullPage: true });

      // Back to the default prompt: the error clears and the answer renders in dark mode.
      await page.selectOption("#prompt-version", "qa-v1");
      expect(await ask(page, OPTIMIZER_Q)).toBe("done");
      expect(await page.isVisible("#error")).toBe(false);
      await page.screenshot({ path: `${SHOTS}/web-dark.png`, fullPage: true });
      // The browser logs the refused ask's 400 itself; nothing else may go wrong.
      expect(problems).toEqual(["console: Failed to load resource: the server responded with a status of 400 (Bad Request)"]);
    } finally {
      await close();
    }
  });
});

describe("web page as a chat", () => {
  it("renders a streamed answer token by token, then with its citations and usage", async () => {
    const { page, problems, close } = await open({}, llmServer.url);
    try {
      llm.delayMs = 60;
      const calls = llm.calls;
      await page.fill("#question", OPTIMIZER_Q);
      await page.click("#ask");
      // Part of the answer is on the page while the rest is still coming.
      await page.waitForFunction(() => {
        const a = document.querySelector<HTMLElement>(".turn:last-child .answer.streaming");
        return !!a && (a.textContent ?? "").trim().length > 0;
      });
      const partial = ((await page.textContent(`${LAST} .answer`)) ?? "").trim();
      expect(partial.length).toBeLessThan(LLM_ANSWER.length - 10);
      expect(LLM_ANSWER.startsWith(partial.split(" [")[0]!.split("[")[0]!.trim())).toBe(true);
      expect(await page.getAttribute(`${LAST} .answer`, "aria-live")).toBe("polite");
      expect(await page.getAttribute(`${LAST} .answer`, "aria-busy")).toBe("true");
      // The citations event comes before the tokens: the cards are already there.
      expect(await page.locator(`${LAST} .citations > .citation`).count()).toBeGreaterThanOrEqual(1);
      await page.screenshot({ path: `${SHOTS}/web-streaming.png` });

      await waitForTurn(page, 1);
      expect(await page.getAttribute("#status", "data-state")).toBe("done");
      expect(llm.calls).toBe(calls + 1);
      const answer = (await page.textContent(`${LAST} .answer`)) ?? "";
      expect(answer).toBe(LLM_ANSWER); // markers keep their [ ] as hidden text
      expect(await page.getAttribute(`${LAST} .answer`, "aria-busy")).toBeNull();
      expect(await page.locator(`${LAST} .answer a.cite-ref`).count()).toBe(2);
      const cited = page.locator(`${LAST} .citations > .citation.cited`);
      expect(await cited.count()).toBe(1);
      expect(await cited.getAttribute("data-n")).toBe("1");
      expect(await cited.locator(".citation-title").textContent()).toBe("Training the Transformer");
      expect(await cited.locator(".citation-section").textContent()).toBe("Optimizer");
      expect(await page.locator(`${LAST} .citations > .citation.uncited`).count()).toBeGreaterThanOrEqual(1);
      const usage = (await page.textContent(`${LAST} .usage`)) ?? "";
      expect(usage).toMatch(/Mode\s*llm/);
      expect(usage).toMatch(/Model\s*slow-test-model/);
      expect(usage).toContain("120 prompt / 40 completion");
      expect(usage).toMatch(/Generation\s*[\d.,]+ ms/);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("sends a follow-up with the history (at most 10 messages) and shows the standalone question", async () => {
    const { page, problems, close } = await open();
    try {
      const bodies = askBodies(page);
      expect(await ask(page, OPTIMIZER_Q)).toBe("done");
      expect(bodies[0]).toEqual({ question: OPTIMIZER_Q, stream: true, promptVersion: "qa-v1" });
      expect(await page.isHidden(`${LAST} .standalone`)).toBe(true);

      const followUp = "How many warmup steps did it use?";
      expect(await ask(page, followUp, "enter")).toBe("done");
      expect(await page.locator(".turn").count()).toBe(2);
      const first = await askApi(server.url, { question: OPTIMIZER_Q });
      const history = [
        { role: "user", content: OPTIMIZER_Q },
        { role: "assistant", content: withoutMarkers(first.answer) },
      ];
      expect(bodies[1]).toEqual({ question: followUp, stream: true, promptVersion: "qa-v1", history });
      expect(first.answer).toMatch(/\[\d+\]/); // the answer had markers; the history has none
      expect(bodies[1].history[1].content).not.toMatch(/\[\d+\]/);
      expect(bodies[1].history[1].content).toContain("Adam optimizer");

      // The question the server searched with, shown under the one typed.
      const second = await askApi(server.url, { question: followUp, history });
      expect(second.standaloneQuestion).not.toBe(followUp);
      expect(second.standaloneQuestion.toLowerCase()).toContain("transformer");
      expect(await page.isVisible(`${LAST} .standalone`)).toBe(true);
      expect(await page.textContent(`${LAST} .standalone`)).toBe(`searched as: ${second.standaloneQuestion}`);
      expect(await page.textContent(`${LAST} .question-text`)).toBe(followUp);
      expect(await page.textContent("#question-label")).toBe("Follow-up question");
      await page.screenshot({ path: `${SHOTS}/web-follow-up.png`, fullPage: true });

      // Six answered turns make 12 messages: the seventh question sends the last 10 (turns 2 to 6).
      const more = ["What dropout rate was used?", "How large was the vocabulary?", "What is the reward model loss?", "What is the KL penalty for?"];
      for (const q of more) expect(FINAL).toContain(await ask(page, q));
      expect(await page.locator(".turn").count()).toBe(6);
      await ask(page, "And label smoothing?");
      const seventh = bodies[6];
      expect(seventh.history).toHaveLength(10);
      expect(seventh.history[0]).toEqual({ role: "user", content: followUp });
      expect(seventh.history.map((m: any) => m.role)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? "assistant" : "user")));
      expect(seventh.history[8]).toEqual({ role: "user", content: more[3] });

      // New conversation: the turns go, and the next question is sent without history.
      await page.click("#new-conversation");
      expect(await page.locator(".turn").count()).toBe(0);
      expect(await page.isVisible("#conversation-panel")).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("question");
      expect(await ask(page, OPTIMIZER_Q)).toBe("done");
      expect(bodies[7]).toEqual({ question: OPTIMIZER_Q, stream: true, promptVersion: "qa-v1" });
      expect(await page.locator(".turn").count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("sends the document scope as docs, shows it, and cites only those documents", async () => {
    const { page, problems, close } = await open();
    try {
      const bodies = askBodies(page);
      const question = SCOPE_Q;
      expect(await page.textContent("#scope")).toBe("Scope: all documents (2)");

      // Unscoped, the question retrieves passages of both documents.
      expect(await ask(page, question)).toBe("done");
      expect(bodies[0].docs).toBeUndefined();
      const everywhere = await page.locator(`${LAST} .citations > .citation`).evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.docId));
      expect(new Set(everywhere)).toEqual(new Set(["transformer-training", "rlhf-reward-models"]));
      expect(await page.locator(`${LAST} .citation.cited`).first().getAttribute("data-doc-id")).toBe("transformer-training");
      expect(await page.locator(`${LAST} .turn-scope`).count()).toBe(0);

      await page.click("#doc-filter > summary");
      await page.uncheck('#doc-list input[value="transformer-training"]');
      expect(await page.textContent("#doc-filter-summary")).toBe("Documents: 1 of 2");
      expect(await page.textContent("#scope")).toBe("Scope: Reward models for RLHF");
      await page.click("#doc-filter > summary");

      expect(await ask(page, question)).toBe("done");
      expect(bodies[1].docs).toEqual(["rlhf-reward-models"]);
      expect(await page.textContent(`${LAST} .turn-scope`)).toBe("in Reward models for RLHF");
      const cards = page.locator(`${LAST} .citations > .citation`);
      expect(await cards.count()).toBeGreaterThanOrEqual(1);
      expect(await page.locator(`${LAST} .citations > .citation.cited`).count()).toBeGreaterThanOrEqual(1);
      const scoped = await cards.evaluateAll((cs) => cs.map((c) => (c as HTMLElement).dataset.docId));
      expect(new Set(scoped)).toEqual(new Set(["rlhf-reward-models"]));
      expect(await page.locator(`${LAST} .citation-title`).allTextContents()).not.toContain("Training the Transformer");
      await page.screenshot({ path: `${SHOTS}/web-scope.png`, fullPage: true });

      // No document at all: refused before asking.
      await page.click("#doc-filter > summary");
      await page.click("#doc-none");
      expect(await page.textContent("#scope")).toBe("Scope: no document selected");
      await page.fill("#question", question);
      await page.click("#ask");
      await page.waitForSelector("#error:not([hidden])");
      expect(await page.textContent("#error")).toContain("NO_DOCUMENTS");
      expect(bodies).toHaveLength(2);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("copies the answer with its numbered sources to the clipboard, and says so", async () => {
    const { page, problems, close } = await open({ permissions: ["clipboard-read", "clipboard-write"] });
    try {
      expect(await ask(page, OPTIMIZER_Q)).toBe("done");
      const result = await askApi(server.url, { question: OPTIMIZER_Q });
      const cited = result.citations.filter((c: any) => c.cited);
      expect(cited.length).toBeGreaterThanOrEqual(1);

      await page.click(`${LAST} .copy-button`);
      await page.waitForFunction(() => document.querySelector(".turn:last-child .copy-button")?.textContent === "Copied ✓");
      const status = (await page.textContent(`${LAST} .copy-status`)) ?? "";
      expect(status).toBe(`Copied the answer and ${cited.length} source${cited.length === 1 ? "" : "s"}.`);
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      const sources = cited.map((c: any) => `[${c.n}] ${c.title}, ${c.section} — ${c.url}`).join("\n");
      expect(clip).toBe(`${result.answer}\n\nSources:\n${sources}\n`);
      expect(clip).toContain("Adam");
      expect(clip).toMatch(/^\[\d+\] Training the Transformer, Optimizer — https:\/\/example\.org\/transformer-training$/m);

      // A PDF passage's page goes in too (the fixture documents are markdown, without pages). The import
      // is in a string: vite rewrites import() calls in this file's own functions, page.evaluate's included.
      const turn = {
        answer: "",
        citations: [],
        result: {
          answer: "Adam [2].",
          grounded: true,
          citations: [
            { n: 1, title: "Other", page: 1, section: null, url: "https://example.org/o.pdf#page=1", cited: false },
            { n: 2, title: "Attention Is All You Need", page: 7, section: "5.3 Optimizer", url: "https://arxiv.org/pdf/1706.03762#page=7", cited: true },
          ],
        },
      };
      const pdf = await page.evaluate<string>(`import("/js/copy.js").then((m) => m.answerText(${JSON.stringify(turn)}).text)`);
      expect(pdf).toBe("Adam [2].\n\nSources:\n[2] Attention Is All You Need, p. 7, 5.3 Optimizer — https://arxiv.org/pdf/1706.03762#page=7\n");
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("keyboard: Enter asks, Shift+Enter adds a line, Escape stops a stream, focus returns, every button takes visible focus", async () => {
    const { page, problems, close } = await open({}, llmServer.url);
    try {
      const bodies = askBodies(page);
      llm.delayMs = 250; // about 10 s for the whole answer: plenty of time to stop it
      const aborted = llm.aborted;
      await page.focus("#question");
      await page.keyboard.type("Which optimizer");
      await page.keyboard.press("Shift+Enter");
      await page.keyboard.type("was used to train the Transformer?");
      expect(await page.inputValue("#question")).toBe("Which optimizer\nwas used to train the Transformer?");
      expect(bodies).toHaveLength(0);
      expect(await page.locator(".turn").count()).toBe(0);

      await page.keyboard.press("Enter");
      await page.waitForFunction(() => (document.querySelector(".turn:last-child .answer.streaming")?.textContent ?? "").trim().length > 0);
      expect(bodies).toHaveLength(1);
      expect(bodies[0].question).toBe("Which optimizer\nwas used to train the Transformer?");
      expect(await page.inputValue("#question")).toBe("");
      expect(await page.isVisible("#stop")).toBe(true);

      await page.keyboard.press("Escape");
      await waitForTurn(page, 1);
      expect(await page.getAttribute(LAST, "data-state")).toBe("stopped");
      expect(await page.getAttribute("#status", "data-state")).toBe("stopped");
      const partial = ((await page.textContent(`${LAST} .answer p:first-child`)) ?? "").trim();
      expect(partial.length).toBeGreaterThan(0);
      expect(partial.length).toBeLessThan(LLM_ANSWER.length);
      expect(await page.textContent(`${LAST} .turn-note`)).toBe("Stopped: the answer above is incomplete.");
      expect(await page.isDisabled("#ask")).toBe(false);
      expect(await page.isVisible("#stop")).toBe(false);
      expect(await page.isVisible(`${LAST} .copy-button`)).toBe(false);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("question");
      // The server saw the request go: the model stopped mid-answer.
      await expect.poll(() => llm.aborted, { timeout: 5_000 }).toBe(aborted + 1);

      // A stopped answer is not history; this one runs to the end, and focus comes back to the box.
      llm.delayMs = 5;
      await page.keyboard.type(OPTIMIZER_Q);
      await page.click("#ask");
      await waitForTurn(page, 2);
      expect(await page.getAttribute(LAST, "data-state")).toBe("done");
      expect(bodies[1].history).toBeUndefined();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("question");

      // Tab reaches every control, each with a visible focus ring.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const seen = new Map<string, { ring: boolean }>();
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press("Tab");
        const f = await page.evaluate(() => {
          const a = document.activeElement as HTMLElement | null;
          if (!a || a === document.body) return null;
          const name = a.id ? `#${a.id}` : a.classList.contains("copy-button") ? "copy" : a.tagName === "SUMMARY" ? `summary:${a.parentElement?.className}` : a.tagName.toLowerCase();
          const style = getComputedStyle(a);
          return { name, ring: a.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 };
        });
        if (f && !seen.has(f.name)) seen.set(f.name, { ring: f.ring });
      }
      for (const name of ["#new-conversation", "copy", "summary:sources", "#doc-filter-summary", "#prompt-version", "#ask", "#question"]) {
        expect(seen.get(name), `${name} reached by Tab`).toBeDefined();
        expect(seen.get(name)!.ring, `${name} focus ring`).toBe(true);
      }
      await page.screenshot({ path: `${SHOTS}/web-keyboard.png`, fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("serves the vendored SSE parser as JavaScript, with a CSP that has no unsafe-inline", async () => {
    const vendor = await fetch(`${server.url}/vendor/eventsource-parser/index.js`);
    expect(vendor.status).toBe(200);
    expect(vendor.headers.get("content-type")).toMatch(/^(text|application)\/javascript\b/);
    expect(vendor.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await vendor.text()).toMatch(/export\s*\{[^}]*createParser/);
    expect((await fetch(`${server.url}/vendor/eventsource-parser/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/app.js`)).status).toBe(404); // the old single script is gone

    const home = await fetch(server.url);
    const csp = home.headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      }),
    );
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const html = await home.text();
    expect(html).toContain('<script type="module" src="js/main.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline handlers

    // In the browser: the modules and the vendored parser load as JavaScript, without CSP violations.
    const { page, problems, close } = await open();
    try {
      const scripts = new Map<string, string>();
      page.on("response", (r) => {
        const { pathname } = new URL(r.url());
        if (pathname.endsWith(".js")) scripts.set(pathname, `${r.status()} ${r.headers()["content-type"]}`);
      });
      await page.reload({ waitUntil: "load" });
      await page.waitForSelector('#doc-list input[type="checkbox"]', { state: "attached" });
      expect(scripts.get("/vendor/eventsource-parser/index.js")).toMatch(/^200 text\/javascript/);
      for (const m of ["main", "api", "sse", "state", "render", "scope", "citations", "copy", "dom"]) expect(scripts.get(`/js/${m}.js`), m).toMatch(/^200 text\/javascript/);
      expect(await ask(page, OPTIMIZER_Q)).toBe("done"); // the stream went through eventsource-parser
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
