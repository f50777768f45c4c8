// Crash tests of `nexus-init apply` on a directory root and a loop device: a machine-like
// target (a root directory with account databases and a 320 MiB disk image on a loop
// device), runs of apply in a process group of their own (so a kill takes the tools they
// started too), a "reboot" between a killed run and the next (what a power cut also clears:
// mounts, the kernel's view of the partitions), and a snapshot of everything provisioned —
// tree, partition table and filesystems — to compare a resumed run with an uninterrupted one.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnCollect } from "../../src/system/real.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");

/** A target: root directory, disk image, its loop device and the config naming it. */
export interface Target {
  dir: string;
  root: string;
  image: string;
  loop: string;
  configFile: string;
  config: object;
}

async function run(argv: string[]): Promise<string> {
  const r = await spawnCollect(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A config like the demo's, on `loop`: partitions, filesystems, nodes, accounts, units. */
export function crashConfig(loop: string): object {
  const data = (s: string) => `data:,${encodeURIComponent(s)}`;
  return {
    ignition: { version: "3.4.0" },
    storage: {
      disks: [
        {
          device: loop,
          wipeTable: true,
          partitions: [
            { number: 1, label: "var", sizeMiB: 64, typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
            { number: 0, label: "data", sizeMiB: 0 },
          ],
        },
      ],
      filesystems: [
        { device: `${loop}p1`, format: "ext4", label: "var", path: "/var", wipeFilesystem: true },
        { device: `${loop}p2`, format: "btrfs", label: "data" },
      ],
      directories: [
        { path: "/etc/demo", mode: 0o755 },
        { path: "/var/lib/demo", mode: 0o750, user: { name: "deploy" } },
        { path: "/opt/app", mode: 0o700, overwrite: true },
      ],
      files: [
        { path: "/etc/hostname", overwrite: true, mode: 0o644, contents: { source: data("crash-node\n") } },
        { path: "/etc/motd", mode: 0o644, contents: { source: data("Welcome, resumed or not.\n") } },
        { path: "/etc/demo/app.conf", mode: 0o640, user: { name: "core" }, group: { name: "app" }, contents: { source: data("listen = 0.0.0.0:8080\nworkers = 2\n") } },
        { path: "/etc/profile.d/demo.sh", mode: 0o644, append: [{ source: data("export DEMO_NODE=1\n") }] },
        { path: "/etc/existing.conf", append: [{ source: data("appended = yes\n") }, { source: data("twice = no\n") }] },
        { path: "/var/lib/demo/first-boot.txt", contents: { source: data("on the new ext4 /var\n") } },
        { path: "/opt/app/run.sh", mode: 0o755, contents: { source: data("#!/bin/sh\necho run\n") } },
      ],
      links: [
        { path: "/etc/demo/current.conf", target: "/etc/demo/app.conf", user: { name: "core" } },
        { path: "/etc/demo/hard.conf", target: "/etc/demo/app.conf", hard: true },
      ],
    },
    passwd: {
      groups: [{ name: "app", gid: 2000 }, { name: "wheel" }],
      users: [
        { name: "core", groups: ["wheel"], sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNyYXNoLXRlc3Qta2V5 core@crash"] },
        { name: "deploy", uid: 1500, homeDir: "/home/deploy", shell: "/bin/sh", primaryGroup: "app" },
      ],
    },
    systemd: {
      units: [
        { name: "demo.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n" },
        { name: "systemd-journald.service", dropins: [{ name: "10-demo.conf", contents: "[Service]\nEnvironment=DEMO=1\n" }] },
        { name: "debug-shell.service", mask: true },
        { name: "old.service", enabled: false },
      ],
    },
  };
}

/** A fresh target: a root with account databases and a blank disk image on a loop device. */
export async function makeTarget(base: string, name: string): Promise<Target> {
  const dir = mkdtempSync(join(base, `${name}-`));
  const root = join(dir, "root");
  for (const d of ["etc/profile.d", "etc/systemd/system/multi-user.target.wants", "home", "var", "usr/bin"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  const files: Record<string, [string, number]> = {
    "etc/passwd": ["root:x:0:0:root:/root:/bin/sh\n", 0o644],
    "etc/group": ["root:x:0:\nwheel:x:10:\n", 0o644],
    "etc/shadow": ["root:*:19000:0:99999:7:::\n", 0o600],
    "etc/gshadow": ["root:*::\nwheel:*::\n", 0o600],
    "etc/login.defs": ["USERGROUPS_ENAB yes\nUID_MIN 1000\nGID_MIN 1000\n", 0o644],
    "etc/existing.conf": ["# shipped by the image\nkept = yes\n", 0o644],
  };
  for (const [p, [text, mode]] of Object.entries(files)) writeFileSync(join(root, p), text, { mode });
  const image = join(dir, "disk.img");
  writeFileSync(image, "");
  await run(["truncate", "--size", "320M", image]);
  const loop = (await run(["losetup", "--find", "--show", image])).trim();
  const config = crashConfig(loop);
  const configFile = join(dir, "config.ign");
  writeFileSync(configFile, JSON.stringify(config));
  return { dir, root, image, loop, configFile, config };
}

/** What a process group run of apply ended with. */
export interface ApplyRun {
  code: number | null;
  signal: string | null;
  stderr: string;
  ms: number;
}

/**
 * Runs `nexus-init apply` on a target in a process group of its own; `killAfterMs` kills the
 * whole group (apply and any tool it runs) after that long, as a power cut would stop them.
 */
export async function runApply(t: Target, opts: { env?: Record<string, string>; killAfterMs?: number; config?: string; args?: string[] } = {}): Promise<ApplyRun> {
  const t0 = performance.now();
  // setsid execs in place (a child of this process leads no group) and makes apply the leader
  // of a new process group: the group's id is its pid.
  const p = Bun.spawn(["setsid", process.execPath, MAIN, "apply", "--root", t.root, ...(opts.args ?? []), opts.config ?? t.configFile], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, NEXUS_DEVICE_TIMEOUT_MS: "10000", ...opts.env },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (opts.killAfterMs !== undefined) timer = setTimeout(() => killGroup(p.pid), opts.killAfterMs);
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (timer) clearTimeout(timer);
  // Whatever the group left running (a tool apply started) is stopped too.
  killGroup(p.pid);
  const signal = p.signalCode === null ? null : String(p.signalCode);
  return { code: signal ? null : code, signal, stderr, ms: performance.now() - t0 };
}

/** SIGKILL to the process group `pgid` leads; waits until none of it is left. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // Nothing left in the group.
  }
  for (let i = 0; i < 200 && groupAlive(pgid); i++) Bun.sleepSync(10);
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number): boolean {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // Gone meanwhile.
    }
  }
  return false;
}

/** What a power cut also clears: every mount under the root, the kernel's partitions of the disk. */
export async function reboot(t: Target): Promise<void> {
  const mounts = (await spawnCollect(["findmnt", "-rn", "-o", "TARGET"])).stdout.split("\n").filter((m) => m.startsWith(t.dir + "/"));
  for (const m of mounts.sort((a, b) => b.length - a.length)) await run(["umount", m]);
  await spawnCollect(["partx", "--delete", t.loop]);
  await run(["blockdev", "--flushbufs", t.loop]);
}

/** Releases a target. */
export async function destroyTarget(t: Target): Promise<void> {
  await reboot(t).catch(() => {});
  await spawnCollect(["losetup", "--detach", t.loop]);
  rmSync(t.dir, { recursive: true, force: true });
}

/** One line per node below dir: path, type, mode, owner, and size + sha256 or link target. */
function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const rel = `${prefix}/${name}`;
    const st = lstatSync(p);
    const head = `${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.push(`${head} -> ${readlinkSync(p)}`);
    else if (st.isDirectory()) out.push(`${head} dir`, ...walk(p, rel));
    else out.push(`${head} ${st.size} ${createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16)} nlink=${st.nlink}`);
  }
  return out;
}

/** The root directory's tree as walk() lists it (the journal included). */
export function treeOf(t: Target): string[] {
  return walk(t.root);
}

/** Everything a run provisioned, comparable between targets (device names and random ids left out). */
export async function snapshot(t: Target): Promise<{ tree: string[]; var: string[]; table: string[]; filesystems: string[]; report: unknown }> {
  const tree = walk(t.root).filter((l) => !l.startsWith("/etc/.nexus-result.json "));
  const report = JSON.parse(readFileSync(join(t.root, "etc/.nexus-result.json"), "utf8")) as { outcome: string };
  const sf = JSON.parse(await run(["sfdisk", "--json", t.loop])) as { partitiontable: { partitions: { node: string; start: number; size: number; type: string; name?: string }[] } };
  const table = sf.partitiontable.partitions.map((p) => `${p.node.slice(t.loop.length)} ${p.start}+${p.size} ${p.type} ${p.name ?? ""}`);
  await spawnCollect(["partx", "--add", t.loop]);
  const filesystems: string[] = [];
  for (const n of [1, 2]) {
    const r = await spawnCollect(["blkid", "-p", "-o", "export", `${t.loop}p${n}`]);
    filesystems.push(r.stdout.split("\n").filter((l) => /^(TYPE|LABEL)=/.test(l)).sort().join(" "));
  }
  const mnt = join(t.dir, "var-ro");
  mkdirSync(mnt, { recursive: true });
  await run(["mount", "-o", "ro", `${t.loop}p1`, mnt]);
  let varTree: string[];
  try {
    varTree = walk(mnt).filter((l) => !l.startsWith("/lost+found"));
  } finally {
    await run(["umount", mnt]);
  }
  return { tree, var: varTree, table, filesystems, report: { outcome: report.outcome } };
}
