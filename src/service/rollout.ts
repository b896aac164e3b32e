/**
 * Prompt rollouts (PROMPT_ROLLOUT=qa-v2:10): a share of clients is answered with another prompt
 * version. The choice is sticky: a client id or conversation id is hashed into one of 10,000 buckets,
 * the rollouts take consecutive ranges of them, and the rest get the default. A request that names a
 * prompt version gets that one.
 */
import { createHash } from "node:crypto";

export interface Rollout {
  version: string;
  /** 0 < percent <= 100; the rollouts' shares add up to 100 at most. */
  percent: number;
}

export type PromptAssignment = "requested" | "rollout" | "default";

/** A stable bucket in [0, 100) for a key (its sha256's first 32 bits). */
export function bucketOf(key: string): number {
  return (createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32) * 100;
}

export function assignPrompt(
  rollout: readonly Rollout[],
  defaultVersion: string,
  req: { promptVersion?: string; clientId?: string },
): { version: string; assignment: PromptAssignment } {
  if (req.promptVersion) return { version: req.promptVersion, assignment: "requested" };
  if (!rollout.length || !req.clientId) return { version: defaultVersion, assignment: "default" };
  const b = bucketOf(req.clientId);
  let from = 0;
  for (const r of rollout) {
    if (b >= from && b < from + r.percent) return { version: r.version, assignment: "rollout" };
    from += r.percent;
  }
  return { version: defaultVersion, assignment: "default" };
}
