// Benchmark: `nexus-init validate` on a ~1 MB config (5,000 files), end to end including
// process start. Target: ≤ 150 ms wall, ≤ 100 MB peak RSS. Run: bun run bench/validate.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BIN = resolve(import.meta.dir, "../dist/nexus-init");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** A fleet-like config of n files with modes, owners and data URLs (about 200 bytes each). */
export function makeBigConfig(n: number): string {
  const files = Array.from({ length: n }, (_, i) => ({
    path: `/etc/fleet/node-${Math.floor(i / 100)}/file-${i}.conf`,
    mode: 0o644,
    overwrite: true,
    user: { name: "root" },
    contents: { source: `data:,setting%20${i}%3Dvalue-${"x".repeat(60)}%0A` },
  }));
  return JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files } }, null, 1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "nexus-bench-"));
  try {
    const path = join(dir, "big.ign");
    const text = makeBigConfig(5000);
    writeFileSync(path, text);
    const walls: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const p = Bun.spawn([BIN, "validate", path], { stdout: "ignore", stderr: "pipe" });
      const code = await p.exited;
      walls.push(performance.now() - t0);
      rss.push((p.resourceUsage()?.maxRSS ?? 0) / 1024 / 1024);
      if (code !== 0) throw new Error(`validate exited ${code}: ${await new Response(p.stderr).text()}`);
    }
    console.log(
      `validate ${(text.length / 1e6).toFixed(2)} MB, 5000 files, ${RUNS} runs: ` +
        `wall median ${median(walls).toFixed(1)} ms (min ${Math.min(...walls).toFixed(1)}, max ${Math.max(...walls).toFixed(1)}), ` +
        `peak RSS median ${median(rss).toFixed(1)} MB (max ${Math.max(...rss).toFixed(1)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
