/**
 * Feedback as rows (migrations/003_feedback.sql), for INDEX_STORE=postgres: every replica appends to
 * one table and `npm run eval -- --set feedback` reads it, whichever process wrote the rows. The store
 * layer owns the SQL only: the record is opaque JSON here, its shape (and its validation) belongs to the
 * service (src/service/feedback.ts, PostgresFeedbackStore).
 */
import { acquireDatabase, releaseDatabase, type Database, type PgSettings } from "./db.js";

export interface FeedbackRow {
  answerId: string;
  rating: "up" | "down";
  /** The whole record, stored as jsonb. */
  record: Record<string, unknown>;
}

export class PostgresFeedbackTable {
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly release: (db: Database) => Promise<void> = async () => {},
  ) {}

  /** A table on the process's shared pool for these settings (the index store's pool). */
  static connect(settings: PgSettings): PostgresFeedbackTable {
    return new PostgresFeedbackTable(acquireDatabase(settings), releaseDatabase);
  }

  get location(): string {
    return `the feedback table of ${this.db.location}`;
  }

  async add(row: FeedbackRow): Promise<void> {
    await this.db.query("INSERT INTO feedback (answer_id, rating, record) VALUES ($1, $2, $3)", [row.answerId, row.rating, JSON.stringify(row.record)]);
  }

  /** Every stored record, oldest first (insertion order among rows of the same instant). */
  async all(): Promise<unknown[]> {
    const { rows } = await this.db.query<{ record: unknown }>("SELECT record FROM feedback ORDER BY created_at, id");
    return rows.map((r) => r.record);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release(this.db);
  }
}
