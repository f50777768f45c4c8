// nexus entry point: the authoring CLI for workstations and CI (the only top-level side effect).
import { runNexusCli } from "./authoring/cli.ts";

try {
  process.exitCode = await runNexusCli(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`nexus: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
