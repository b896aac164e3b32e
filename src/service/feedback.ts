/**
 * Feedback on answers (POST /v1/feedback): a thumbs up or down, a comment, the expected answer. Each
 * record carries the answer it rates (question, answer, cited documents, prompt version, model, index
 * generation), so `npm run eval -- --set feedback` can turn it into a regression set long after the
 * server forgot the answer. Stored durably: one JSON line a record, appended and fsynced, in
 * DATA_DIR/feedback.jsonl; with INDEX_STORE=postgres, rows of the feedback table instead
 * (PostgresFeedbackStore over the store's pool), shared by the replicas. createFeedbackStore picks one
 * from the configuration, for the service and for `npm run eval -- --set feedback` alike.
 */
import { mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { createFeedbackTable, type PostgresFeedbackTable, type StoreConfig } from "../store/index.js";

export const feedbackRecord = z.object({
  answerId: z.string(),
  rating: z.enum(["up", "down"]),
  comment: z.string().optional(),
  /** What the answer should have said (short: the key phrase, as in the evaluation sets). */
  expected: z.string().optional(),
  at: z.string(),
  question: z.string(),
  standaloneQuestion: z.string(),
  docs: z.array(z.string()).optional(),
  answer: z.string(),
  grounded: z.boolean(),
  mode: z.string(),
  model: z.string(),
  promptVersion: z.string(),
  promptAssignment: z.string().optional(),
  generation: z.string(),
  cached: z.boolean(),
  /** The documents (and pages) the answer cited. */
  cited: z.array(z.object({ docId: z.string(), page: z.number().nullable() })),
  unsupportedSentences: z.number().int().optional(),
});

export type FeedbackRecord = z.infer<typeof feedbackRecord>;

/** Where feedback lives (the port; JSONL files here, a Postgres table elsewhere). */
export interface FeedbackStore {
  add(record: FeedbackRecord): Promise<void>;
  /** Every record, oldest first. */
  all(): Promise<FeedbackRecord[]>;
  readonly location: string;
  /** Releases what the store holds (the Postgres pool); the JSONL store holds nothing between calls. */
  close?(): Promise<void>;
}

/** The feedback store the configuration selects: INDEX_STORE=postgres -> the feedback table, else DATA_DIR/feedback.jsonl. */
export function createFeedbackStore(config: StoreConfig & { dataDir: string }): FeedbackStore {
  const table = createFeedbackTable(config);
  return table ? new PostgresFeedbackStore(table) : JsonlFeedbackStore.inDataDir(config.dataDir);
}

/** Feedback as rows of the Postgres feedback table (migrations/003_feedback.sql). */
export class PostgresFeedbackStore implements FeedbackStore {
  constructor(private readonly table: PostgresFeedbackTable) {}

  get location(): string {
    return this.table.location;
  }

  async add(record: FeedbackRecord): Promise<void> {
    const r = feedbackRecord.parse(record);
    await this.table.add({ answerId: r.answerId, rating: r.rating, record: r });
  }

  async all(): Promise<FeedbackRecord[]> {
    // A row written by another build whose record no longer parses is skipped, as a bad JSONL line is.
    return (await this.table.all()).flatMap((row) => {
      const parsed = feedbackRecord.safeParse(row);
      return parsed.success ? [parsed.data] : [];
    });
  }

  close(): Promise<void> {
    return this.table.close();
  }
}

export class JsonlFeedbackStore implements FeedbackStore {
  /** Appends are serialised: lines never interleave. */
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly location: string) {}

  static inDataDir(dataDir: string): JsonlFeedbackStore {
    return new JsonlFeedbackStore(path.join(dataDir, "feedback.jsonl"));
  }

  add(record: FeedbackRecord): Promise<void> {
    const line = `${JSON.stringify(feedbackRecord.parse(record))}\n`;
    const write = async () => {
      await mkdir(path.dirname(this.location), { recursive: true });
      const fh = await open(this.location, "a");
      try {
        await fh.write(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    };
    const next = this.tail.then(write, write);
    this.tail = next.catch(() => {});
    return next;
  }

  async all(): Promise<FeedbackRecord[]> {
    let text: string;
    try {
      text = await readFile(this.location, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    // A torn last line (a crash mid-append) or a hand-edited line that is not a record is skipped.
    return text
      .split("\n")
      .filter((line) => line.trim())
      .flatMap((line) => {
        const parsed = feedbackRecord.safeParse(safeJson(line));
        return parsed.success ? [parsed.data] : [];
      });
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
