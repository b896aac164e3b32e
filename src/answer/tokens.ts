/** Token counting with the o200k_base tokenizer (GPT-4o family); a close estimate for other models. */
import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";

let encoder: Tiktoken | undefined;

export function countTokens(text: string): number {
  encoder ??= new Tiktoken(o200k);
  return encoder.encode(text).length;
}

/** The longest prefix of `text` (cut at a word boundary) that fits in `budget` tokens. */
export function truncateToTokens(text: string, budget: number): string {
  if (budget <= 0) return "";
  encoder ??= new Tiktoken(o200k);
  const ids = encoder.encode(text);
  if (ids.length <= budget) return text;
  const cut = encoder.decode(ids.slice(0, budget));
  const space = cut.lastIndexOf(" ");
  return `${space > cut.length / 2 ? cut.slice(0, space) : cut} …`;
}
