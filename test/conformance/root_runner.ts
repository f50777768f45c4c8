// Conformance runner for corpus cases that need neither block devices nor the network: the
// ROOT partition's "in" nodes are built in a temporary directory, our engine runs the stages
// upstream's harness runs (fetch, disks, mount, files, umount) in-process against it, with the
// file platform reading the case's config, and the ROOT partition's "out" nodes are compared
// as the corpus README ("How out is compared") says. Negative cases pass when the run fails.
//
// Ignition names three paths after itself; the corpus expects those names. They map to ours
// through NAME_MAP, the only translation this runner does.
//
// passwd cases: upstream replaces useradd & co with stubs, and the expected /etc/passwd, group,
// shadow and gshadow texts are the stubs' output. nexus-init writes what the real tools would
// (and runs them with --accounts=tools), so those four files are compared by meaning, by these
// rules only (see comparePasswdFile):
//   1. the same entries, by name, in the same order;
//   2. every field equal, except that a numeric id the tool chose may differ — the uid of a
//      user, the gid of a group that the config created without giving the id — provided the
//      difference is consistent: every expected reference to that id (a passwd gid field, a
//      node's owner) maps to the actual id of the same name;
//   3. the "last password change" day of an entry the tools added is today's day (the stub
//      writes a fixed day).
// Everything else (other files, modes, contents, ownership) is compared exactly.
import {
  chmodSync,
  chownSync,
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  existsSync,
  constants as C,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { runStages, type EngineResult } from "../../src/executor/engine.ts";
import { Logger } from "../../src/log/logger.ts";
import { runPathsIn } from "../../src/executor/paths.ts";
import type { StageName } from "../../src/executor/names.ts";
import { realSystem, spawnCollect } from "../../src/system/real.ts";
import type { AccountsMode } from "../../src/executor/stage.ts";
import { Root } from "../../src/system/root.ts";
import type { System } from "../../src/system/system.ts";
import { snapshotTree } from "../tree_snapshot.ts";
import { UuidPlaceholders, type CorpusCase, type CorpusNode, type CorpusPartition, type CorpusVariant, type SystemConfigFile } from "./corpus.ts";

/** Ignition's names in the corpus → ours. Applied to the end of every expected path. */
export const NAME_MAP: readonly (readonly [ignition: string, nexus: string])[] = [
  ["/etc/systemd/system-preset/20-ignition.preset", "/etc/systemd/system-preset/20-nexus.preset"],
  ["/.ssh/authorized_keys.d/ignition", "/.ssh/authorized_keys.d/nexus"],
  ["/etc/.ignition-result.json", "/etc/.nexus-result.json"],
];

/** The stages upstream's harness runs, in order. */
export const HARNESS_STAGES: readonly StageName[] = ["fetch", "disks", "mount", "files", "umount"];

/** The process umask upstream's harness creates the in state with. */
const UMASK = 0o022;

/** The four account databases compared by meaning in passwd cases. */
const ACCOUNT_FILES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"] as const;

/** Cases this runner covers. */
export function isRootCase(c: CorpusCase): boolean {
  return !c.requirements.needsBlockDevices && !c.requirements.needsNetwork;
}

/** Our path for an expected path of the corpus. */
export function mapPath(path: string): string {
  for (const [from, to] of NAME_MAP) if (path.endsWith(from)) return path.slice(0, path.length - from.length) + to;
  return path;
}

/** A variant's verdict with what went wrong. */
export interface VariantOutcome {
  passed: boolean;
  detail: string;
}

/** The ROOT partition of the first disk that has one, with that disk's index. */
function rootPartition(disks: readonly { partitions: CorpusPartition[] }[]): { disk: number; part: CorpusPartition } | null {
  for (let i = 0; i < disks.length; i++) {
    const part = disks[i]!.partitions.find((p) => p.label === "ROOT" && !p.blank);
    if (part) return { disk: i, part };
  }
  return null;
}

/** Opens for create and write without truncation, umask applied, and writes at offset 0. */
function writeNoTrunc(path: string, mode: number, contents: string | null): void {
  const fd = openSync(path, C.O_WRONLY | C.O_CREAT, mode & ~UMASK);
  try {
    if (contents !== null) {
      const bytes = Buffer.from(contents);
      writeSync(fd, bytes, 0, bytes.length, 0);
    }
  } finally {
    closeSync(fd);
  }
}

/** Builds a partition's in nodes as upstream does: directories, then files, then links. */
export function buildInNodes(root: string, part: CorpusPartition): void {
  const host = (p: string) => join(root, p);
  const parent = (p: string) => mkdirSync(dirname(host(p)), { recursive: true, mode: 0o755 });
  for (const d of part.directories) {
    parent(d.path);
    mkdirSync(host(d.path), { recursive: true });
    chmodSync(host(d.path), (d.mode ?? 0) & ~UMASK);
  }
  for (const f of part.files) {
    parent(f.path);
    writeNoTrunc(host(f.path), f.mode ?? 0, f.contents ?? null);
    chownSync(host(f.path), f.uid ?? 0, f.gid ?? 0);
  }
  for (const l of part.links) {
    parent(l.path);
    if (l.hard) linkSync(host(l.target ?? ""), host(l.path));
    else symlinkSync(l.target ?? "", host(l.path));
  }
}

/**
 * What upstream prepares in the root when the config mentions passwd, plus the one file every
 * real target OS has and upstream's tool stubs emulate: /etc/login.defs with per-user groups
 * (USERGROUPS_ENAB), which useradd/userdel (and nexus-init's model of them) read from the root.
 */
export function preparePasswdRoot(root: string): void {
  for (const d of ["home", "usr/bin", "usr/sbin", "usr/lib64", "etc"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  if (!existsSync(join(root, "etc/login.defs"))) {
    writeFileSync(join(root, "etc/login.defs"), "USERGROUPS_ENAB yes\nUID_MIN 1000\nGID_MIN 1000\n", { mode: 0o644 });
  }
  for (const [link, target] of [["lib64", "usr/lib64"], ["bin", "usr/bin"], ["sbin", "usr/sbin"]] as const) {
    try {
      symlinkSync(target, join(root, link));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** Writes the case's system config files under <work>/system, system-runtime, system-local. */
export function writeSystemConfigFiles(work: string, files: CorpusCase["systemConfigFiles"], uuids: UuidPlaceholders): Record<string, string> {
  const dirs = { system: join(work, "system"), systemRuntime: join(work, "system-runtime"), systemLocal: join(work, "system-local") };
  for (const [key, dir] of Object.entries(dirs) as [keyof typeof dirs, string][]) {
    for (const f of files[key] as SystemConfigFile[]) {
      const path = join(dir, f.path);
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      writeNoTrunc(path, f.mode, f.contents === null ? null : uuids.render(f.contents));
      chownSync(path, f.uid, f.gid);
    }
  }
  return dirs;
}

/** The environment the engine's System sees for a case (plus runner-specific extras). */
export function caseEnv(
  c: CorpusCase,
  work: string,
  dirs: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    IGNITION_SYSTEM_CONFIG_DIR: dirs.system,
    IGNITION_SYSTEM_RUNTIME_CONFIG_DIR: dirs.systemRuntime,
    IGNITION_SYSTEM_LOCAL_CONFIG_DIR: dirs.systemLocal,
    IGNITION_CONFIG_FILE: join(work, "config.ign"),
    NEXUS_PATH_RUN_DIR: join(work, "run"),
    // A config device that is not there fails after this wait (boot default: 30 s).
    NEXUS_CONFIG_DEVICE_WAIT: "2",
    ...extra,
  };
  for (const entry of c.env) {
    const eq = entry.indexOf("=");
    env[entry.slice(0, eq)] = entry.slice(eq + 1).replaceAll("$SYSTEM_CONFIG_DIR", dirs.system!);
  }
  // The host's kernel command line must not leak in: an empty one unless the case gives its own.
  if (env.IGNITION_KERNEL_CMDLINE_PATH === undefined) {
    env.NEXUS_PATH_CMDLINE = join(work, "cmdline");
    writeFileSync(env.NEXUS_PATH_CMDLINE, "");
  }
  return env;
}

/** A variant's root built under work, its config written and the System the engine sees. */
interface PreparedVariant {
  root: string;
  configText: string;
  inRoot: { disk: number; part: CorpusPartition };
  system: System;
}

/**
 * Builds a variant's ROOT partition at root (its in nodes, and upstream's passwd preparation
 * when the config mentions passwd), writes its config and system config files under work.
 * Null when the case has no ROOT partition.
 */
function prepareVariant(v: CorpusVariant, work: string, roots: readonly string[], extraEnv: Record<string, string> = {}): Omit<PreparedVariant, "root"> | null {
  const uuids = new UuidPlaceholders();
  const configText = uuids.render(v.config);
  const inRoot = rootPartition(v.case.in);
  if (!inRoot) return null;
  for (const root of roots) {
    mkdirSync(root, { mode: 0o755 });
    buildInNodes(root, inRoot.part);
    if (configText.includes("passwd")) preparePasswdRoot(root);
  }
  const dirs = writeSystemConfigFiles(work, v.case.systemConfigFiles, uuids);
  writeFileSync(join(work, "config.ign"), configText);
  const system: System = { ...realSystem(), env: caseEnv(v.case, work, dirs, extraEnv) };
  return { configText, inRoot, system };
}

/** Runs the harness stages of a prepared variant on one root, accounts written one way. */
function runPrepared(root: string, system: System, runDir: string, lines: string[], accounts: AccountsMode, report = true): Promise<EngineResult> {
  return runStages(HARNESS_STAGES, {
    root,
    platform: "file",
    system,
    log: new Logger((l) => lines.push(l)),
    paths: runPathsIn(runDir),
    configSource: "file:config.ign",
    persistState: false,
    report,
    accounts,
  });
}

/** Runs one variant end to end. */
export async function runRootVariant(v: CorpusVariant): Promise<VariantOutcome> {
  const work = mkdtempSync(join(tmpdir(), "nexus-conf-"));
  chmodSync(work, 0o755);
  const lines: string[] = [];
  try {
    const root = join(work, "root");
    const p = prepareVariant(v, work, [root]);
    if (!p) return { passed: false, detail: "the case has no ROOT partition" };
    const result = await runPrepared(root, p.system, join(work, "run"), lines, "native");
    if (v.case.kind === "negative" || !result.ok) return verdict(v, result, lines);
    const outRoot = v.case.out[p.inRoot.disk]?.partitions.find((x) => x.label === "ROOT" && !x.blank);
    if (!outRoot) return { passed: true, detail: "" };
    const problems = compareRoot(Root.open(root), outRoot, p.inRoot.part, p.configText);
    return { passed: problems.length === 0, detail: problems.join("\n") };
  } catch (e) {
    return { passed: false, detail: `runner error: ${(e as Error).stack ?? e}\n${lines.slice(-20).join("\n")}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * An account case run both ways on identically built roots: natively, and by shadow's real
 * tools with --root (`--accounts=tools`, what current upstream Ignition runs). Passes when both
 * succeed and leave byte-identical trees (every node's type, mode, owner, contents), or both
 * fail and the native run left its root as it was built. The tools' root has /proc mounted for
 * useradd's skeleton copy (see files_passwd.property.test.ts); both roots get an empty /proc.
 */
export async function runAccountsBothWays(v: CorpusVariant): Promise<VariantOutcome> {
  const work = mkdtempSync(join(tmpdir(), "nexus-conf-accounts-"));
  chmodSync(work, 0o755);
  const lines: string[] = [];
  const epoch = String(Math.floor(Date.now() / 1000));
  const savedEpoch = process.env.SOURCE_DATE_EPOCH;
  // The tools read SOURCE_DATE_EPOCH from the environment they inherit: both ways get one day.
  process.env.SOURCE_DATE_EPOCH = epoch;
  const roots = { native: join(work, "native"), tools: join(work, "tools") };
  try {
    const p = prepareVariant(v, work, [roots.native, roots.tools], { SOURCE_DATE_EPOCH: epoch });
    if (!p) return { passed: false, detail: "the case has no ROOT partition" };
    for (const r of Object.values(roots)) mkdirSync(join(r, "proc"), { recursive: true });
    const before = snapshotTree(roots.native, ["/proc"]);
    const mounted = await spawnCollect(["mount", "-t", "proc", "proc", join(roots.tools, "proc")]);
    if (mounted.code !== 0) return { passed: false, detail: `cannot mount /proc in the tools' root: ${mounted.stderr}` };
    let tools: EngineResult;
    try {
      tools = await runPrepared(roots.tools, p.system, join(work, "run-tools"), lines, "tools", false);
    } finally {
      await spawnCollect(["umount", join(roots.tools, "proc")]);
    }
    const native = await runPrepared(roots.native, p.system, join(work, "run-native"), lines, "native", false);
    const nativeTree = snapshotTree(roots.native, ["/proc"]);
    if (!tools.ok) {
      if (native.ok) return { passed: false, detail: `the tools failed (${tools.error}) but the native way succeeded` };
      const changed = diffLines(before, nativeTree);
      return changed.length === 0
        ? { passed: true, detail: `both refused: ${native.error}` }
        : { passed: false, detail: `a failed native run changed the root:\n${changed.join("\n")}` };
    }
    if (!native.ok) return { passed: false, detail: `native failed (${native.error}) but the tools succeeded\n${lines.slice(-15).join("\n")}` };
    const differences = diffLines(snapshotTree(roots.tools, ["/proc"]), nativeTree);
    return { passed: differences.length === 0, detail: `tools (-) vs native (+):\n${differences.join("\n")}` };
  } catch (e) {
    return { passed: false, detail: `runner error: ${(e as Error).stack ?? e}\n${lines.slice(-20).join("\n")}` };
  } finally {
    if (savedEpoch === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = savedEpoch;
    rmSync(work, { recursive: true, force: true });
  }
}

/** Lines only in a ("- ") or only in b ("+ "). */
function diffLines(a: readonly string[], b: readonly string[]): string[] {
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)];
}

function verdict(v: CorpusVariant, r: EngineResult, lines: string[]): VariantOutcome {
  if (v.case.kind === "negative") {
    return r.ok ? { passed: false, detail: "expected failure and the engine succeeded" } : { passed: true, detail: `failed as expected: ${r.error}` };
  }
  return { passed: false, detail: `stage ${r.failedStage} failed: ${r.error}\n${lines.slice(-15).join("\n")}` };
}

/** Days since the epoch today (UTC), as shadow counts them. */
const today = (): number => Math.floor(Date.now() / 86_400_000);

/** Name → id of an account file's entries (passwd: uid, group: gid). */
function idsByName(text: string | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] !== "" && Number.isInteger(Number(f[2]))) m.set(f[0]!, Number(f[2]));
  }
  return m;
}

/** Names of accounts in the config whose ids it leaves to the tools. */
function toolChosen(configText: string): { users: Set<string>; groups: Set<string> } {
  const users = new Set<string>();
  const groups = new Set<string>();
  const parsed = parseConfig(configText);
  if (parsed.ok) {
    for (const u of parsed.config.passwd?.users ?? []) {
      if (u.uid === null || u.uid === undefined) users.add(u.name ?? "");
      // useradd's user group takes its gid from the tool too.
      groups.add(u.name ?? "");
    }
    for (const g of parsed.config.passwd?.groups ?? []) if (g.gid === null || g.gid === undefined) groups.add(g.name ?? "");
  }
  return { users, groups };
}

/** Expected → actual id maps for ids the tools chose (rule 2). */
interface IdMaps {
  uid: Map<number, number>;
  gid: Map<number, number>;
}

function buildIdMaps(expected: Map<string, string>, root: Root, inPart: CorpusPartition, configText: string): IdMaps {
  const chosen = toolChosen(configText);
  const inText = (p: string) => inPart.files.find((f) => f.path === p)?.contents ?? null;
  const build = (path: string, names: Set<string>): Map<number, number> => {
    const m = new Map<number, number>();
    const before = idsByName(inText(path));
    const exp = idsByName(expected.get(path) ?? null);
    const act = idsByName(root.readFile(path)?.toString("utf8") ?? null);
    for (const [name, id] of exp) {
      const a = act.get(name);
      if (a !== undefined && !before.has(name) && names.has(name)) m.set(id, a);
    }
    return m;
  };
  return { uid: build("/etc/passwd", chosen.users), gid: build("/etc/group", chosen.groups) };
}

const mapId = (m: Map<number, number>, id: number): number => m.get(id) ?? id;

/** Compares one account database by meaning (rules 1–3); returns the differences. */
function comparePasswdFile(path: string, expected: string, actual: string | null, inText: string | null, maps: IdMaps): string[] {
  if (actual === null) return [`${path}: missing`];
  const rows = (t: string) => t.split("\n").filter((l) => l !== "").map((l) => l.split(":"));
  const exp = rows(expected);
  const act = rows(actual);
  const before = new Set(rows(inText ?? "").map((f) => f[0]));
  if (exp.map((f) => f[0]).join(",") !== act.map((f) => f[0]).join(",")) {
    return [`${path}: entries differ:\n  expected ${exp.map((f) => f[0]).join(",")}\n  actual   ${act.map((f) => f[0]).join(",")}`];
  }
  const out: string[] = [];
  exp.forEach((e, i) => {
    const a = act[i]!;
    const added = !before.has(e[0]);
    const want = [...e];
    if (path === "/etc/passwd") {
      want[2] = String(mapId(maps.uid, Number(e[2])));
      want[3] = String(mapId(maps.gid, Number(e[3])));
    } else if (path === "/etc/group") {
      want[2] = String(mapId(maps.gid, Number(e[2])));
    } else if (path === "/etc/shadow" && added && a[2] !== undefined && Math.abs(Number(a[2]) - today()) <= 1) {
      want[2] = a[2];
    }
    if (want.join(":") !== a.join(":")) out.push(`${path}: entry ${e[0]}: expected ${e.join(":")}, got ${a.join(":")}`);
  });
  return out;
}

/** Compares a partition's out nodes with the root; returns every difference. */
export function compareRoot(root: Root, out: CorpusPartition, inPart: CorpusPartition, configText: string): string[] {
  const problems: string[] = [];
  const passwdCase = configText.includes("passwd");
  const expectedAccounts = new Map<string, string>();
  if (passwdCase) for (const f of out.files) if ((ACCOUNT_FILES as readonly string[]).includes(f.path) && f.contents !== null && f.contents !== undefined) expectedAccounts.set(f.path, f.contents);
  const maps: IdMaps = passwdCase ? buildIdMaps(expectedAccounts, root, inPart, configText) : { uid: new Map(), gid: new Map() };
  const checkOwner = (n: CorpusNode, path: string) => {
    const st = root.lstat(path)!;
    const want = [mapId(maps.uid, n.uid ?? 0), mapId(maps.gid, n.gid ?? 0)];
    if (st.uid !== want[0] || st.gid !== want[1]) problems.push(`${path}: owner ${st.uid}:${st.gid}, expected ${want[0]}:${want[1]}`);
  };
  const checkMode = (n: CorpusNode, path: string) => {
    const mode = root.lstat(path)!.mode & 0o7777;
    if (n.mode && mode !== n.mode) problems.push(`${path}: mode 0${mode.toString(8)}, expected 0${n.mode.toString(8)}`);
  };
  for (const f of out.files) {
    const path = mapPath(f.path);
    if (!root.lstat(path)) {
      problems.push(`${path}: missing file`);
      continue;
    }
    if (f.contents !== null && f.contents !== undefined) {
      const actual = root.readFile(path)?.toString("utf8") ?? null;
      if (expectedAccounts.has(f.path)) {
        const inText = inPart.files.find((x) => x.path === f.path)?.contents ?? null;
        problems.push(...comparePasswdFile(f.path, f.contents, actual, inText, maps));
      } else if (actual !== f.contents) {
        problems.push(`${path}: contents ${JSON.stringify(actual)}, expected ${JSON.stringify(f.contents)}`);
      }
    }
    checkMode(f, path);
    checkOwner(f, path);
  }
  for (const d of out.directories) {
    const path = mapPath(d.path);
    const st = root.lstat(path);
    if (!st?.isDirectory()) {
      problems.push(`${path}: ${st ? "not a directory" : "missing directory"}`);
      continue;
    }
    checkMode(d, path);
    checkOwner(d, path);
  }
  for (const l of out.links) {
    const path = mapPath(l.path);
    const st = root.lstat(path);
    if (!st) {
      problems.push(`${path}: missing link`);
      continue;
    }
    if (l.hard) {
      const target = root.lstat(l.target ?? "");
      if (!target || target.ino !== st.ino || target.dev !== st.dev) problems.push(`${path}: not a hard link to ${l.target}`);
    } else if (!st.isSymbolicLink() || root.readlink(path) !== l.target) {
      problems.push(`${path}: expected a symlink to ${l.target}`);
    }
    checkOwner(l, path);
  }
  for (const r of out.removedNodes) {
    const path = mapPath(r.path);
    if (root.lstat(path)) problems.push(`${path}: should not exist`);
  }
  return problems;
}
