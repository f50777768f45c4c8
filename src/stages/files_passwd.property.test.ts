// Property test: random account configs applied to identically seeded roots both ways — natively
// and by shadow's real tools with --root (`--accounts=tools`) — must leave byte-identical trees:
// every path, its type, mode, owner, contents and link target, the account databases and their
// "-" backups, /etc/.pwd.lock, homes and skeleton copies. When the tools fail, the native way
// must fail too and leave the root exactly as seeded.
//
// Seeded and reproducible: the seed is printed; PROPERTY_SEED=N reruns one sequence,
// PROPERTY_CASES=N sets how many cases (default 30).
//
// The tools root gets /proc mounted for the tools' sake: Debian's glibc 2.36 implements
// fchmodat(AT_SYMLINK_NOFOLLOW), which useradd uses to copy skeleton directories, through
// /proc/self/fd, so inside a chroot without /proc useradd stops copying at the first
// subdirectory (newer glibc on kernels with fchmodat2 need no /proc). Both roots have an empty
// /proc directory, so the trees compare equal.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config, Group, User } from "../config/types.ts";
import { runStages } from "../executor/engine.ts";
import { runPathsIn } from "../executor/paths.ts";
import { Logger } from "../log/logger.ts";
import { realSystem, spawnCollect } from "../system/real.ts";
import { snapshotTree } from "../../test/tree_snapshot.ts";

/** The tree of a root; /proc (mounted for the tools) is not entered. */
const snapshot = (dir: string) => snapshotTree(dir, ["/proc"]);

const CASES = Number(process.env.PROPERTY_CASES ?? 30);
const SEED = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, fast, good enough for test data. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    some: <T>(xs: readonly T[], p: number): T[] => xs.filter(() => next() < p),
  };
}
type Rng = ReturnType<typeof rng>;

// A tmpfs when there is one: the cases create and delete many small files, which an ext4
// without a journal (the /tmp of some VMs) makes slow for reasons unrelated to this test.
const base = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "nexus-accounts-prop-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The accounts a seeded root starts with. */
interface Seeded {
  users: { name: string; uid: number; gid: number; home: string }[];
  groups: { name: string; gid: number; members: string[] }[];
}

