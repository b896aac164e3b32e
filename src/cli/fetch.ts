/**
 * npm run corpus:fetch [-- --from DIR] [--corpus DIR] [--manifest FILE] [--strict]
 * With a mirror, each document's mirror edition is copied from it; without, its original edition is
 * downloaded (checksum pinned in the manifest, or recorded on first fetch and reported).
 * Exit codes: 0 every document that could be had is present, 1 usage/config/manifest/lock error,
 * 2 some missing (--strict only), 3 checksum mismatch, pinned or recorded (wins over 2).
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../config/index.js";
import { EXIT_CHECKSUM, EXIT_MISSING, EXIT_OK, EXIT_USAGE, exitCodeFor, fetchCorpus, type FetchReport, type FetchResult } from "../corpus/fetch.js";
import { loadCorpusManifest } from "../corpus/manifest.js";
import { isAppError, type ErrorCode } from "../errors.js";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

const USAGE = `Usage: npm run corpus:fetch [-- --from DIR] [--corpus DIR] [--manifest FILE] [--strict]
  --from DIR       local mirror to copy the mirror editions from (default: CORPUS_MIRROR);
                   without one, the original editions are downloaded from their URLs
  --corpus DIR     where documents are stored (default: CORPUS_DIR, ./corpus)
  --manifest FILE  corpus manifest (default: corpus/manifest.json in the project)
  --strict         exit 2 when a document cannot be had (default: report it and exit 0)`;

/** The error codes that exit 1 (with file-system errors): the message says what and where. */
const EXIT_USAGE_CODES = ["CONFIG_INVALID", "MANIFEST_INVALID", "CORPUS_LOCK_INVALID"] as const satisfies readonly ErrorCode[];

const EXPLANATION: Record<number, string> = {
  [EXIT_OK]: "exit 0: every document that could be had is present and verified.",
  [EXIT_MISSING]:
    "exit 2: some documents are missing (the rest are in place); put them in a mirror (--from DIR) or run again with network access.",
  [EXIT_CHECKSUM]:
    "exit 3: a document's SHA-256 does not match the manifest's pinned checksum or the one recorded on its first fetch; the bad file was not kept. Check the mirror or the URL.",
};

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        from: { type: "string" },
        corpus: { type: "string" },
        manifest: { type: "string" },
        strict: { type: "boolean", default: false },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT_OK;
  }

  try {
    const config = loadConfig(env);
    const corpusDir = args.corpus ? path.resolve(args.corpus) : config.corpusDir;
    const mirrorDir = args.from ? path.resolve(args.from) : config.corpusMirror;
    // The manifest belongs to the project, not to wherever CORPUS_DIR points.
    const manifest = args.manifest ? path.resolve(args.manifest) : path.join(projectRoot, "corpus", "manifest.json");
    const documents = await loadCorpusManifest(manifest);

    const source = mirrorDir ? `mirror editions from ${mirrorDir}` : "no mirror: original editions from their URLs";
    console.log(`Fetching ${documents.length} documents into ${corpusDir} (${source})`);
    const width = Math.max(...documents.map((e) => e.id.length));
    const report = await fetchCorpus({
      documents,
      corpusDir,
      mirrorDir,
      onEvent: (e) => {
        if (e.type === "result") console.log(formatResult(e.result, width));
      },
    });

    const counts = new Map<string, number>();
    for (const r of report.results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
    const available = report.results.filter((r) => r.status !== "missing" && r.status !== "checksum-mismatch").length;
    console.log(`${available}/${documents.length} documents available: ${summary}`);
    const recorded = firstUseNote(report);
    if (recorded) console.log(recorded);

    const code = exitCodeFor(report, args.strict);
    console.log(EXPLANATION[code]);
    if (code === EXIT_OK && available < documents.length)
      console.log(`missing documents are left out of the index; put them in a mirror (--from DIR) or run with network access.`);
    return code;
  } catch (err) {
    // Bad configuration, manifest or corpus directory: the message says what and where.
    if (isAppError(err, ...EXIT_USAGE_CODES) || isFsError(err)) {
      console.error(`error: ${(err as Error).message}`);
      console.error("exit 1: usage, configuration, manifest or corpus-directory error.");
      return EXIT_USAGE;
    }
    throw err;
  }
}

/** One line per document: "✓ id  status  size  file", plus the checksum when it was recorded just now. */
export function formatResult(r: FetchResult, width = 0): string {
  const id = r.id.padEnd(width);
  if (r.status === "missing" || r.status === "checksum-mismatch") return `✗ ${id}  ${r.status}: ${r.reason}`;
  const line = `✓ ${id}  ${r.status.padEnd(10)}  ${formatBytes(r.bytes ?? 0).padStart(8)}  ${r.file} (${r.edition} edition)`;
  return r.checksum === "first-use" ? `${line}; recorded checksum ${r.sha256} on first fetch` : line;
}

/** Says where checksums recorded on first fetch are kept and what they mean, when there are any. */
export function firstUseNote(report: FetchReport): string | undefined {
  const n = report.results.filter((r) => r.checksum === "first-use").length;
  if (n === 0) return undefined;
  return (
    `${n} checksum${n === 1 ? "" : "s"} recorded on first fetch in ${report.lockFile} (no checksum is published for ` +
    `${n === 1 ? "that edition" : "those editions"}): a later fetch that gets other bytes is refused (exit 3).`
  );
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

function isFsError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === "string";
}

function isEntryFile(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryFile()) {
  const code = await main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`corpus:fetch failed: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_USAGE;
  });
  process.exit(code);
}
