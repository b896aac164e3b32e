/**
 * Evaluation question sets: JSONL, one question a line (see ../shared/eval/README.md).
 *
 *   id        item id
 *   question  what a user asks
 *   doc       document id the answer comes from; null when the corpus cannot answer it
 *   answers   short expected answers (any of them, contained in the answer, counts as right)
 *   support   6-25 words of the document stating the answer; null when unanswerable
 *   page      1-based PDF page of the support; null for documents without pages
 *   kind      fact | number | concept | paraphrase | unanswerable
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { AppError, issue, issueList, prettifyIssues, type Issue } from "../errors.js";

export const KINDS = ["fact", "number", "concept", "paraphrase", "unanswerable"] as const;
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
    if (unanswerable) {
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

/** EVAL_SET_INVALID: each bad line's issues, prettified under "line N:", and all of them in details. */
function invalidSet(file: string, lines: Array<{ line?: number; issues: readonly z.core.$ZodIssue[] }>, cause?: unknown): AppError<"EVAL_SET_INVALID"> {
  const indent = (text: string, by: string) => text.replace(/^/gm, by);
  const text = lines.map(({ line, issues }) =>
    line === undefined ? indent(prettifyIssues(issues), "  ") : `  line ${line}:\n${indent(prettifyIssues(issues), "    ")}`,
  );
  const issues: Array<Issue & { line?: number }> = lines.flatMap(({ line, issues }) => issueList(issues).map((i) => (line === undefined ? i : { line, ...i })));
  return new AppError("EVAL_SET_INVALID", `Invalid question set ${file}:\n${text.join("\n")}`, { cause, details: { file, issues } });
}

/** Parses JSONL text; every bad line is reported (line number, field, reason), not only the first. */
export function parseEvalSet(text: string, file = "(inline)"): EvalItem[] {
  const items: EvalItem[] = [];
  const bad: Array<{ line: number; issues: z.core.$ZodIssue[] }> = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === "" || line.startsWith("//")) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      bad.push({ line: lineNo, issues: [issue("", `not valid JSON (${(err as Error).message})`)] });
      return;
    }
    const parsed = evalItemSchema.safeParse(json);
    if (!parsed.success) {
      bad.push({ line: lineNo, issues: parsed.error.issues });
      return;
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      bad.push({ line: lineNo, issues: [issue("id", `duplicate id "${parsed.data.id}" (first on line ${first})`)] });
      return;
    }
    seen.set(parsed.data.id, lineNo);
    items.push(parsed.data);
  });
  if (bad.length) throw invalidSet(file, bad);
  if (items.length === 0) throw invalidSet(file, [{ issues: [issue("", "no questions in the file")] }]);
  return items;
}

/** Reads and validates a question set; throws EVAL_SET_INVALID with a clear reason (including a missing file). */
export async function loadEvalSet(file: string): Promise<EvalItem[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidSet(file, [{ issues: [issue("", code === "ENOENT" ? "file not found" : `cannot read it (${code ?? (err as Error).message})`)] }], err);
  }
  return parseEvalSet(text, file);
}