/** Seeds a root: databases, login.defs, useradd defaults, skeleton, homes, login logs. */
function seedRoot(root: string, r: Rng): Seeded {
  const w = (p: string, text: string | Uint8Array, mode = 0o644, uid = 0, gid = 0) => {
    mkdirSync(join(root, p, ".."), { recursive: true });
    writeFileSync(join(root, p), text, { mode });
    chownSync(join(root, p), uid, gid);
  };
  mkdirSync(join(root, "proc"), { recursive: true });
  mkdirSync(join(root, "home"), { recursive: true });
  mkdirSync(join(root, "var/mail"), { recursive: true });
  const users = [
    { name: "root", uid: 0, gid: 0, home: "/root" },
    { name: "daemon", uid: 1, gid: 1, home: "/usr/sbin" },
    { name: "mail", uid: 8, gid: 8, home: "/var/mail" },
    { name: "core", uid: 1000, gid: 1000, home: "/home/core" },
  ];
  if (r.chance(0.6)) users.push({ name: "dev", uid: r.pick([1001, 1005, 1500, 2000]), gid: 1000, home: "/home/dev" });
  if (r.chance(0.4)) users.push({ name: "oldsys", uid: r.pick([998, 999, 500]), gid: 65534, home: "/nonexistent" });
  const groups = [
    { name: "root", gid: 0, members: [] as string[] },
    { name: "daemon", gid: 1, members: [] },
    { name: "mail", gid: 8, members: [] },
    { name: "wheel", gid: 10, members: ["core"] },
    { name: "shadow", gid: 42, members: [] },
    { name: "users", gid: 100, members: r.some(["core", "dev"], 0.5) },
    { name: "core", gid: 1000, members: [] },
    { name: "nogroup", gid: 65534, members: [] },
  ];
  if (r.chance(0.5)) groups.push({ name: "docker", gid: r.pick([999, 1200, 2500]), members: r.some(["core", "dev", "root"], 0.5) });
  const nis = r.chance(0.15);
  const shells = ["/bin/bash", "/bin/sh", "/usr/sbin/nologin"];
  const pwField = (u: { name: string }) => (u.name === "oldsys" && r.chance(0.5) ? "*" : "x");
  w("etc/passwd", users.map((u) => `${u.name}:${pwField(u)}:${u.uid}:${u.gid}:${u.name === "core" ? "Core User" : u.name}:${u.home}:${r.pick(shells)}\n`).join("") + (nis ? "+::::::\n" : ""));
  w("etc/group", groups.map((g) => `${g.name}:x:${g.gid}:${g.members.join(",")}\n`).join("") + (nis ? "+:::\n" : ""));
  if (r.chance(0.9)) {
    const days = (u: { name: string }) => (u.name === "core" ? "19000:0:99999:7:::" : "19000::::::");
    const shadowed = users.filter((u) => u.name !== "dev" || r.chance(0.7));
    w("etc/shadow", shadowed.map((u) => `${u.name}:${u.name === "core" ? "$6$old" : "*"}:${days(u)}\n`).join(""), r.pick([0o640, 0o600, 0o000]), 0, r.pick([0, 42]));
  }
  if (r.chance(0.85)) {
    const admins = (g: { name: string }) => (g.name === "wheel" && r.chance(0.5) ? "core" : "");
    const listed = groups.filter((g) => g.name !== "docker" || r.chance(0.7));
    w("etc/gshadow", listed.map((g) => `${g.name}:*:${admins(g)}:${g.members.join(",")}\n`).join(""), r.pick([0o640, 0o600]), 0, r.pick([0, 42]));
  }
  if (r.chance(0.7)) {
    const pre = r.chance(0.5) ? "core:100000:65536\n" : "";
    w("etc/subuid", pre + (r.chance(0.3) ? "dev:300000:65536\n" : ""));
    w("etc/subgid", pre);
  }
  const defs = [
    "MAIL_DIR /var/mail",
    `UMASK ${r.pick(["022", "077", "027"])}`,
    r.chance(0.4) ? `HOME_MODE ${r.pick(["0700", "0750"])}` : "",
    `PASS_MAX_DAYS ${r.pick(["99999", "90"])}`,
    "PASS_MIN_DAYS 0",
    "PASS_WARN_AGE 7",
    `UID_MIN ${r.pick(["1000", "1000", "2000"])}`,
    "UID_MAX 60000",
    `GID_MIN ${r.pick(["1000", "1000", "1100"])}`,
    "GID_MAX 60000",
    r.chance(0.5) ? `SYS_UID_MIN ${r.pick(["101", "201"])}` : "",
    r.chance(0.5) ? "SYS_UID_MAX 999" : "",
    r.chance(0.5) ? `SYS_GID_MIN ${r.pick(["101", "201"])}` : "",
    r.chance(0.3) ? `SUB_UID_MIN ${r.pick(["100000", "200000"])}` : "",
    r.chance(0.3) ? `SUB_UID_COUNT ${r.pick(["65536", "1000"])}` : "",
    r.chance(0.85) ? "USERGROUPS_ENAB yes" : "USERGROUPS_ENAB no",
    r.chance(0.5) ? "CREATE_HOME yes" : "",
  ].filter(Boolean);
  w("etc/login.defs", defs.join("\n") + "\n");
  if (r.chance(0.8)) {
    const lines = [`SHELL=${r.pick(["/bin/sh", "/bin/bash"])}`];
    if (r.chance(0.3)) lines.push(`GROUP=${r.pick(["100", "users", "nogroup"])}`);
    if (r.chance(0.2)) lines.push("CREATE_MAIL_SPOOL=yes");
    if (r.chance(0.2)) lines.push("INACTIVE=30");
    if (r.chance(0.2)) lines.push("HOME=/srv/homes");
    w("etc/default/useradd", lines.join("\n") + "\n");
  }
  if (r.chance(0.85)) {
    w("etc/skel/.bashrc", "# bashrc\n");
    w("etc/skel/.profile", "# profile\n", 0o600);
    if (r.chance(0.6)) w("etc/skel/.config/app/settings", "x=1\n", 0o640);
    if (r.chance(0.5)) symlinkSync("/etc/skel/.bashrc", join(root, "etc/skel/.bashrc-link"));
    if (r.chance(0.3)) symlinkSync(".profile", join(root, "etc/skel/rel-link"));
    if (r.chance(0.3)) linkSync(join(root, "etc/skel/.bashrc"), join(root, "etc/skel/.bashrc.hard"));
  }
  if (r.chance(0.3)) {
    w("var/log/lastlog", new Uint8Array(292 * 1100), 0o664, 0, 43);
    w("var/log/faillog", new Uint8Array(32 * 1003).fill(1), 0o644);
  }
  for (const u of users.filter((x) => x.home.startsWith("/home/"))) {
    mkdirSync(join(root, u.home), { recursive: true });
    chownSync(join(root, u.home), u.uid, u.gid);
    w(`${u.home.slice(1)}/notes`, "mine\n", 0o600, u.uid, u.gid);
    if (r.chance(0.5)) w(`${u.home.slice(1)}/shared`, "x\n", 0o644, 0, u.gid);
  }
  if (r.chance(0.3)) w("var/mail/core", "", 0o660, 1000, 8);
  if (r.chance(0.2)) {
    // A home that already exists for a user the config adds: useradd copies no skeleton into it.
    mkdirSync(join(root, "home/alice"), { recursive: true });
    w("home/alice/kept", "x\n");
  }
  if (r.chance(0.2)) w("var/mail/dev", "", 0o660, 1001, 8);
  return { users, groups };
}

