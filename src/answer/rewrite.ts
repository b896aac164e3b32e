/** Follow-up questions become standalone questions for retrieval. */
import { words, isStopWord } from "../text/analyze.js";
import { callModel, type ChatModel } from "./llm.js";
import type { PromptLibrary } from "./prompts.js";
import { fill } from "./prompts.js";

export interface Turn {
  role: "user" | "assistant";
  content: string;
}

const DEPENDENT = /\b(it|its|they|them|their|this|that|these|those|he|she|his|her|the same|the former|the latter)\b|^(and|also|what about|how about|why|so)\b/i;

/** Rule used without an LLM: a question that leans on the conversation borrows the previous question's topic words. */
export function rewriteByRule(question: string, history: Turn[]): string {
  const previous = [...history].reverse().find((t) => t.role === "user");
  if (!previous) return question;
  const own = words(question).filter((w) => !isStopWord(w));
  if (!DEPENDENT.test(question.trim()) && own.length >= 3) return question;
  const have = new Set(own);
  const borrowed = words(previous.content).filter((w) => !isStopWord(w) && !have.has(w) && w.length > 2);
  return borrowed.length ? `${question} (${[...new Set(borrowed)].join(" ")})` : question;
}

export async function rewriteWithModel(
  question: string,
  history: Turn[],
  model: ChatModel,
  prompts: PromptLibrary,
  generation?: string,
): Promise<{ text: string; promptTokens: number; completionTokens: number }> {
  const t = await prompts.get("rewrite-v1");
  const transcript = history.slice(-6).map((h) => `${h.role}: ${h.content}`).join("\n");
  const reply = await callModel(model, t.system, fill(t.user, { history: transcript, question }), {}, { purpose: "rewrite", promptVersion: t.version, generation });
  const text = reply.text.split("\n")[0]!.trim();
  return { ...reply, text: text.length > 3 ? text : question };
}
