import type { Config } from "../config/index.js";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Estimated cost in USD from the price table (USD per 1M tokens); unknown and local models cost 0. */
export function costOf(prices: Config["prices"], model: string, promptTokens: number, completionTokens: number): Usage {
  const price = prices[model];
  const costUsd = price ? (promptTokens * price.input + completionTokens * price.output) / 1_000_000 : 0;
  return { promptTokens, completionTokens, costUsd: Math.round(costUsd * 1e8) / 1e8 };
}

export const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, costUsd: 0 };
