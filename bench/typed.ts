// Benchmark: the typed provisioning commands on the fleet program — `nexus import` of the fleet
// node config (bench/files.ts: 500 files, 50 directories, 50 links, 20 users, 10 groups, 50
// units; 50 gzip-compressed 16 KiB files become local files), then `nexus provision` and `nexus
// check` of the program it writes, each the whole process as a user runs it, the three taken in
// turn in every round so they share the machine's moment. Prints medians of BENCH_RUNS rounds
// (default 11) against the targets (import ≤ 500 ms, provision ≤ 500 ms, check ≤ 3 s), and
// checks once that provisioning the imported program gives the config back (same normal form).
// CPU time and the load average are printed too: on a loaded machine the wall time says more
// about the others.
// Run: bun run bench/typed.ts (needs dist/nexus: make build). Env: NEXUS_CLI, BENCH_RUNS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { normalForm } from "../src/authoring/import.ts";
import { fleetConfig } from "./files.ts";

const BIN = process.env.NEXUS_CLI ?? resolve(import.meta.dir, "../dist/nexus");
const RUNS = Math.max(9, Number(process.env.BENCH_RUNS ?? 11));
const TARGETS = { import: 500, provision: 500, check: 3000 } as const;
type Command = keyof typeof TARGETS;

/** Runs argv under GNU time: wall ms (measured here), CPU ms (user + system) and peak RSS. */
function run(argv: string[]): { ms: number; cpuMs: number; rssKb: number; stderr: string } {
  const t0 = performance.now();
  const p = Bun.spawnSync(["/usr/bin/time", "-f", "TIME %U %S %M", ...argv], { stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  const stderr = p.stderr.toString();
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${p.exitCode}):\n${stderr.slice(-2000)}`);
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr);
  if (!m) throw new Error(`Cannot read the timing of ${argv.join(" ")}: ${stderr.slice(-500)}`);
  return { ms, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, rssKb: Number(m[3]), stderr: stderr.slice(0, m.index) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(tmpdir(), "nexus-bench-import-"));
try {
  const config = join(work, "fleet.ign");
  const program = join(work, "out", "system.ts");
  writeFileSync(config, JSON.stringify(fleetConfig()));
  run([BIN, "import", config, "-o", program]); // the fleet program; also warms the page cache
  run([BIN, "check", program]); // unpacks the embedded checker once, as a first check does
  const samples: Record<Command, { ms: number[]; cpu: number[]; rss: number[] }> = {
    import: { ms: [], cpu: [], rss: [] },
    provision: { ms: [], cpu: [], rss: [] },
    check: { ms: [], cpu: [], rss: [] },
  };
  const argv = (c: Command, i: number): string[] =>
    c === "import"
      ? // A fresh folder each time, as a user imports into a new project (rewriting the same
        // files would time ext4's flush of truncated and renamed-over files instead).
        [BIN, "import", config, "-o", join(work, `run-${i}`, "system.ts")]
      : c === "provision"
        ? [BIN, "provision", program, "-o", join(work, `provisioned-${i}.ign`)]
        : [BIN, "check", program];
  for (let i = 0; i < RUNS; i++) {
    for (const c of Object.keys(TARGETS) as Command[]) {
      const r = run(argv(c, i));
      samples[c].ms.push(r.ms);
      samples[c].cpu.push(r.cpuMs);
      samples[c].rss.push(r.rssKb);
    }
  }
  const want = normalForm(readFileSync(config, "utf8"));
  const got = normalForm(readFileSync(join(work, "provisioned-0.ign"), "utf8"));
  const same = want.ok && got.ok && Bun.deepEquals(want.model, got.model, true);
  console.log(`  fleet config ${(readFileSync(config).length / 1024).toFixed(0)} KiB; program ${(readFileSync(program).length / 1024).toFixed(0)} KiB; ${RUNS} rounds; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
  console.log("  | command | median wall | min | max | target | CPU median | peak RSS median |");
  console.log("  |---|---|---|---|---|---|---|");
  for (const c of Object.keys(TARGETS) as Command[]) {
    const { ms, cpu, rss } = samples[c];
    const m = median(ms);
    console.log(`  | nexus ${c} | ${m.toFixed(0)} ms | ${Math.min(...ms).toFixed(0)} | ${Math.max(...ms).toFixed(0)} | ≤ ${TARGETS[c]} ms ${m <= TARGETS[c] ? "met" : "MISSED"} | ${median(cpu).toFixed(0)} ms | ${(median(rss) / 1024).toFixed(0)} MiB |`);
  }
  console.log(`  round trip (provision of the imported program, normal form): ${same ? "same config" : "DIFFERENT"}`);
  if (!same) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
