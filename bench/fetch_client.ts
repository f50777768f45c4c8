// Benchmark helper: one measured fetch through nexus-init's fetcher (stream, optional gunzip,
// sha512 verification, bytes discarded like `| sha512sum`), then a JSON line with the bytes,
// the wall time and the process's peak RSS (VmHWM).
import { readFileSync } from "node:fs";
import { createFetcher } from "../src/resource/index.ts";

const [url, hash, compression] = process.argv.slice(2);
if (!url || !hash) throw new Error("usage: bun bench/fetch_client.ts URL sha512-HEX [gzip]");
const fetcher = createFetcher();
let bytes = 0;
const t0 = performance.now();
await fetcher.fetchInto(
  { source: url, verification: { hash }, compression: compression ?? null },
  { write: (c) => void (bytes += c.length) },
);
const ms = performance.now() - t0;
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
console.log(JSON.stringify({ bytes, ms, peakRssKiB: Number(hwm) }));
