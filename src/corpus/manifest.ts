/**
 * The corpus manifest (corpus/manifest.json): which documents make up the corpus and how to get them.
 *
 * A document comes in up to two editions, each a different file stored under its own name:
 *   - `mirror`:   the file a local mirror folder holds (e.g. a markdown conversion or a web clip);
 *   - `original`: the file its original URL serves (e.g. the arXiv PDF, the blog's HTML page).
 * Where both are the same bytes (an untouched arXiv PDF in the mirror) they name the same file and
 * the same checksum. An edition's `sha256` is pinned when it is really known and null otherwise;
 * a null checksum is recorded on first fetch (see lock.ts).
 *
 * The older one-file form (`file`, `mediaType`, `sha256` on the document) is still read, as one
 * edition that is both the mirror's and the URL's.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { AppError, invalidInput } from "../errors.js";

/** Files of the corpus folder that are not documents: a document file must never overwrite them. */
export const RESERVED_FILES = ["manifest.json", "uploads.json", "editions.lock.json"] as const;

// A document is stored as corpusDir/<file>, so the name must not reach outside that directory,
// clash with our dot-prefixed temp files, or overwrite the folder's own bookkeeping files.
const fileName = z
  .string()
  .min(1)
  .refine((f) => !/[/\\]/.test(f) && !f.startsWith(".") && !(RESERVED_FILES as readonly string[]).includes(f), {
    message: `must be a plain file name (no directories, not starting with '.', not ${RESERVED_FILES.join(", ")})`,
  });

export const MEDIA_TYPES = ["application/pdf", "text/markdown", "text/html"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
  .transform((s) => s.toLowerCase());

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const editionFields = {
  /** Where the edition is stored in the corpus folder (and, for the mirror edition, in the mirror). */
  file: fileName,
  mediaType: z.enum(MEDIA_TYPES),
  /** Pinned SHA-256, or null when none is known (then recorded on first fetch). */
  sha256: sha256.nullable(),
  note: z.string().optional(),
};

const mirrorEdition = z.strictObject(editionFields);
/** `url` is the file itself (the PDF, the HTML page), not a landing page that links to it. */
const originalEdition = z.strictObject({ url: httpUrl, ...editionFields });

export const EDITION_NAMES = ["mirror", "original"] as const;
export type EditionName = (typeof EDITION_NAMES)[number];

const editions = z
  .strictObject({ mirror: mirrorEdition.optional(), original: originalEdition.optional() })
  .refine((e) => e.mirror || e.original, { message: "must list a mirror edition, an original edition or both" })
  .refine((e) => !e.mirror || !e.original || e.mirror.file !== e.original.file || e.mirror.sha256 === e.original.sha256, {
    message: "the mirror and original editions name the same file, so they must have the same sha256 (or use different file names)",
  });

/**
 * A document id, wherever one is written or asked for: the manifest, an upload, the API's `docs` filters.
 * It names files (`upload-<id>.pdf`) and appears in URLs, hence the short, safe alphabet.
 */
export const DOCUMENT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const DOCUMENT_ID_RULE = "must be 1 to 64 lower-case letters, digits and dashes, not starting with a dash";
export const documentId = z.string().regex(DOCUMENT_ID, DOCUMENT_ID_RULE);

const documentSchema = z.strictObject({
  id: documentId,
  title: z.string().min(1),
  authors: z.array(z.string().min(1)),
  year: z.number().int().min(1900).max(2100),
  kind: z.enum(["paper", "blog"]),
  /** The canonical page people cite (shown in citations); not necessarily a file to download. */
  url: httpUrl,
  /** Names people use for the document that its title lacks (e.g. "GPT-3"); indexed with every chunk. */
  aliases: z.array(z.string().min(1)).optional(),
  note: z.string().optional(),
  editions,
});

/** The one-file form: {file, mediaType, sha256} on the document -> one edition, from the mirror or the URL. */
function upgradeLegacy(input: unknown): unknown {
  if (typeof input !== "object" || input === null || "editions" in input || !("file" in input)) return input;
  const { file, mediaType, sha256, ...rest } = input as Record<string, unknown>;
  const edition = { file, mediaType, sha256 };
  return { ...rest, editions: { mirror: edition, original: { url: (input as { url?: unknown }).url, ...edition } } };
}

const manifestSchema = z
  .strictObject({ documents: z.array(z.preprocess(upgradeLegacy, documentSchema)).min(1) })
  .superRefine(({ documents }, ctx) => {
    const ids = new Map<string, number>();
    const files = new Map<string, string>(); // file -> id of the document that owns it
    documents.forEach((d, i) => {
      if (ids.has(d.id)) ctx.addIssue({ code: "custom", path: ["documents", i, "id"], message: `duplicate id "${d.id}"` });
      ids.set(d.id, i);
      for (const name of EDITION_NAMES) {
        const file = d.editions[name]?.file;
        if (file === undefined) continue;
        const owner = files.get(file);
        if (owner !== undefined && owner !== d.id)
          ctx.addIssue({ code: "custom", path: ["documents", i, "editions", name, "file"], message: `duplicate file "${file}" (also used by "${owner}")` });
        files.set(file, d.id);
      }
    });
  });

export type CorpusDocument = z.infer<typeof documentSchema>;
export type Edition = z.infer<typeof mirrorEdition> & { url?: string };

/**
 * A document as ingest sees it: one file in the corpus folder, with its media type and checksum.
 * For a manifest document that is its present edition (see catalog.ts); for an upload, its one file.
 */
export interface CorpusEntry {
  id: string;
  title: string;
  authors: string[];
  year: number;
  kind: "paper" | "blog";
  /** The canonical page people cite (an upload's is its URL or "upload:<file>"). */
  url: string;
  file: string;
  mediaType: MediaType;
  /** Pinned, or recorded on first fetch; null when neither is known. */
  sha256: string | null;
  aliases?: string[];
  note?: string;
  /** Which edition `file` is (manifest documents only). */
  edition?: EditionName;
}

/** MANIFEST_INVALID for a manifest that cannot be read or parsed. */
const manifestError = (file: string, reason: string, cause: unknown) =>
  new AppError("MANIFEST_INVALID", `Invalid corpus manifest ${file}: ${reason}`, { cause, details: { file } });

/** Reads and validates a manifest; throws MANIFEST_INVALID naming the file and each problem. */
export async function loadCorpusManifest(file: string): Promise<CorpusDocument[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw manifestError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw manifestError(file, `not valid JSON: ${(err as Error).message}`, err);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw invalidInput("MANIFEST_INVALID", `Invalid corpus manifest ${file}`, parsed.error, { file });
  return parsed.data.documents;
}

/** The document's editions as [name, edition] pairs, in the given order of preference, each file once. */
export function editionsOf(doc: CorpusDocument, order: readonly EditionName[] = EDITION_NAMES): Array<[EditionName, Edition]> {
  const out: Array<[EditionName, Edition]> = [];
  for (const name of order) {
    const e = doc.editions[name];
    if (e && !out.some(([, seen]) => seen.file === e.file)) out.push([name, e]);
  }
  return out;
}

/** SHA-256 of a file as lower-case hex, read as a stream so large PDFs are not held in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}
