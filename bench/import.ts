// Benchmark: `nexus import` of the fleet node config (bench/files.ts: 500 files, 50 directories,
// 50 links, 20 users, 10 groups, 50 units), the whole process timed as a user runs it
// (dist/nexus import fleet.ign -o system.ts, 50 gzip-compressed 16 KiB files becoming local
// files). Prints the median of BENCH_RUNS runs (default 11); target ≤ 500 ms. Checks once that
// provisioning the imported program gives the config back (same normal form). CPU time and the
// load average are printed too: on a loaded machine the wall time says more about the others.
// Run: bun run bench/import.ts (needs dist/nexus: make build). Env: NEXUS_CLI, BENCH_RUNS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { normalForm } from "../src/authoring/import.ts";
import { fleetConfig } from "./files.ts";

const BIN = process.env.NEXUS_CLI ?? resolve(import.meta.dir, "../dist/nexus");
const RUNS = Math.max(9, Number(process.env.BENCH_RUNS ?? 11));
const TARGET_MS = 500;

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
  run([BIN, "import", config, "-o", program]); // warm the page cache
  const times: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  let summary = "";
  for (let i = 0; i < RUNS; i++) {
    // A fresh folder each time, as a user imports into a new project (rewriting the same files
    // would time ext4's flush of truncated and renamed-over files instead).
    const r = run([BIN, "import", config, "-o", join(work, `run-${i}`, "system.ts")]);
    times.push(r.ms);
    cpu.push(r.cpuMs);
    rss.push(r.rssKb);
    summary = r.stderr.trim();
  }
  const back = join(work, "back.ign");
  run([BIN, "provision", program, "-o", back]);
  const want = normalForm(readFileSync(config, "utf8"));
  const got = normalForm(readFileSync(back, "utf8"));
  const same = want.ok && got.ok && Bun.deepEquals(want.model, got.model, true);
  const m = median(times);
  console.log(`  ${summary}`);
  console.log(`  nexus import, fleet config (${(readFileSync(config).length / 1024).toFixed(0)} KiB)   median ${m.toFixed(0)} ms of ${RUNS} runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})   target ≤ ${TARGET_MS} ms: ${m <= TARGET_MS ? "met" : "MISSED"}`);
  console.log(`  CPU (user + system) median ${median(cpu).toFixed(0)} ms, peak RSS median ${(median(rss) / 1024).toFixed(0)} MiB; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
  console.log(`  round trip (provision of the program, normal form): ${same ? "same config" : "DIFFERENT"}`);
  if (!same) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
