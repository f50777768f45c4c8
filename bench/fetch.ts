// Fetch benchmark (issue 4): a 1 GiB resource from a loopback HTTP server, verified with
// sha512, through nexus-init's fetcher versus `curl -s URL | sha512sum` in the same run; then
// the same for a gzip resource versus `curl -s URL | gunzip | sha512sum`. Rounds alternate
// between the two so machine noise hits both; medians are reported, with nexus-init's peak RSS.
//
//   node_modules/.bin/bun bench/fetch.ts            (NEXUS_BENCH_MB=1024, NEXUS_BENCH_ROUNDS=3)
//
// The payload is base64 text of random bytes (so gzip has something to do, ~75% ratio).
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const MB = Number(process.env.NEXUS_BENCH_MB ?? 1024);
const ROUNDS = Number(process.env.NEXUS_BENCH_ROUNDS ?? 3);
const dir = process.env.NEXUS_BENCH_DIR ?? "/tmp/nexus-bench-fetch";
const bun = process.execPath;
const here = import.meta.dir;

async function sh(cmd: string, pipefail = true): Promise<string> {
  const p = Bun.spawn(["bash", ...(pipefail ? ["-o", "pipefail"] : []), "-c", cmd], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`command failed: ${cmd}`);
  return out;
}

async function prepare(): Promise<{ plainSha: string; size: number }> {
  mkdirSync(dir, { recursive: true });
  const plain = join(dir, "data.bin");
  const size = MB * 1024 * 1024;
  if (!existsSync(plain) || statSync(plain).size !== size || !existsSync(`${plain}.gz`)) {
    console.error(`generating ${MB} MiB of base64 text in ${plain}…`);
    await sh(`head -c ${Math.ceil((size * 3) / 4)} /dev/urandom | base64 -w 76 | head -c ${size} > ${plain}`, false);
    await sh(`pigz -6 -c ${plain} > ${plain}.gz || gzip -6 -c ${plain} > ${plain}.gz`);
  }
  const plainSha = (await sh(`sha512sum ${plain}`)).split(" ")[0]!;
  return { plainSha, size };
}

interface Sample {
  ms: number;
  rssKiB?: number;
}

async function timeCurl(pipeline: string): Promise<Sample> {
  const t0 = performance.now();
  await sh(pipeline);
  return { ms: performance.now() - t0 };
}

async function timeNexus(url: string, hash: string, gzip: boolean): Promise<Sample> {
  const t0 = performance.now();
  const out = await sh(`${bun} ${join(here, "fetch_client.ts")} ${url} ${hash}${gzip ? " gzip" : ""}`);
  const ms = performance.now() - t0;
  const r = JSON.parse(out.trim().split("\n").pop()!) as { bytes: number; ms: number; peakRssKiB: number };
  return { ms, rssKiB: r.peakRssKiB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { plainSha, size } = await prepare();
  const server = Bun.spawn([bun, join(here, "fetch_server.ts"), resolve(dir)], { stdout: "pipe", stderr: "inherit" });
  const reader = server.stdout.getReader();
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
  const base = `http://127.0.0.1:${port}`;
  const hash = `sha512-${plainSha}`;
  const rows: Record<string, unknown>[] = [];
  try {
    for (const gzip of [false, true]) {
      const url = `${base}/data.bin${gzip ? ".gz" : ""}`;
      const curlCmd = gzip ? `curl -s ${url} | gunzip | sha512sum` : `curl -s ${url} | sha512sum`;
      const curl: Sample[] = [];
      const nexus: Sample[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        curl.push(await timeCurl(curlCmd));
        nexus.push(await timeNexus(url, hash, gzip));
      }
      const c = median(curl.map((s) => s.ms));
      const n = median(nexus.map((s) => s.ms));
      const mibs = (ms: number) => size / 1024 / 1024 / (ms / 1000);
      rows.push({
        resource: gzip ? "gzip (gunzip + sha512)" : "plain (sha512)",
        curlMiBs: +mibs(c).toFixed(1),
        nexusMiBs: +mibs(n).toFixed(1),
        ratio: +(c / n).toFixed(3),
        nexusPeakRssMiB: +(Math.max(...nexus.map((s) => s.rssKiB ?? 0)) / 1024).toFixed(1),
        curlMs: curl.map((s) => Math.round(s.ms)),
        nexusMs: nexus.map((s) => Math.round(s.ms)),
      });
    }
  } finally {
    server.kill();
  }
  console.table(rows.map(({ curlMs, nexusMs, ...r }) => r));
  console.log(JSON.stringify({ sizeMiB: MB, rounds: ROUNDS, results: rows }, null, 2));
}

await main();
