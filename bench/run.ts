// Runs every benchmark in bench/ in turn (`make bench`). Each prints its own figures.
import { readdirSync } from "node:fs";

const here = import.meta.dir;
const only = process.argv.slice(2);
for (const f of readdirSync(here).sort()) {
  if (!f.endsWith(".ts") || f === "run.ts" || f.endsWith(".test.ts")) continue;
  if (only.length && !only.some((o) => f.includes(o))) continue;
  console.log(`== bench/${f}`);
  const p = Bun.spawn([process.execPath, "run", `${here}/${f}`], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) process.exitCode = 1;
}
