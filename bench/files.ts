// Benchmark: a "fleet node" config — 500 files (50 gzip-compressed and verified), 50
// directories, 50 links, 20 users, 10 groups, 50 units with 20 drop-ins and 10 masks — applied
// to a freshly seeded root by `nexus-init apply`, side by side in the same run with Debian's
// Ignition 2.14 (fetch then files stage, file platform) on the same config and an equally
// seeded root. Prints median wall time and peak RSS of each, for the config and for the same
// config without accounts; targets: ≤ 0.5× Ignition's wall time, ≤ 100 MB peak RSS.
//
// Venues. File creation cost depends on the filesystem the roots live on, so each comparison
// runs on up to three venues:
//   tmpdir  the roots under tmpdir() (TMPDIR), as found; labelled with its filesystem type.
//   ext4    a fresh journaled ext4 (2 GiB sparse image in tmpdir, loop-mounted) — what a target
//           root is at first boot.
//   tmpfs   a 1 GiB tmpfs: no disk at all, the floor for the filesystem part.
// Why: an ext4 *without a journal* (as /tmp is on some VMs) checks, for every inode it
// considers allocating, whether that inode was deleted recently (recently_deleted(); journaled
// ext4 skips this). After the benchmark deletes the previous run's root, each new file then
// costs ~0.5–1 ms of kernel CPU instead of ~26 µs, which swamps both engines' own work. The
// tmpdir line therefore says whether it is such a filesystem.
// Per venue, "accounts" is what the passwd section costs nexus-init: its wall time with the
// config minus without it (nexus-init writes the account databases itself; Ignition runs 30
// groupadd/useradd commands). A summary table ends the output.
// Run: bun run bench/files.ts  (needs root (mounts, loop devices), dist/nexus-init or NEXUS_BIN,
// `apt-get install ignition`). Env: BENCH_RUNS=N (default 5), BENCH_VENUES=comma list of
// tmpdir,ext4,tmpfs (default all three); a venue that cannot be mounted is skipped with a note.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { NAME_MAP } from "../test/conformance/root_runner.ts";
import { snapshotTree } from "../test/tree_snapshot.ts";

const BIN = process.env.NEXUS_BIN ?? resolve(import.meta.dir, "../dist/nexus-init");
const IGNITION = process.env.IGNITION_BIN ?? "/usr/lib/dracut/modules.d/30ignition/ignition";
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const VENUE_NAMES = ["tmpdir", "ext4", "tmpfs"] as const;
type VenueName = (typeof VENUE_NAMES)[number];
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

/** The same config without accounts: what the engines do besides users and groups. */
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

