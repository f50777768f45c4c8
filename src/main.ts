// nexus-init entry point: the only top-level side effect.
import { runCli } from "./cli/index.ts";

try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`nexus-init: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
