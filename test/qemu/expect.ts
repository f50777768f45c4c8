// Checks a provisioned root, mounted on the host, against the config that provisioned it:
// every file (contents from data: URLs, mode, owner), directory, link, user, group, SSH key,
// unit, dropin, mask and preset the config asks for. Expectations come from the config
// itself, so the same walk serves every scenario and `make demo`'s summary.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";

/** The slice of an Ignition config (any 3.x) these checks read. */
export interface CheckedConfig {
  storage?: {
    filesystems?: { device: string; path?: string | null; format?: string | null; label?: string | null }[];
    files?: {
      path: string;
      mode?: number | null;
      contents?: { source?: string | null; compression?: string | null } | null;
      append?: { source?: string | null; compression?: string | null }[];
      user?: { id?: number | null; name?: string | null } | null;
      group?: { id?: number | null; name?: string | null } | null;
    }[];
    directories?: { path: string; mode?: number | null }[];
    links?: { path: string; target: string; hard?: boolean | null }[];
  };
  passwd?: {
    users?: { name: string; uid?: number | null; homeDir?: string | null; shell?: string | null; groups?: string[]; sshAuthorizedKeys?: string[]; shouldExist?: boolean | null }[];
    groups?: { name: string; gid?: number | null; shouldExist?: boolean | null }[];
  };
  systemd?: {
    units?: { name: string; enabled?: boolean | null; mask?: boolean | null; contents?: string | null; dropins?: { name: string; contents?: string | null }[] }[];
  };
}

/** One checked expectation. */
export interface Finding {
  ok: boolean;
  kind: "file" | "directory" | "link" | "user" | "group" | "ssh-key" | "unit" | "dropin" | "mask" | "preset";
  target: string;
  detail: string;
}

/** Maps a path of the target system to where it is mounted on the host. */
export type HostPath = (targetPath: string) => string;

/** A HostPath for a root directory plus filesystems mounted at config paths (longest prefix wins). */
export function hostPathFor(rootDir: string, mounts: Record<string, string> = {}): HostPath {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  return (p) => {
    for (const m of prefixes) {
      if (p === m || p.startsWith(m.endsWith("/") ? m : m + "/")) return join(mounts[m]!, p.slice(m.length));
    }
    return join(rootDir, p);
  };
}

/** Decodes a data: URL to bytes; null for any other scheme. */
export function decodeDataUrl(url: string): Uint8Array | null {
  if (!url.startsWith("data:")) return null;
  const comma = url.indexOf(",");
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const bytes: number[] = [];
  const utf8 = new TextEncoder().encode(payload);
  for (let i = 0; i < utf8.length; i++) {
    if (utf8[i] === 0x25 && i + 2 < utf8.length) {
      bytes.push(parseInt(String.fromCharCode(utf8[i + 1]!, utf8[i + 2]!), 16));
      i += 2;
    } else bytes.push(utf8[i]!);
  }
  const raw = Uint8Array.from(bytes);
  return meta.endsWith(";base64") ? Uint8Array.from(Buffer.from(new TextDecoder("latin1").decode(raw), "base64")) : raw;
}

interface Account {
  name: string;
  id: number;
  gid: number;
  home: string;
  shell: string;
  members: string[];
}

function readAccounts(file: string): Account[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes(":"))
    .map((l) => {
      const f = l.split(":");
      // passwd: name:x:uid:gid:gecos:home:shell — group: name:x:gid:members
      return { name: f[0]!, id: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "", shell: f[6] ?? "", members: f.length === 4 ? (f[3] ?? "").split(",").filter(Boolean) : [] };
    });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function endsWithBytes(a: Uint8Array, tail: Uint8Array): boolean {
  return a.length >= tail.length && equalBytes(a.subarray(a.length - tail.length), tail);
}

function octal(mode: number): string {
  return "0" + (mode & 0o7777).toString(8);
}