/** One nexus-init apply run on a fresh root under dir (the venue); cwd is the work dir. */
async function runNexus(work: string, dir: string, cfg: string): Promise<{ wall: number; rssKb: number }> {
  const root = join(dir, "nexus-root");
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

/** One Ignition run (fetch stage, then files stage) on a fresh root and state dir under dir (the venue). */
async function runIgnition(work: string, dir: string, cfg: string): Promise<{ wall: number; rssKb: number }> {
  const root = join(dir, "ign-root");
  const state = join(dir, "ign-state");
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

/** Median wall seconds of one comparison; ignition is undefined when Ignition is not installed. */
interface Walls {
  nexus: number;
  ignition?: number;
}

/**
 * Runs both tools RUNS times (alternating) on one config, roots under dir (the venue), config
 * file in work, and prints the medians.
 */
async function compare(work: string, dir: string, title: string, config: object, haveIgnition: boolean): Promise<Walls> {
  const cfg = join(work, `${title.replace(/\W+/g, "-")}.ign`);
  writeFileSync(cfg, JSON.stringify(config));
  const nexus: { wall: number; rssKb: number }[] = [];
  const ign: { wall: number; rssKb: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    nexus.push(await runNexus(work, dir, cfg));
    if (haveIgnition) ign.push(await runIgnition(work, dir, cfg));
  }
  console.log(`${title}: config ${(readFileSync(cfg).length / 1024).toFixed(0)} KiB, ${RUNS} runs each, medians`);
  const n = { wall: median(nexus.map((r) => r.wall)), rss: median(nexus.map((r) => r.rssKb)) / 1024 };
  console.log(`  nexus-init apply           wall ${(n.wall * 1000).toFixed(0).padStart(5)} ms   peak RSS ${n.rss.toFixed(1)} MB`);
  if (haveIgnition) {
    const g = { wall: median(ign.map((r) => r.wall)), rss: median(ign.map((r) => r.rssKb)) / 1024 };
    console.log(`  ignition 2.14 fetch+files  wall ${(g.wall * 1000).toFixed(0).padStart(5)} ms   peak RSS ${g.rss.toFixed(1)} MB`);
    console.log(`  ratio nexus/ignition wall: ${(n.wall / g.wall).toFixed(2)} (target ≤ 0.50); peak RSS ≤ 100 MB: ${n.rss <= 100 ? "met" : "NOT met"}`);
    const differences = treeDifferences(dir, config);
    if (differences.length === 0) console.log("  trees: identical (after Ignition 2.14's known differences from upstream)");
    else {
      console.log(`  trees: ${differences.length} node(s) differ:\n${differences.slice(0, 20).map((l) => `    ${l}`).join("\n")}`);
      process.exitCode = 1;
    }
    return { nexus: n.wall, ignition: g.wall };
  }
  console.log(`  Ignition not found at ${IGNITION} (apt-get install ignition): no comparison`);
  return { nexus: n.wall };
}

/**
 * The trees both engines left from the last run of a comparison (roots under dir), node by node:
 * path, type, mode, owner, contents. Ignition's own names become nexus-init's (NAME_MAP), and
 * what Ignition 2.14 does differently from current upstream, which nexus-init follows, is taken
 * out first (in the throwaway roots): each engine's result report, the preset file's line order
 * (2.14 writes Go map order, nexus-init sorts), and the gshadow password of a group the config
 * creates without passwordHash (2.14 passes "*"; upstream since 2.25 keeps groupadd's "!").
 * Returns the differences left ("ign"/"nexus" lines).
 */
function treeDifferences(dir: string, config: object): string[] {
  const nexus = join(dir, "nexus-root");
  const ign = join(dir, "ign-root");
  rmSync(join(nexus, "etc/.nexus-result.json"), { force: true });
  rmSync(join(ign, "etc/.ignition-result.json"), { force: true });
  const [presetIgn, presetNexus] = NAME_MAP.find(([i]) => i.endsWith(".preset"))!;
  const [keysIgn, keysNexus] = NAME_MAP.find(([i]) => i.includes("authorized_keys.d"))!;
  if (existsSync(join(ign, presetIgn))) renameSync(join(ign, presetIgn), join(ign, presetNexus));
  for (const root of [nexus, ign]) {
    const preset = join(root, presetNexus);
    if (existsSync(preset)) writeFileSync(preset, readFileSync(preset, "utf8").split("\n").filter((l) => l !== "").sort().join("\n") + "\n");
  }
  for (const home of existsSync(join(ign, "home")) ? readdirSync(join(ign, "home")) : []) {
    const from = join(ign, "home", home, keysIgn);
    if (existsSync(from)) renameSync(from, join(ign, "home", home, keysNexus));
  }
  const groups = (config as { passwd?: { groups?: { name: string; passwordHash?: string }[] } }).passwd?.groups ?? [];
  const starred = new Set(groups.filter((g) => !g.passwordHash).map((g) => g.name));
  for (const f of ["etc/gshadow", "etc/gshadow-"]) {
    const path = join(ign, f);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, "latin1");
    writeFileSync(path, text.replace(/^([^:\n]*):\*:/gm, (line, name: string) => (starred.has(name) ? `${name}:!:` : line)), "latin1");
  }
  const a = snapshotTree(ign);
  const b = snapshotTree(nexus);
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((l) => !inB.has(l)).map((l) => `ign   ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `nexus ${l}`)];
}

/** Runs argv to completion; throws with its stderr when it fails. */
function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${r.exitCode}${r.stderr.length ? `: ${r.stderr.toString().trim()}` : ""}`);
  return r.stdout.toString();
}

/** Decodes the octal escapes (\040 for a space, …) of a /proc/mounts field. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The filesystem a directory is on: type, device and, for ext2/3/4 when it can be told cheaply, whether it has a journal. */
function filesystemOf(dir: string): { type: string; device: string; journal?: boolean } {
  const path = realpathSync(dir);
  let best: { device: string; mnt: string; type: string } | undefined;
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [device, mnt, type] = line.split(" ").map(unescapeMount);
    if (!device || !mnt || !type) continue;
    const under = path === mnt || path.startsWith(mnt.endsWith("/") ? mnt : `${mnt}/`);
    // >=: of stacked mounts on one point, the last listed is the visible one.
    if (under && (!best || mnt.length >= best.mnt.length)) best = { device, mnt, type };
  }
  if (!best) {
    try {
      return { type: run(["stat", "-f", "-c", "%T", path]).trim(), device: "?" };
    } catch {
      return { type: "unknown", device: "?" };
    }
  }
  const fs: { type: string; device: string; journal?: boolean } = { type: best.type, device: best.device };
  if (!/^ext[234]$/.test(best.type)) return fs;
  try {
    const features = /^Filesystem features:(.*)$/m.exec(run(["dumpe2fs", "-h", best.device]));
    if (features) return { ...fs, journal: features[1]!.split(/\s+/).includes("has_journal") };
  } catch {
    // Not readable (e.g. the device is not accessible here): fall back to what the kernel shows.
  }
  try {
    // The kernel lists every mounted ext4 under /proc/fs/ext4/<dev> and every journal under /proc/fs/jbd2/<dev>-<n>.
    const id = basename(best.device);
    if (existsSync(join("/proc/fs/ext4", id))) return { ...fs, journal: readdirSync("/proc/fs/jbd2").some((n) => n.startsWith(`${id}-`)) };
  } catch {
    // Unknown: say nothing about the journal.
  }
  return fs;
}

