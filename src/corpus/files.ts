/** The one file-exists check (corpus folder, ingest, the baseline's cache): a regular file, not a folder. */
import { stat } from "node:fs/promises";

/** The size of the regular file at `file`; undefined when there is none (missing, a folder, unreadable). */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a regular file is at `file`. */
export async function isFile(file: string): Promise<boolean> {
  return (await fileSize(file)) !== undefined;
}
