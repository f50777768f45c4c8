// Benchmark: a "fleet node" config — 500 files (50 gzip-compressed and verified), 50
// directories, 50 links, 20 users, 10 groups, 50 units with 20 drop-ins and 10 masks — applied
// to a freshly seeded root by `nexus-init apply`, side by side in the same run with Debian's
// Ignition 2.14 (fetch then files stage, file platform) on the same config and an equally
// seeded root. Prints median wall time and peak RSS of each; targets: ≤ 0.5× Ignition's wall
// time, ≤ 100 MB peak RSS.
// Run: bun run bench/files.ts  (needs root, dist/nexus-init or NEXUS_BIN, `apt-get install ignition`)
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";

const BIN = process.env.NEXUS_BIN ?? resolve(import.meta.dir, "../dist/nexus-init");
const IGNITION = process.env.IGNITION_BIN ?? "/usr/lib/dracut/modules.d/30ignition/ignition";
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The newest spec Ignition 2.14 reads. */
const VERSION = "3.3.0";

/** Deterministic filler text of n bytes. */
function filler(seed: number, n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `line ${seed}-${i}: ${"abcdefghij".repeat(5)}\n`;
  return s.slice(0, n);
}

const dataUrl = (bytes: Uint8Array | string) => `data:;base64,${Buffer.from(bytes).toString("base64")}`;