/** A short description of a filesystem, e.g. "ext4, no journal". */
function describeFs(fs: { type: string; journal?: boolean }): string {
  return fs.journal === undefined ? fs.type : `${fs.type}, ${fs.journal ? "journal" : "no journal"}`;
}

/** Where the roots of one venue go, and how to take the venue down again. */
interface Venue {
  dir: string;
  cleanup: () => void;
}

/** Cleanups of the venues set up and not yet taken down (run on SIGINT/SIGTERM too). */
const pendingCleanups: (() => void)[] = [];

/** Unmounts dir, lazily when it is still busy; never throws. */
function unmount(dir: string): void {
  try {
    run(["umount", dir]);
  } catch (e) {
    try {
      run(["umount", "--lazy", dir]);
    } catch {
      console.error(`warning: cannot unmount ${dir}: ${(e as Error).message}`);
    }
  }
}

/** Mounts a fresh filesystem (made by mount(dir)) on a new temp dir. */
function mountVenue(name: string, mount: (dir: string) => void, teardown: () => void = () => {}): Venue {
  const dir = mkdtempSync(join(tmpdir(), `nexus-bench-${name}-`));
  try {
    mount(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    teardown();
    throw e;
  }
  const cleanup = () => {
    unmount(dir);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      console.error(`warning: cannot remove ${dir}: ${(e as Error).message}`);
    }
    teardown();
  };
  try {
    // Ignition writes SSH keys as the user: every directory above the root must be traversable.
    chmodSync(dir, 0o755);
  } catch (e) {
    cleanup();
    throw e;
  }
  return { dir, cleanup };
}

/** Sets up one venue; throws (with the reason) when it cannot be. */
function openVenue(name: VenueName, work: string): Venue {
  switch (name) {
    case "tmpdir":
      return { dir: work, cleanup: () => {} };
    case "ext4": {
      const image = join(work, "venue-ext4.img");
      const dropImage = () => {
        // mount -o loop sets autoclear, so unmounting frees the loop device; make sure of it.
        try {
          for (const line of run(["losetup", "--associated", image]).split("\n")) {
            const dev = /^(\/dev\/loop\d+):/.exec(line)?.[1];
            if (dev) run(["losetup", "--detach", dev]);
          }
        } catch {
          // No losetup or nothing attached.
        }
        rmSync(image, { force: true });
      };
      try {
        run(["truncate", "-s", "2G", image]);
        // No lazy initialisation: background inode-table zeroing would run during the timed runs.
        run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image]);
      } catch (e) {
        dropImage();
        throw e;
      }
      return mountVenue("ext4", (dir) => run(["mount", "-o", "loop", image, dir]), dropImage);
    }
    case "tmpfs":
      return mountVenue("tmpfs", (dir) => run(["mount", "-t", "tmpfs", "-o", "size=1g", "tmpfs", dir]));
  }
}

/** The venues BENCH_VENUES names (default all), in its order. */
function selectedVenues(): VenueName[] {
  const names = (process.env.BENCH_VENUES ?? VENUE_NAMES.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const n of names) {
    if (!(VENUE_NAMES as readonly string[]).includes(n)) throw new Error(`BENCH_VENUES: unknown venue "${n}" (known: ${VENUE_NAMES.join(", ")})`);
  }
  return names as VenueName[];
}

