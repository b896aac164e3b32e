/** The corpus manifest (corpus/manifest.json): which documents make up the corpus and how to get them. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { z } from "zod";

// A document is stored as corpusDir/<file>, so the name must not reach outside that directory,
// clash with our dot-prefixed temp files, or overwrite the manifest itself.
const fileName = z
  .string()
  .min(1)
  .refine((f) => !/[/\\]/.test(f) && !f.startsWith(".") && f !== "manifest.json", {
    message: "must be a plain file name (no directories, not starting with '.', not manifest.json)",
  });

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
  title: z.string().min(1),
  authors: z.array(z.string().min(1)),
  year: z.number().int().min(1900).max(2100),
  kind: z.enum(["paper", "blog"]),
  url: z.url({ protocol: /^https?$/ }),
  file: fileName,
  mediaType: z.enum(["application/pdf", "text/markdown", "text/html"]),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
    .transform((s) => s.toLowerCase())
    .nullable(),
  /** Names people use for the document that its title lacks (e.g. "GPT-3"); indexed with every chunk. */
  aliases: z.array(z.string().min(1)).optional(),
  note: z.string().optional(),
});

const manifestSchema = z
  .object({ documents: z.array(entrySchema).min(1) })
  .superRefine(({ documents }, ctx) => {
    for (const key of ["id", "file"] as const) {
      const seen = new Set<string>();
      documents.forEach((d, i) => {
        if (seen.has(d[key])) ctx.addIssue({ code: "custom", path: ["documents", i, key], message: `duplicate ${key} "${d[key]}"` });
        seen.add(d[key]);
      });
    }
  });

export type CorpusEntry = z.infer<typeof entrySchema>;

export class ManifestError extends Error {
  constructor(
    public readonly file: string,
    reason: string,
  ) {
    super(`Invalid corpus manifest ${file}: ${reason}`);
    this.name = "ManifestError";
  }
}

/** Reads and validates a manifest; throws ManifestError naming the file and each problem. */
export async function loadCorpusManifest(file: string): Promise<CorpusEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ManifestError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ManifestError(file, `\n  ${issues.join("\n  ")}`);
  }
  return parsed.data.documents;
}

/** SHA-256 of a file as lower-case hex, read as a stream so large PDFs are not held in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}
