// Preloaded into a measured child (`node --import ./bench/peak-rss.mjs ...`): when the process exits,
// writes its peak resident memory (process.resourceUsage().maxRSS, kB) to $BENCH_RSS_FILE.
// Used when /usr/bin/time -v is not available.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    try {
      writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
    } catch {
      // measurement only: never fail the measured program
    }
  });
}