/** One venue's results for the summary. */
interface VenueResult {
  name: VenueName;
  fs?: string;
  skipped?: string;
  full?: Walls;
  bare?: Walls;
}

/** The summary table: venue × with/without accounts × nexus, ignition, ratio; plus nexus' accounts share. */
function printSummary(results: VenueResult[]): void {
  const ms = (s: number | undefined) => (s === undefined ? "-" : (s * 1000).toFixed(0));
  const ratio = (w: Walls | undefined) => (w?.ignition === undefined ? "-" : (w.nexus / w.ignition).toFixed(2));
  const cells = (w: Walls | undefined) => [ms(w?.nexus).padStart(7), ms(w?.ignition).padStart(9), ratio(w).padStart(6)].join(" ");
  const fsWidth = Math.max(10, ...results.map((r) => (r.fs ?? "").length));
  console.log(`\nsummary: median wall ms, ${RUNS} runs each`);
  console.log(`${"".padEnd(7 + fsWidth + 2)}    ${"with accounts".padEnd(22)}    ${"without accounts".padEnd(22)}  nexus accounts`);
  console.log(`${"venue".padEnd(7)}${"filesystem".padEnd(fsWidth + 2)}  ${"  nexus  ignition  ratio"}  ${"  nexus  ignition  ratio"}  (with - without)`);
  for (const r of results) {
    if (r.skipped !== undefined) {
      console.log(`${r.name.padEnd(7)}skipped: ${r.skipped}`);
      continue;
    }
    console.log(`${r.name.padEnd(7)}${(r.fs ?? "").padEnd(fsWidth + 2)}  ${cells(r.full)}  ${cells(r.bare)}  ${accountsShare(r).padStart(6)}`);
  }
}

/** nexus-init's accounts cost on a venue: ms and share of its wall time with accounts. */
function accountsShare(r: VenueResult): string {
  if (!r.full || !r.bare) return "-";
  const d = r.full.nexus - r.bare.nexus;
  return `${(d * 1000).toFixed(0)} ms (${((d / r.full.nexus) * 100).toFixed(0)}%)`;
}

async function main(): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`Cannot find ${BIN}: run "make build" (or set NEXUS_BIN)`);
  const venues = selectedVenues();
  const haveIgnition = existsSync(IGNITION);
  const work = mkdtempSync(join(tmpdir(), "nexus-bench-files-"));
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  pendingCleanups.push(removeWork);
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: taking the venues down`);
    for (const c of pendingCleanups.splice(0).reverse()) c();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const results: VenueResult[] = [];
  try {
    // Ignition writes SSH keys as the user: every directory above the root must be traversable.
    chmodSync(work, 0o755);
    mkdirSync(join(work, "bin"));
    writeFileSync(join(work, "bin/setfiles"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(work, "bin/setfiles"), 0o755);
    const fleet = fleetConfig();
    for (const name of venues) {
      let venue: Venue;
      try {
        venue = openVenue(name, work);
      } catch (e) {
        const why = (e as Error).message.split("\n")[0]!;
        console.log(`\n== venue ${name}: skipped — cannot set it up (${why})`);
        results.push({ name, skipped: why });
        continue;
      }
      pendingCleanups.push(venue.cleanup);
      try {
        const fs = filesystemOf(venue.dir);
        const result: VenueResult = { name, fs: describeFs(fs) };
        results.push(result);
        const slow = fs.type === "ext4" && fs.journal === false ? " — without a journal ext4 checks recently deleted inodes on every allocation: file creation can be slow" : "";
        console.log(`\n== venue ${name}: roots in ${venue.dir} (${describeFs(fs)} on ${fs.device}${slow})`);
        result.full = await compare(work, venue.dir, "fleet node", fleet, haveIgnition);
        // The same config without its passwd section: the engines' work besides the accounts.
        result.bare = await compare(work, venue.dir, "fleet node without accounts", withoutAccounts(fleet), haveIgnition);
        console.log(`  nexus-init's accounts: ${accountsShare(result)} of its wall time with accounts`);
      } finally {
        pendingCleanups.splice(pendingCleanups.indexOf(venue.cleanup), 1);
        venue.cleanup();
      }
    }
    printSummary(results);
  } finally {
    pendingCleanups.splice(pendingCleanups.indexOf(removeWork), 1);
    removeWork();
  }
}

if (import.meta.main) await main();