const NEW_NAMES = ["alice", "bob", "carol", "svc1", "svc2", "erin", "jürgen"];
const NEW_GROUPS = ["ops", "build", "audit", "sysg"];

/** A random passwd section against the seeded accounts. */
function randomPasswd(r: Rng, s: Seeded): { groups: Group[]; users: User[] } {
  const groups: Group[] = [];
  // Fixed ids mostly distinct (a few collide on purpose: both ways must refuse those).
  const gid = (k: number) => (r.chance(0.05) ? 1500 : 1500 + 100 * k + r.int(0, 9));
  NEW_GROUPS.forEach((name, k) => {
    if (!r.chance(0.5)) return;
    const g: Group = { name };
    if (r.chance(0.4)) g.gid = gid(k);
    if (r.chance(0.3)) g.system = true;
    if (r.chance(0.3)) g.passwordHash = r.pick(["$6$grp", ""]);
    groups.push(g);
  });
  r.some(s.groups.filter((x) => !["root", "shadow"].includes(x.name)), 0.2).forEach((g, k) => {
    if (r.chance(0.4) && !s.users.some((u) => u.gid === g.gid)) groups.push({ name: g.name, shouldExist: false });
    else groups.push({ name: g.name, ...(r.chance(0.5) ? { gid: gid(k + 6) } : {}), ...(r.chance(0.4) ? { passwordHash: "$6$mod" } : {}) });
  });
  if (r.chance(0.2)) groups.push({ name: "ghost", shouldExist: false });
  const deleted = new Set(groups.filter((g) => g.shouldExist === false).map((g) => g.name!));
  const groupNames = [...s.groups.map((g) => g.name), ...groups.filter((g) => g.shouldExist !== false).map((g) => g.name!)].filter(
    (n) => !deleted.has(n) || r.chance(0.05),
  );
  const users: User[] = [];
  for (const name of r.some(NEW_NAMES, 0.5)) {
    const u: User = { name };
    if (r.chance(0.4)) u.uid = r.chance(0.05) ? 1000 : r.pick([1100, 1200, 2500, 3000, 450]) + NEW_NAMES.indexOf(name);
    if (r.chance(0.3)) u.system = true;
    if (r.chance(0.2)) u.noCreateHome = true;
    if (r.chance(0.2)) u.noUserGroup = true;
    if (r.chance(0.2)) u.primaryGroup = r.chance(0.2) ? r.pick(["1000", "100", "10"]) : r.pick(groupNames);
    if (r.chance(0.4)) u.groups = r.some(groupNames.filter((g) => g !== name), 0.3);
    if (r.chance(0.2)) u.homeDir = r.pick([`/srv/${name}`, `/home/x/${name}`, `/home/${name}`, `/srv/${name}/`]);
    if (r.chance(0.3)) u.shell = r.pick(["/bin/zsh", "/bin/bash"]);
    if (r.chance(0.3)) u.gecos = r.pick(["Service account", "A. Person"]);
    if (r.chance(0.4)) u.passwordHash = r.pick(["$6$abc$def", ""]);
    if (r.chance(0.2)) u.noLogInit = true;
    if (r.chance(0.4)) u.sshAuthorizedKeys = [`ssh-ed25519 AAAA${name}`];
    users.push(u);
  }
  for (const e of r.some(s.users.filter((x) => x.name !== "root"), 0.4)) {
    if (r.chance(0.3)) {
      users.push({ name: e.name, shouldExist: false });
      continue;
    }
    const u: User = { name: e.name };
    if (r.chance(0.3)) u.uid = r.pick([1300, 1400, e.uid]);
    if (r.chance(0.3)) u.primaryGroup = r.pick(groupNames);
    if (r.chance(0.3)) u.groups = [...r.some(groupNames, 0.3), ...(r.chance(0.2) ? ["10"] : [])];
    if (r.chance(0.2)) u.homeDir = r.pick([`/home/${e.name}2`, e.home, `/srv/${e.name}`, `/home/${e.name}3/`]);
    if (r.chance(0.3)) u.shell = "/bin/zsh";
    if (r.chance(0.3)) u.gecos = "Changed";
    if (r.chance(0.4)) u.passwordHash = r.pick(["$6$new", ""]);
    if (r.chance(0.3)) u.sshAuthorizedKeys = ["ssh-rsa AAAAkey"];
    users.push(u);
  }
  return { groups, users };
}

