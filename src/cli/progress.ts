/** Renders ingestion events: a progress bar on a terminal, plain lines otherwise (logs, CI, containers). */
import cliProgress from "cli-progress";
import type { IngestEvent } from "../ingest/pipeline.js";

export function ingestReporter(stream: NodeJS.WriteStream = process.stderr): (e: IngestEvent) => void {
  const tty = Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let lastPlain = 0;
  const line = (s: string) => {
    bar?.stop();
    bar = undefined;
    stream.write(`${s}\n`);
  };
  return (e) => {
    switch (e.type) {
      case "start":
        return line(`ingest: ${e.documents} documents in the manifest`);
      case "document":
        return line(`  ${e.status === "reused" ? "=" : "+"} ${e.id.padEnd(22)} ${e.status.padEnd(7)} ${e.pages ?? "-"} pages, ${e.chunks} chunks`);
      case "skipped":
        return line(`  ! ${e.id.padEnd(22)} skipped  ${e.file}: ${e.reason}`);
      case "missing":
        return line(`  ? ${e.id.padEnd(22)} missing  ${e.file} is not in the corpus folder (run: npm run corpus:fetch)`);
      case "embed-start":
        line(`embedding ${e.total} chunks (${e.cached} reused from the previous index)`);
        if (tty && e.total > 0) {
          bar = new cliProgress.SingleBar({ stream, format: "  {bar} {value}/{total} chunks  {eta_formatted} left" }, cliProgress.Presets.shades_classic);
          bar.start(e.total, 0);
        }
        return;
      case "embed-progress":
        if (bar) bar.update(e.done);
        else if (e.done === e.total || e.done - lastPlain >= Math.max(50, e.total / 10)) {
          lastPlain = e.done;
          stream.write(`  embedded ${e.done}/${e.total}\n`);
        }
        return;
      case "write":
        return line("writing index");
    }
  };
}
