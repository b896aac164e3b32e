/**
 * Evaluation question sets: JSONL, one question a line (see ../shared/eval/README.md).
 *
 *   id        item id
 *   question  what a user asks
 *   doc       document id the answer comes from; null when the corpus cannot answer it
 *   answers   short expected answers (any of them, contained in the answer, counts as right)
 *   support   6-25 words of the document stating the answer; null when unanswerable
 *   page      1-based PDF page of the support; null for documents without pages
 *   kind      fact | number | concept | paraphrase | unanswerable | feedback
 *
 * `feedback` items come from rated answers (eval/feedback.ts, `--set feedback`): no support passage
 * (retrieval is not judged), the expected answer when the rater gave one, and for an approved answer
 * with none, the document it cited (the answer must still be given, citing that document).
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";

export const KINDS = ["fact", "number", "concept", "paraphrase", "unanswerable", "feedback"] as const;
export type ItemKind = (typeof KINDS)[number];

export const evalItemSchema = z
  .strictObject({
    id: z.string().trim().min(1),
    question: z.string().trim().min(1),
    doc: z.string().min(1).nullable(),
    answers: z.array(z.string().trim().min(1)),
    support: z.string().trim().min(1).nullable(),
    page: z.number().int().min(1).nullable(),
    kind: z.enum(KINDS),
  })
  .superRefine((item, ctx) => {
    const unanswerable = item.kind === "unanswerable";
    if (item.kind === "feedback") {
      if (item.support !== null) ctx.addIssue({ code: "custom", path: ["support"], message: "must be null for a feedback item" });
      if (item.answers.length === 0 && item.doc === null) ctx.addIssue({ code: "custom", path: ["answers"], message: "a feedback item needs an expected answer or a document" });
    } else if (unanswerable) {
      if (item.doc !== null) ctx.addIssue({ code: "custom", path: ["doc"], message: "must be null for an unanswerable item" });
      if (item.support !== null) ctx.addIssue({ code: "custom", path: ["support"], message: "must be null for an unanswerable item" });
      if (item.answers.length > 0) ctx.addIssue({ code: "custom", path: ["answers"], message: "must be empty for an unanswerable item" });
    } else {
      if (item.doc === null) ctx.addIssue({ code: "custom", path: ["doc"], message: "required unless kind is unanswerable" });
      if (item.support === null) ctx.addIssue({ code: "custom", path: ["support"], message: "required unless kind is unanswerable" });
      if (item.answers.length === 0) ctx.addIssue({ code: "custom", path: ["answers"], message: "at least one expected answer unless kind is unanswerable" });
    }
  });

export type EvalItem = z.infer<typeof evalItemSchema>;

export const isAnswerable = (item: Pick<EvalItem, "kind">): boolean => item.kind !== "unanswerable";

export class EvalSetError extends Error {
  constructor(
    public readonly file: string,
    public readonly issues: string[],
  ) {
    super(`Invalid question set ${file}:\n  ${issues.join("\n  ")}`);
    this.name = "EvalSetError";
  }
}

/** Parses JSONL text; every bad line is reported (line number, field, reason), not only the first. */
export function parseEvalSet(text: string, file = "(inline)"): EvalItem[] {
  const items: EvalItem[] = [];
  const issues: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === "" || line.startsWith("//")) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      issues.push(`line ${lineNo}: not valid JSON (${(err as Error).message})`);
      return;
    }
    const parsed = evalItemSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push(`line ${lineNo}: ${issue.path.join(".") || "(item)"}: ${issue.message}`);
      return;
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      issues.push(`line ${lineNo}: duplicate id "${parsed.data.id}" (first on line ${first})`);
      return;
    }
    seen.set(parsed.data.id, lineNo);
    items.push(parsed.data);
  });
  if (issues.length) throw new EvalSetError(file, issues);
  if (items.length === 0) throw new EvalSetError(file, ["no questions in the file"]);
  return items;
}

/** Reads and validates a question set; throws EvalSetError with a clear reason (including a missing file). */
export async function loadEvalSet(file: string): Promise<EvalItem[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EvalSetError(file, [code === "ENOENT" ? "file not found" : `cannot read it (${code ?? (err as Error).message})`]);
  }
  return parseEvalSet(text, file);
}