/** The fleet node config. */
export function fleetConfig(): object {
  const files: object[] = [];
  for (let i = 0; i < 450; i++) {
    files.push({ path: `/etc/fleet/conf-${i % 25}/file-${i}.conf`, mode: 0o644, contents: { source: dataUrl(filler(i, 512 + (i % 8) * 256)) } });
  }
  for (let i = 0; i < 50; i++) {
    const body = filler(1000 + i, 16 * 1024);
    files.push({
      path: `/opt/fleet/blobs/blob-${i}.txt`,
      mode: 0o640,
      user: { name: `user${i % 20}` },
      group: { name: `group${i % 10}` },
      contents: {
        source: dataUrl(gzipSync(body)),
        compression: "gzip",
        verification: { hash: "sha512-" + createHash("sha512").update(body).digest("hex") },
      },
    });
  }
  const directories = Array.from({ length: 50 }, (_, i) => ({ path: `/srv/fleet/dir-${i}/data`, mode: 0o750, user: { name: `user${i % 20}` } }));
  const links = Array.from({ length: 50 }, (_, i) =>
    i < 40
      ? { path: `/srv/fleet/links/link-${i}`, target: `/etc/fleet/conf-${i % 25}/file-${i}.conf` }
      : { path: `/srv/fleet/hard/hard-${i}`, target: `/etc/fleet/conf-${i % 25}/file-${i}.conf`, hard: true },
  );
  const groups = Array.from({ length: 10 }, (_, i) => ({ name: `group${i}`, gid: 2000 + i }));
  const users = Array.from({ length: 20 }, (_, i) => ({
    name: `user${i}`,
    uid: 3000 + i,
    groups: [`group${i % 10}`],
    sshAuthorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${"A".repeat(43 - String(i).length)}${i} user${i}@fleet`],
  }));
  const units = Array.from({ length: 50 }, (_, i) => {
    if (i >= 40) return { name: `masked-${i}.service`, mask: true };
    return {
      name: `fleet-${i}.service`,
      enabled: true,
      contents: `[Unit]\nDescription=Fleet service ${i}\n\n[Service]\nExecStart=/usr/bin/fleet-agent --id ${i}\n\n[Install]\nWantedBy=multi-user.target\n`,
      ...(i < 20 ? { dropins: [{ name: "10-env.conf", contents: `[Service]\nEnvironment=FLEET_ID=${i}\n` }] } : {}),
    };
  });
  return { ignition: { version: VERSION }, storage: { files, directories, links }, passwd: { groups, users }, systemd: { units } };
}

/** The same config without accounts: what the engines do besides running shadow's tools. */
export function withoutAccounts(config: object): object {
  const c = structuredClone(config) as { passwd?: unknown; storage: { files: { user?: unknown; group?: unknown }[]; directories: { user?: unknown }[] } };
  delete c.passwd;
  for (const f of c.storage.files) {
    delete f.user;
    delete f.group;
  }
  for (const d of c.storage.directories) delete d.user;
  return c;
}

/** A root as both tools get it: account databases, SELinux config (Ignition reads it), /home. */
function seedRoot(root: string): void {
  mkdirSync(join(root, "etc/selinux"), { recursive: true });
  mkdirSync(join(root, "home"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nwheel:x:10:root\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/gshadow"), "root:*::\nwheel:*::root\n", { mode: 0o600 });
  writeFileSync(join(root, "etc/login.defs"), "UID_MIN 1000\nGID_MIN 1000\nUSERGROUPS_ENAB yes\nCREATE_HOME yes\n");
  writeFileSync(join(root, "etc/selinux/config"), "SELINUX=disabled\nSELINUXTYPE=targeted\n");
}

/** Runs argv under GNU time; wall seconds and max RSS in KiB. */
async function timed(argv: string[], env: Record<string, string>, cwd: string): Promise<{ wall: number; rssKb: number; code: number; out: string }> {
  const p = Bun.spawn(["/usr/bin/time", "-f", "TIME %e %M", ...argv], { env: { ...process.env, ...env }, cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const m = /TIME ([\d.]+) (\d+)\s*$/.exec(err);
  if (!m) throw new Error(`Cannot read the timing of ${argv[0]}: ${err.slice(-500)}`);
  return { wall: Number(m[1]), rssKb: Number(m[2]), code, out: out + err };
}

/** One nexus-init apply run on a fresh root. */
async function runNexus(work: string, cfg: string): Promise<{ wall: number; rssKb: number }> {
  const root = join(work, "nexus-root");
  rmSync(root, { recursive: true, force: true });
  seedRoot(root);
  const t0 = performance.now();
  const r = await timed([BIN, "apply", "--root", root, cfg], {}, work);
  const wall = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`nexus-init apply failed:\n${r.out.slice(-3000)}`);
  return { wall, rssKb: r.rssKb };
}

/** Ignition's failure lines (it dumps the whole config after them). */
const criticalLines = (out: string) => out.split("\n").filter((l) => /CRITICAL|ERROR/.test(l)).join("\n");

/** One Ignition run (fetch stage, then files stage) on a fresh root. */
async function runIgnition(work: string, cfg: string): Promise<{ wall: number; rssKb: number }> {
  const root = join(work, "ign-root");
  const state = join(work, "ign-state");
  rmSync(root, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state);
  seedRoot(root);
  const env = { IGNITION_CONFIG_FILE: cfg, PATH: `${join(work, "bin")}:${process.env.PATH}` };
  const common = ["-platform", "file", "-root", root, "-config-cache", join(state, "cache.json"), "-state-file", join(state, "state"), "-log-to-stdout"];
  const t0 = performance.now();
  const fetch = await timed([IGNITION, "-stage", "fetch", ...common], env, state);
  if (fetch.code !== 0) throw new Error(`ignition fetch failed:\n${criticalLines(fetch.out)}`);
  const files = await timed([IGNITION, "-stage", "files", ...common], env, state);
  const wall = (performance.now() - t0) / 1000;
  if (files.code !== 0) throw new Error(`ignition files failed:\n${criticalLines(files.out)}`);
  return { wall, rssKb: Math.max(fetch.rssKb, files.rssKb) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs both tools RUNS times (alternating) on one config and prints the medians. */
async function compare(work: string, title: string, config: object, haveIgnition: boolean): Promise<void> {
  const cfg = join(work, `${title.replace(/\W+/g, "-")}.ign`);
  writeFileSync(cfg, JSON.stringify(config));
  const nexus: { wall: number; rssKb: number }[] = [];
  const ign: { wall: number; rssKb: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    nexus.push(await runNexus(work, cfg));
    if (haveIgnition) ign.push(await runIgnition(work, cfg));
  }
  console.log(`${title}: config ${(readFileSync(cfg).length / 1024).toFixed(0)} KiB, ${RUNS} runs each, medians`);
  const n = { wall: median(nexus.map((r) => r.wall)), rss: median(nexus.map((r) => r.rssKb)) / 1024 };
  console.log(`  nexus-init apply           wall ${(n.wall * 1000).toFixed(0).padStart(5)} ms   peak RSS ${n.rss.toFixed(1)} MB`);
  if (haveIgnition) {
    const g = { wall: median(ign.map((r) => r.wall)), rss: median(ign.map((r) => r.rssKb)) / 1024 };
    console.log(`  ignition 2.14 fetch+files  wall ${(g.wall * 1000).toFixed(0).padStart(5)} ms   peak RSS ${g.rss.toFixed(1)} MB`);
    console.log(`  ratio nexus/ignition wall: ${(n.wall / g.wall).toFixed(2)} (target ≤ 0.50); peak RSS ≤ 100 MB: ${n.rss <= 100 ? "met" : "NOT met"}`);
  } else {
    console.log(`  Ignition not found at ${IGNITION} (apt-get install ignition): no comparison`);
  }
}

async function main(): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`Cannot find ${BIN}: run "make build" (or set NEXUS_BIN)`);
  const haveIgnition = existsSync(IGNITION);
  const work = mkdtempSync(join(tmpdir(), "nexus-bench-files-"));
  try {
    // Ignition writes SSH keys as the user: every directory above the root must be traversable.
    chmodSync(work, 0o755);
    mkdirSync(join(work, "bin"));
    writeFileSync(join(work, "bin/setfiles"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(work, "bin/setfiles"), 0o755);
    const fleet = fleetConfig();
    await compare(work, "fleet node", fleet, haveIgnition);
    // Both engines run the same 30 shadow-utils commands, which fsync the account files; this
    // second run shows the engines' own work without them.
    await compare(work, "fleet node without accounts", withoutAccounts(fleet), haveIgnition);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
