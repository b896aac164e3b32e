import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { architecture, BEGIN, END } from "../../scripts/architecture.js";
import { PROJECT_ROOT } from "../../src/config/index.js";

describe("README architecture picture", () => {
  it("is the one the code gives today (npm run arch -- --write refreshes it)", async () => {
    const readme = await readFile(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const block = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END)).trim();
    expect(block).toBe(await architecture());
  }, 60_000);
});