/** Checks everything the config asks of the root; one finding per expectation. */
export function checkProvisioned(config: CheckedConfig, at: HostPath): Finding[] {
  const out: Finding[] = [];
  const add = (ok: boolean, kind: Finding["kind"], target: string, detail: string) => out.push({ ok, kind, target, detail });
  const passwd = readAccounts(at("/etc/passwd"));
  const groups = readAccounts(at("/etc/group"));
  const uidOf = (o: { id?: number | null; name?: string | null } | null | undefined) =>
    o?.id ?? (o?.name ? passwd.find((a) => a.name === o.name)?.id : undefined);
  const gidOf = (o: { id?: number | null; name?: string | null } | null | undefined) =>
    o?.id ?? (o?.name ? groups.find((a) => a.name === o.name)?.id : undefined);

  for (const f of config.storage?.files ?? []) {
    const p = at(f.path);
    if (!existsSync(p) || !lstatSync(p).isFile()) {
      add(false, "file", f.path, "missing");
      continue;
    }
    const st = statSync(p);
    const body = new Uint8Array(readFileSync(p));
    const problems: string[] = [];
    const compressed = f.contents?.compression || (f.append ?? []).some((a) => a.compression);
    const want = f.contents?.source && !compressed ? decodeDataUrl(f.contents.source) : null;
    if (want && !(f.append?.length ? body.subarray(0, want.length).every((v, i) => v === want[i]) : equalBytes(body, want))) problems.push("contents differ");
    const appended = (f.append ?? []).map((a) => (a.source && !compressed ? decodeDataUrl(a.source) : null));
    const tail = appended.every((a) => a !== null) && appended.length ? Uint8Array.from(Buffer.concat(appended as Uint8Array[])) : null;
    if (tail && !endsWithBytes(body, tail)) problems.push("appended data missing");
    if (f.mode != null && (st.mode & 0o7777) !== f.mode) problems.push(`mode ${octal(st.mode)}, want ${octal(f.mode)}`);
    const uid = uidOf(f.user);
    if (uid !== undefined && st.uid !== uid) problems.push(`owner ${st.uid}, want ${uid}`);
    const gid = gidOf(f.group);
    if (gid !== undefined && st.gid !== gid) problems.push(`group ${st.gid}, want ${gid}`);
    add(problems.length === 0, "file", f.path, problems.join("; ") || `${octal(st.mode)} ${st.uid}:${st.gid}, ${body.length} bytes`);
  }

  for (const d of config.storage?.directories ?? []) {
    const p = at(d.path);
    const isDir = existsSync(p) && lstatSync(p).isDirectory();
    const mode = isDir ? statSync(p).mode & 0o7777 : 0;
    const ok = isDir && (d.mode == null || mode === d.mode);
    add(ok, "directory", d.path, !isDir ? "missing" : ok ? octal(mode) : `mode ${octal(mode)}, want ${octal(d.mode!)}`);
  }

  for (const l of config.storage?.links ?? []) {
    const p = at(l.path);
    if (l.hard) {
      const ok = existsSync(p) && existsSync(at(l.target)) && statSync(p).ino === statSync(at(l.target)).ino;
      add(ok, "link", l.path, ok ? `hard link to ${l.target}` : `not a hard link to ${l.target}`);
    } else {
      const target = lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(p) : null;
      add(target === l.target, "link", l.path, target === null ? "missing" : `-> ${target}`);
    }
  }

  for (const g of config.passwd?.groups ?? []) {
    const found = groups.find((a) => a.name === g.name);
    if (g.shouldExist === false) {
      add(!found, "group", g.name, found ? "still present" : "absent");
      continue;
    }
    add(!!found && (g.gid == null || found.id === g.gid), "group", g.name, found ? `gid ${found.id}` : "missing from /etc/group");
  }

  for (const u of config.passwd?.users ?? []) {
    const found = passwd.find((a) => a.name === u.name);
    if (u.shouldExist === false) {
      add(!found, "user", u.name, found ? "still present" : "absent");
      continue;
    }
    if (!found) {
      add(false, "user", u.name, "missing from /etc/passwd");
      continue;
    }
    const problems: string[] = [];
    if (u.uid != null && found.id !== u.uid) problems.push(`uid ${found.id}, want ${u.uid}`);
    if (u.homeDir && found.home !== u.homeDir) problems.push(`home ${found.home}, want ${u.homeDir}`);
    if (u.shell && found.shell !== u.shell) problems.push(`shell ${found.shell}, want ${u.shell}`);
    const missingGroups = (u.groups ?? []).filter((g) => !groups.find((a) => a.name === g)?.members.includes(u.name));
    if (missingGroups.length) problems.push(`not in ${missingGroups.join(", ")}`);
    add(problems.length === 0, "user", u.name, problems.join("; ") || `uid ${found.id}${u.groups?.length ? `, groups ${u.groups.join(",")}` : ""}`);
    if (u.sshAuthorizedKeys?.length) {
      const ssh = at(join(found.home || `/home/${u.name}`, ".ssh"));
      const files = [join(ssh, "authorized_keys"), ...(existsSync(join(ssh, "authorized_keys.d")) ? readdirSync(join(ssh, "authorized_keys.d")).map((n) => join(ssh, "authorized_keys.d", n)) : [])];
      const text = files.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8")).join("\n");
      const missing = u.sshAuthorizedKeys.filter((k) => !text.split("\n").includes(k));
      add(missing.length === 0, "ssh-key", u.name, missing.length ? `${missing.length} of ${u.sshAuthorizedKeys.length} keys missing` : `${u.sshAuthorizedKeys.length} key(s)`);
    }
  }

  const unitDir = "/etc/systemd/system";
  const presetDir = at("/etc/systemd/system-preset");
  const presets = existsSync(presetDir)
    ? readdirSync(presetDir).flatMap((n) => readFileSync(join(presetDir, n), "utf8").split("\n")).map((l) => l.trim().split(/\s+/))
    : [];
  for (const u of config.systemd?.units ?? []) {
    const p = at(join(unitDir, u.name));
    if (u.mask) {
      const target = lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(p) : null;
      add(target === "/dev/null", "mask", u.name, target ? `-> ${target}` : "not masked");
    } else if (u.contents != null) {
      const ok = existsSync(p) && readFileSync(p, "utf8") === u.contents;
      add(ok, "unit", u.name, existsSync(p) ? (ok ? "written" : "contents differ") : "missing");
    }
    for (const d of u.dropins ?? []) {
      const dp = at(join(unitDir, `${u.name}.d`, d.name));
      const ok = existsSync(dp) && (d.contents == null || readFileSync(dp, "utf8") === d.contents);
      add(ok, "dropin", `${u.name}.d/${d.name}`, existsSync(dp) ? (ok ? "written" : "contents differ") : "missing");
    }
    if (u.enabled != null) {
      const verb = u.enabled ? "enable" : "disable";
      const ok = presets.some(([v, n]) => v === verb && n === u.name);
      add(ok, "preset", u.name, ok ? verb : `no "${verb} ${u.name}" preset`);
    }
  }
  return out;
}

/** The config's filesystems that have a mount path, as { path → device }. */
export function mountedFilesystems(config: CheckedConfig): { path: string; device: string; format: string; label: string }[] {
  return (config.storage?.filesystems ?? [])
    .filter((f) => f.path)
    .map((f) => ({ path: f.path!, device: f.device, format: f.format ?? "", label: f.label ?? "" }));
}
