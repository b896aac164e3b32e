/** Command-line options, strictly parsed (node:util parseArgs); a bad option is a USAGE error. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { AppError } from "../errors.js";

export function parseOptions<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new AppError("USAGE", (err as Error).message, { cause: err });
  }
}