/** Applies the config's files stage to a root one way; ok and the log. */
async function apply(root: string, work: string, config: Config, accounts: "native" | "tools", epoch: string) {
  const lines: string[] = [];
  const system = realSystem({ PATH: process.env.PATH, SOURCE_DATE_EPOCH: epoch });
  const r = await runStages(["files"], {
    root,
    platform: "file",
    system,
    log: new Logger((l) => lines.push(l)),
    paths: runPathsIn(work),
    config,
    configSource: "property-test",
    persistState: false,
    report: false,
    accounts,
  });
  return { ok: r.ok, error: r.error, lines };
}

describe("accounts written natively equal shadow's tools (property)", () => {
  test(`${CASES} random configs on seeded roots give byte-identical trees (seed ${SEED})`, async () => {
    console.log(`accounts property test: PROPERTY_SEED=${SEED} PROPERTY_CASES=${CASES}`);
    // The tools read SOURCE_DATE_EPOCH from the environment they inherit: both ways get one day.
    const epoch = String(Math.floor(Date.now() / 1000));
    const savedEpoch = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = epoch;
    let bothFailed = 0;
    try {
      for (let i = 0; i < CASES; i++) {
        const caseSeed = (SEED + i * 7919) >>> 0;
        const dir = join(base, `case-${i}`);
        const roots = { native: join(dir, "native"), tools: join(dir, "tools") };
        let seeded: Seeded | null = null;
        for (const root of Object.values(roots)) seeded = seedRoot(root, rng(caseSeed));
        const passwd = randomPasswd(rng(caseSeed ^ 0x5bd1e995), seeded!);
        const config = { ignition: { version: "3.6.0" }, passwd } as Config;
        const label = `case ${i} (PROPERTY_SEED=${SEED}, case seed ${caseSeed}): ${JSON.stringify(passwd)}`;
        const before = snapshot(roots.native);
        mkdirSync(join(dir, "run-native"));
        mkdirSync(join(dir, "run-tools"));
        const mounted = await spawnCollect(["mount", "-t", "proc", "proc", join(roots.tools, "proc")]);
        expect(mounted.code, mounted.stderr).toBe(0);
        let tools: Awaited<ReturnType<typeof apply>>;
        try {
          tools = await apply(roots.tools, join(dir, "run-tools"), config, "tools", epoch);
        } finally {
          await spawnCollect(["umount", join(roots.tools, "proc")]);
        }
        const native = await apply(roots.native, join(dir, "run-native"), config, "native", epoch);
        if (!tools.ok) {
          expect(native.ok, `${label}\nthe tools failed (${tools.error}) but the native way succeeded`).toBe(false);
          expect(snapshot(roots.native), `${label}\na failed native run changed the root: ${native.error}`).toEqual(before);
          bothFailed++;
          if (process.env.PROPERTY_VERBOSE) console.log(`case ${i}: both refused: ${tools.error}`);
        } else {
          expect(native.ok, `${label}\nnative failed: ${native.error}\n${native.lines.slice(-8).join("\n")}`).toBe(true);
          expect(snapshot(roots.native), label).toEqual(snapshot(roots.tools));
        }
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      if (savedEpoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = savedEpoch;
    }
    console.log(`accounts property test: ${CASES} cases, ${CASES - bothFailed} applied both ways, ${bothFailed} refused both ways`);
  }, 600_000);
});
