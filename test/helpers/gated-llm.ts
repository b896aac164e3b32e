/**
 * A ChatModel whose answers wait until the test opens the gate: a deliberately slow service, so
 * requests stay in flight exactly as long as a test needs them to.
 */
import type { ChatModel, LlmReply } from "../../src/answer/llm.js";

export interface GatedLlm extends ChatModel {
  /** Calls made so far (including the ones still waiting). */
  readonly calls: number;
  /** Calls waiting at the gate. */
  readonly waiting: number;
  /** Resolves once `n` calls have reached the model. */
  reached(n: number, timeoutMs?: number): Promise<void>;
  /** Lets every waiting call, and every later one, answer. */
  open(): void;
}

export function gatedLlm(text = "The Transformer was trained with the Adam optimizer [1]."): GatedLlm {
  let calls = 0;
  let waiting = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    model: "gated-test-model",
    get calls() {
      return calls;
    },
    get waiting() {
      return waiting;
    },
    async complete(_system, _user, opts = {}): Promise<LlmReply> {
      calls++;
      waiting++;
      await gate;
      waiting--;
      opts.onToken?.(text);
      return { text, promptTokens: 10, completionTokens: 5 };
    },
    async reached(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (calls < n) {
        if (Date.now() > until) throw new Error(`only ${calls} of ${n} calls reached the model in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    open: () => open(),
  };
}
