import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import {
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { Logger } from "../log/logger.ts";
import type { AccountsMode, StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { createFetcher } from "../resource/index.ts";
import { fakeSystem, type FakeSystem } from "../system/fake.ts";
import { filesStage } from "./files.ts";

let base: string;
let root: string;
let outside: string;
let lines: string[];
let system: FakeSystem;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "nexus-files-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  lines = [];
  // The account tools run for real, inside the temporary root (--root).
  system = fakeSystem({ env: {}, real: true });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const dataUrl = (s: string | Uint8Array) => `data:;base64,${Buffer.from(s).toString("base64")}`;
const cfg = (c: Omit<Config, "ignition">): Config => ({ ignition: { version: "3.6.0" }, ...c }) as Config;
const at = (p: string) => join(root, p);
const modeOf = (p: string) => lstatSync(at(p)).mode & 0o7777;
const ownerOf = (p: string) => {
  const st = lstatSync(at(p));
  return [st.uid, st.gid];
};

function ctx(config: Config, env: Record<string, string> = {}, accounts: AccountsMode = "native"): StageContext {
  if (Object.keys(env).length > 0) system = fakeSystem({ env, real: true });
  return {
    config,
    root,
    system,
    log: new Logger((l) => lines.push(l)),
    fetcher: createFetcher(),
    platform: "file",
    state: emptyState(),
    accounts,
  };
}

/** Every name under the root, for "nothing else was left behind" checks. */
function tree(dir = root, prefix = ""): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const rel = `${prefix}/${n}`;
    return lstatSync(p).isDirectory() ? [rel, ...tree(p, rel)] : [rel];
  });
}

function seedPasswd(): void {
  mkdirSync(at("etc"), { recursive: true });
  mkdirSync(at("home"));
  writeFileSync(at("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Core:/home/core:/bin/bash\n");
  writeFileSync(at("etc/group"), "root:x:0:\ncore:x:500:\nwheel:x:10:root\n");
  writeFileSync(at("etc/shadow"), "root:*:15887:0:::::\ncore:*:15887:0:::::\n", { mode: 0o600 });
  writeFileSync(at("etc/gshadow"), "root:*::\ncore:*::\nwheel:*::root\n", { mode: 0o600 });
}

describe("files stage: files", () => {
  test("run() creates a file with default mode 0644, root owner and 0755 parents", async () => {
    await filesStage.run(ctx(cfg({ storage: { files: [{ path: "/a/b/file", contents: { source: "data:,hello%0A" } }] } })));
    expect(readFileSync(at("a/b/file"), "utf8")).toBe("hello\n");
    expect(modeOf("a/b/file")).toBe(0o644);
    expect(modeOf("a")).toBe(0o755);
    expect(ownerOf("a/b/file")).toEqual([0, 0]);
    expect(tree()).toEqual(["/a", "/a/b", "/a/b/file"]);
  });

  test("run() decompresses and verifies gzip contents", async () => {
    const body = "example file\n".repeat(100);
    const hash = "sha512-" + createHash("sha512").update(body).digest("hex");
    await filesStage.run(
      ctx(cfg({ storage: { files: [{ path: "/z", mode: 0o600, contents: { source: dataUrl(gzipSync(body)), compression: "gzip", verification: { hash } } }] } })),
    );
    expect(readFileSync(at("z"), "utf8")).toBe(body);
    expect(modeOf("z")).toBe(0o600);
  });

  test("run() fails on a hash mismatch and leaves no file, no temp file and no created parent", async () => {
    const hash = "sha256-" + "0".repeat(64);
    const run = filesStage.run(ctx(cfg({ storage: { files: [{ path: "/new/dir/f", contents: { source: "data:,asdf", verification: { hash } } }] } })));
    await expect(run).rejects.toThrow(/hash/i);
    expect(tree()).toEqual([]);
  });

  test("run() refuses new contents over an existing file without overwrite, changing nothing", async () => {
    writeFileSync(at("f"), "old", { mode: 0o600 });
    const run = filesStage.run(ctx(cfg({ storage: { files: [{ path: "/f", contents: { source: "data:,new" } }] } })));
    await expect(run).rejects.toThrow(/a file exists there and overwrite is false/);
    expect(readFileSync(at("f"), "utf8")).toBe("old");
    expect(tree()).toEqual(["/f"]);
  });

  test("run() keeps an existing file's owner and mode when only appending", async () => {
    writeFileSync(at("f"), "example file\n", { mode: 0o640 });
    chownSync(at("f"), 500, 500);
    await filesStage.run(ctx(cfg({ storage: { files: [{ path: "/f", append: [{ source: "data:,hello%20world%0A" }] }] } })));
    expect(readFileSync(at("f"), "utf8")).toBe("example file\nhello world\n");
    expect(modeOf("f")).toBe(0o640);
    expect(ownerOf("f")).toEqual([500, 500]);
  });

  test("run() creates contents then appends in order with the given owner", async () => {
    await filesStage.run(
      ctx(cfg({ storage: { files: [{ path: "/f", contents: { source: "data:,a" }, append: [{ source: "data:,b" }, { source: "data:,c" }], user: { id: 500 }, group: { id: 501 } }] } })),
    );
    expect(readFileSync(at("f"), "utf8")).toBe("abc");
    expect(ownerOf("f")).toEqual([500, 501]);
  });

  test("run() creates an empty file when no contents are given and nothing exists", async () => {
    await filesStage.run(ctx(cfg({ storage: { files: [{ path: "/empty", group: { id: 500 } }] } })));
    expect(readFileSync(at("empty"), "utf8")).toBe("");
    expect(ownerOf("empty")).toEqual([0, 500]);
  });

  test("run() keeps special bits after setting the owner", async () => {
    await filesStage.run(
      ctx(cfg({ storage: { files: [{ path: "/s", mode: 0o6755, user: { id: 1001 }, group: { id: 1001 }, contents: { source: "data:,x" } }] } })),
    );
    expect(modeOf("s")).toBe(0o6755);
    expect(ownerOf("s")).toEqual([1001, 1001]);
  });

  test("run() with overwrite replaces a symlink to a host file without touching the host file", async () => {
    writeFileSync(join(outside, "shadow"), "host secret");
    mkdirSync(at("etc"));
    symlinkSync(join(outside, "shadow"), at("etc/file"));
    await filesStage.run(ctx(cfg({ storage: { files: [{ path: "/etc/file", overwrite: true, mode: 0o644, contents: { source: "" } }] } })));
    expect(readFileSync(join(outside, "shadow"), "utf8")).toBe("host secret");
    expect(lstatSync(at("etc/file")).isFile()).toBe(true);
  });

  test("run() refuses to append through a final symlink", async () => {
    writeFileSync(join(outside, "target"), "host");
    symlinkSync(join(outside, "target"), at("f"));
    const run = filesStage.run(ctx(cfg({ storage: { files: [{ path: "/f", append: [{ source: "data:,x" }] }] } })));
    await expect(run).rejects.toThrow(/a symlink exists there and overwrite is false/);
    expect(readFileSync(join(outside, "target"), "utf8")).toBe("host");
  });
});

describe("files stage: hostile paths never leave the root", () => {
  test.each([
    ["dot-dot segments", [], "/../../../etc/evil", "etc/evil"],
    ["an absolute symlink to a host directory", [["d", "OUTSIDE"]], "/d/evil", "OUTSIDE/evil"],
    ["a relative symlink climbing out", [["d", "../../../../../../.."]], "/d/evil", "evil"],
    ["a symlink to the root", [["d", "/"]], "/d/d2/evil", "d2/evil"],
  ])("run() keeps a file inside the root through %s", async (_title, links, path, landsAt) => {
    for (const [name, target] of links as [string, string][]) symlinkSync(target.replace("OUTSIDE", outside), at(name));
    await filesStage.run(ctx(cfg({ storage: { files: [{ path, contents: { source: "data:,x" } }] } })));
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(root, (landsAt as string).replace("OUTSIDE", outside)), "utf8")).toBe("x");
  });

  test("run() keeps a later file inside the root when an earlier link of the same config points outside", async () => {
    const config = cfg({
      storage: {
        links: [{ path: "/a", target: outside }],
        files: [{ path: "/a/b/c", contents: { source: "data:,x" } }],
      },
    });
    await filesStage.run(ctx(config));
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(root, outside, "b/c"), "utf8")).toBe("x");
  });

  test("run() keeps units and drop-ins with climbing names inside the root", async () => {
    await filesStage.run(
      ctx(cfg({ systemd: { units: [{ name: "../../../../../evil.service", contents: "x", dropins: [{ name: "../../../../../../drop.conf", contents: "y" }] }] } })),
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(at("evil.service"), "utf8")).toBe("x");
    expect(readFileSync(at("drop.conf"), "utf8")).toBe("y");
  });

  test("run() writes SSH keys inside the root when the home directory is a symlink out of it", async () => {
    seedPasswd();
    symlinkSync(outside, at("home/core"));
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k"] }] } })));
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(root, outside, ".ssh/authorized_keys.d/nexus"), "utf8")).toBe("k\n");
  });

  test("run() keeps the account locks inside the root when /etc/.pwd.lock and a .lock file are symlinks out of it", async () => {
    seedPasswd();
    symlinkSync(join(outside, "pwd.lock"), at("etc/.pwd.lock"));
    symlinkSync(join(outside, "group.lock"), at("etc/group.lock"));
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } }))).catch(() => {});
    expect(readdirSync(outside)).toEqual([]);
  });

  test("run() refuses two nodes that resolve to the same path", async () => {
    symlinkSync("/", at("foo"));
    const run = filesStage.run(ctx(cfg({ storage: { files: [{ path: "/foo/bar/baz" }, { path: "/bar/baz" }] } })));
    await expect(run).rejects.toThrow(/resolves to "\/bar\/baz"/);
    expect(tree()).toEqual(["/foo"]);
  });
});

describe("files stage: directories and links", () => {
  test("run() keeps setuid, setgid and sticky bits of spec 3.6 after giving nodes their owner", async () => {
    await filesStage.run(
      ctx(cfg({ storage: { directories: [{ path: "/shared", mode: 0o3775, user: { id: 1000 }, group: { id: 1000 } }], files: [{ path: "/bin/tool", mode: 0o6755, user: { id: 1000 }, group: { id: 1000 }, contents: { source: "data:,x" } }] } })),
    );
    expect([modeOf("shared"), ...ownerOf("shared")]).toEqual([0o3775, 1000, 1000]);
    expect([modeOf("bin/tool"), ...ownerOf("bin/tool")]).toEqual([0o6755, 1000, 1000]);
  });

  test("run() creates directories shallowest first through existing symlinks", async () => {
    mkdirSync(at("foo"));
    symlinkSync("/", at("foo/bar"));
    await filesStage.run(
      ctx(cfg({ storage: { directories: [{ path: "/foo/bar/baz", mode: 0o777 }, { path: "/baz/quux", mode: 0o755 }] } })),
    );
    expect(modeOf("baz")).toBe(0o777);
    expect(modeOf("baz/quux")).toBe(0o755);
  });

  test("run() sets mode and owner on an existing directory, keeping its contents", async () => {
    mkdirSync(at("d"));
    writeFileSync(at("d/keep"), "");
    await filesStage.run(ctx(cfg({ storage: { directories: [{ path: "/d", mode: 0o700, user: { id: 9 } }] } })));
    expect(modeOf("d")).toBe(0o700);
    expect(ownerOf("d")).toEqual([9, 0]);
    expect(existsSync(at("d/keep"))).toBe(true);
  });

  test("run() refuses a directory over a file without overwrite and replaces it with overwrite", async () => {
    writeFileSync(at("f"), "x");
    await expect(filesStage.run(ctx(cfg({ storage: { directories: [{ path: "/f" }] } })))).rejects.toThrow(/a file exists there/);
    await filesStage.run(ctx(cfg({ storage: { directories: [{ path: "/f", overwrite: true }] } })));
    expect(statSync(at("f")).isDirectory()).toBe(true);
    expect(modeOf("f")).toBe(0o755);
  });

  test("run() creates a symlink owned by its target's owner unless told otherwise", async () => {
    writeFileSync(at("t"), "");
    chownSync(at("t"), 500, 500);
    await filesStage.run(ctx(cfg({ storage: { links: [{ path: "/l1", target: "/t" }, { path: "/x/l2", target: "../t", user: { id: 3 } }] } })));
    expect(readlinkSync(at("l1"))).toBe("/t");
    expect(ownerOf("l1")).toEqual([500, 500]);
    expect(readlinkSync(at("x/l2"))).toBe("../t");
    expect(ownerOf("x/l2")).toEqual([3, 500]);
  });

  test("run() hard-links to a deeper file created by the same config", async () => {
    await filesStage.run(
      ctx(cfg({ storage: { links: [{ path: "/h", target: "/deep/er/file", hard: true }], files: [{ path: "/deep/er/file", contents: { source: "data:,x" } }] } })),
    );
    expect(lstatSync(at("h")).ino).toBe(lstatSync(at("deep/er/file")).ino);
  });

  test.each([
    ["a matching symlink is kept", "sym", "/target", true],
    ["a symlink to elsewhere fails", "sym", "/WrongTarget", false],
    ["a matching hard link is kept", "hard", "/target", true],
    ["a hard link to another file fails", "hard", "/WrongTarget", false],
  ])("run() without overwrite: %s", async (_t, kind, existingTarget, ok) => {
    writeFileSync(at("target"), "");
    writeFileSync(at("WrongTarget"), "");
    if (kind === "sym") symlinkSync(existingTarget, at("existing"));
    else linkSync(at(existingTarget.slice(1)), at("existing"));
    const run = filesStage.run(ctx(cfg({ storage: { links: [{ path: "/existing", target: "/target", hard: kind === "hard" }] } })));
    if (ok) await run;
    else await expect(run).rejects.toThrow(/overwrite is false/);
  });
});

/** A group and a user with a password hash and a key, and a file the new user and group own. */
const aliceConfig = () =>
  cfg({
    passwd: {
      groups: [{ name: "ops", gid: 1500 }],
      users: [{ name: "alice", uid: 1100, groups: ["wheel", "ops"], passwordHash: "$6$sekrit$hash", sshAuthorizedKeys: ["ssh-ed25519 AAAA alice"] }],
    },
    storage: { files: [{ path: "/home/alice/notes", contents: { source: "data:,x" }, user: { name: "alice" }, group: { name: "ops" } }] },
  });

describe("files stage: users, groups and keys, both ways", () => {
  test.each(["native", "tools"] as const)("run() (%s) modifies an existing group and deletes users, their homes and groups that should not exist", async (mode) => {
    seedPasswd();
    writeFileSync(at("etc/login.defs"), "USERGROUPS_ENAB yes\n");
    mkdirSync(at("home/core"));
    chownSync(at("home/core"), 500, 500);
    writeFileSync(at("home/core/f"), "x");
    await filesStage.run(
      ctx(cfg({ passwd: { groups: [{ name: "wheel", gid: 11 }, { name: "nope", shouldExist: false }], users: [{ name: "core", shouldExist: false }] } }), {}, mode),
    );
    expect(readFileSync(at("etc/group"), "utf8")).toBe("root:x:0:\nwheel:x:11:root\n");
    expect(readFileSync(at("etc/passwd"), "utf8")).toBe("root:x:0:0:root:/root:/bin/bash\n");
    expect(existsSync(at("home/core"))).toBe(false);
    expect(tree().filter((p) => p.includes(".nexus-"))).toEqual([]);
    expect(system.calls.map((c) => c.cmd)).toEqual(mode === "tools" ? ["groupmod", "userdel"] : []);
  });
});

describe("files stage: users, groups and keys (native)", () => {
  test("run() adds users and groups without running a tool and owns files by a user created in the same config", async () => {
    seedPasswd();
    const config = aliceConfig();
    await filesStage.run(ctx(config));
    expect(system.calls).toEqual([]);
    // No USERGROUPS_ENAB in a root without login.defs: the user's group is GROUP= of useradd's defaults, 100.
    expect(readFileSync(at("etc/passwd"), "utf8")).toContain("alice:x:1100:100::/home/alice:/bin/bash\n");
    expect(readFileSync(at("etc/group"), "utf8")).toMatch(/^ops:x:1500:alice$/m);
    expect(readFileSync(at("etc/shadow"), "utf8")).toMatch(/^alice:\$6\$sekrit\$hash:\d+::::::$/m);
    expect(ownerOf("home/alice")).toEqual([1100, 100]);
    expect(ownerOf("home/alice/notes")).toEqual([1100, 1500]);
    const key = "home/alice/.ssh/authorized_keys.d/nexus";
    expect(readFileSync(at(key), "utf8")).toBe("ssh-ed25519 AAAA alice\n");
    expect([modeOf(key), modeOf("home/alice/.ssh"), modeOf("home/alice/.ssh/authorized_keys.d")]).toEqual([0o600, 0o700, 0o700]);
    expect(lines.join("\n")).not.toContain("sekrit");
  });

  test("run() keeps each database's previous text in its \"-\" backup, with its mode and owner, and leaves no lock behind", async () => {
    seedPasswd();
    chownSync(at("etc/shadow"), 0, 42);
    const before = { passwd: readFileSync(at("etc/passwd"), "utf8"), shadow: readFileSync(at("etc/shadow"), "utf8") };
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } })));
    expect(readFileSync(at("etc/passwd-"), "utf8")).toBe(before.passwd);
    expect(readFileSync(at("etc/shadow-"), "utf8")).toBe(before.shadow);
    expect([modeOf("etc/shadow-"), ...ownerOf("etc/shadow-")]).toEqual([0o600, 0, 42]);
    expect([modeOf("etc/shadow"), ...ownerOf("etc/shadow")]).toEqual([0o600, 0, 42]);
    expect(modeOf("etc/.pwd.lock")).toBe(0o600);
    expect(tree().filter((p) => p.endsWith(".lock") && !p.endsWith(".pwd.lock"))).toEqual([]);
    expect(tree().filter((p) => p.includes(".nexus-"))).toEqual([]);
  });

  test("run() refuses a malformed database line, naming the file and line, and changes nothing", async () => {
    seedPasswd();
    writeFileSync(at("etc/group"), "root:x:0:\nwheel:x:ten:root\n");
    const before = tree();
    const err = await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } }))).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain("Cannot read /etc/group: line 2 is malformed");
    expect(tree()).toEqual(before);
  });

  test("run() takes everything back when an operation fails part-way: no database, home or key changed", async () => {
    seedPasswd();
    // bob's keys file path is a directory: the last operation fails after alice's home was made.
    mkdirSync(at("home/bob/.ssh/authorized_keys.d/nexus"), { recursive: true });
    const before = tree();
    const passwd = readFileSync(at("etc/passwd"), "utf8");
    const config = cfg({ passwd: { users: [{ name: "alice", sshAuthorizedKeys: ["ka"] }, { name: "bob", sshAuthorizedKeys: ["kb"] }] } });
    const err = await filesStage.run(ctx(config)).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/a directory is there.*were not done, every account database and home is as it was/);
    expect(tree()).toEqual(before);
    expect(readFileSync(at("etc/passwd"), "utf8")).toBe(passwd);
  });

  test("run() refuses what the tools refuse, naming the config entry, before touching anything", async () => {
    seedPasswd();
    const before = tree();
    const err = await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "ok" }, { name: "bad:name", passwordHash: "$6$sekrit" }] } }))).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain('Cannot add user "bad:name": invalid user name "bad:name" (at passwd.users.1)');
    expect(String((err as Error).message)).not.toContain("sekrit");
    expect(tree()).toEqual(before);
  });

  test("run() writes ~/.ssh/authorized_keys when the keys fragment is turned off", async () => {
    seedPasswd();
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k1", "k2"] }] } }), { IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT: "false" }));
    expect(readFileSync(at("home/core/.ssh/authorized_keys"), "utf8")).toBe("k1\nk2\n");
    expect(ownerOf("home/core/.ssh/authorized_keys")).toEqual([500, 500]);
    // usermod with nothing to change writes nothing and takes no lock.
    expect(existsSync(at("etc/passwd-"))).toBe(false);
    expect(existsSync(at("etc/.pwd.lock"))).toBe(false);
  });

  test("run() waits for another holder of /etc/.pwd.lock, as lckpwdf() does", async () => {
    seedPasswd();
    writeFileSync(at("etc/.pwd.lock"), "", { mode: 0o600 });
    const holder = Bun.spawn(["python3", "-c", `import fcntl,os,sys,time\nfd=os.open(sys.argv[1],os.O_WRONLY)\nfcntl.lockf(fd,fcntl.LOCK_EX)\nprint('held',flush=True)\ntime.sleep(1.2)`, at("etc/.pwd.lock")], { stdout: "pipe" });
    const reader = holder.stdout.getReader();
    await reader.read();
    const t0 = performance.now();
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } })));
    expect(performance.now() - t0).toBeGreaterThan(500);
    expect(readFileSync(at("etc/passwd"), "utf8")).toContain("bob:x:");
    await holder.exited;
  });

  test("run() fails at once on a database lock held by a live process and replaces a stale one", async () => {
    seedPasswd();
    writeFileSync(at("etc/group.lock"), `${process.pid}\0`);
    const err = await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } }))).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain(`/etc/group.lock: it is held by process ${process.pid}`);
    expect(readFileSync(at("etc/passwd"), "utf8")).not.toContain("bob");
    writeFileSync(at("etc/group.lock"), "999999999\0");
    await filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bob" }] } })));
    expect(readFileSync(at("etc/passwd"), "utf8")).toContain("bob:x:");
    expect(existsSync(at("etc/group.lock"))).toBe(false);
  });
});

describe("files stage: users, groups and keys (--accounts=tools)", () => {
  test("run() runs the tools with Ignition's flags, sets the password again, and owns files by a new user", async () => {
    seedPasswd();
    const config = aliceConfig();
    await filesStage.run(ctx(config, {}, "tools"));
    expect(readFileSync(at("etc/group"), "utf8")).toMatch(/^ops:x:1500:alice$/m);
    expect(readFileSync(at("etc/shadow"), "utf8")).toMatch(/^alice:\$6\$sekrit\$hash:/m);
    expect(ownerOf("home/alice/notes")).toEqual([1100, 1500]);
    expect(readFileSync(at("home/alice/.ssh/authorized_keys.d/nexus"), "utf8")).toBe("ssh-ed25519 AAAA alice\n");
    expect(system.calls.map((c) => c.cmd)).toEqual(["groupadd", "useradd", "usermod"]);
    expect(system.calls[2]!.args).toEqual(["--root", root, "--password", "$6$sekrit$hash", "alice"]);
    expect(lines.join("\n")).not.toContain("sekrit");
  });

  test("run() fails with a redacted command line when a tool fails, writing no node", async () => {
    seedPasswd();
    const run = filesStage.run(ctx(cfg({ passwd: { users: [{ name: "bad:name", passwordHash: "$6$sekrit" }] }, storage: { files: [{ path: "/opt/f", contents: { source: "data:,x" } }] } }), {}, "tools"));
    const err = await run.catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/^Cannot create users and groups: /);
    expect(String((err as Error).message)).toContain("<redacted>");
    expect(String((err as Error).message)).not.toContain("sekrit");
    expect(lines.join("\n")).not.toContain("sekrit");
    expect(existsSync(at("opt/f"))).toBe(false);
  });
});

describe("files stage: units", () => {
  test("run() removes an enablement directory its disabling left empty, and keeps one still in use", async () => {
    mkdirSync(at("etc/systemd/system/multi-user.target.wants"), { recursive: true });
    mkdirSync(at("etc/systemd/system/timers.target.wants"), { recursive: true });
    symlinkSync("/usr/lib/systemd/system/a.service", at("etc/systemd/system/multi-user.target.wants/a.service"));
    symlinkSync("/usr/lib/systemd/system/t.timer", at("etc/systemd/system/timers.target.wants/t.timer"));
    symlinkSync("/usr/lib/systemd/system/u.timer", at("etc/systemd/system/timers.target.wants/u.timer"));
    await filesStage.run(ctx(cfg({ systemd: { units: [{ name: "a.service", enabled: false }, { name: "t.timer", enabled: false }] } })));
    expect(existsSync(at("etc/systemd/system/multi-user.target.wants"))).toBe(false);
    expect(readdirSync(at("etc/systemd/system/timers.target.wants"))).toEqual(["u.timer"]);
  });

  test("run() writes units and drop-ins, masks, unmasks and writes sorted presets", async () => {
    mkdirSync(at("etc/systemd/system/multi-user.target.wants"), { recursive: true });
    mkdirSync(at("usr/lib/systemd/system"), { recursive: true });
    writeFileSync(at("usr/lib/systemd/system/old.service"), "");
    symlinkSync("/usr/lib/systemd/system/old.service", at("etc/systemd/system/multi-user.target.wants/old.service"));
    symlinkSync("/dev/null", at("etc/systemd/system/unmask.service"));
    await filesStage.run(
      ctx(
        cfg({
          systemd: {
            units: [
              { name: "z.service", enabled: true, contents: "[Service]\n", dropins: [{ name: "empty.conf", contents: "" }] },
              { name: "journald.service", mask: true },
              { name: "unmask.service", mask: false },
              { name: "echo@b.service", enabled: true },
              { name: "echo@a.service", enabled: true },
              { name: "old.service", enabled: false },
            ],
          },
        }),
      ),
    );
    expect(readFileSync(at("etc/systemd/system/z.service"), "utf8")).toBe("[Service]\n");
    expect(modeOf("etc/systemd/system/z.service")).toBe(0o644);
    expect(readFileSync(at("etc/systemd/system/z.service.d/empty.conf"), "utf8")).toBe("");
    expect(readlinkSync(at("etc/systemd/system/journald.service"))).toBe("/dev/null");
    expect(existsSync(at("etc/systemd/system/unmask.service"))).toBe(false);
    expect(existsSync(at("etc/systemd/system/multi-user.target.wants/old.service"))).toBe(false);
    expect(readFileSync(at("etc/systemd/system-preset/20-nexus.preset"), "utf8")).toBe(
      "enable echo@.service a b\ndisable old.service\nenable z.service\n",
    );
  });

  test("plan() describes every action without touching the root", async () => {
    seedPasswd();
    writeFileSync(at("exists"), "x");
    const before = tree();
    const plan = await filesStage.plan(
      ctx(
        cfg({
          passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k"] }, { name: "new" }] },
          storage: {
            files: [{ path: "/exists", contents: { source: "data:,y" } }, { path: "/exists2", append: [{ source: "data:,y" }] }],
            directories: [{ path: "/d" }],
          },
          systemd: { units: [{ name: "a.service", enabled: true, contents: "x" }] },
        }),
      ),
    );
    expect(tree()).toEqual(before);
    expect(plan.map((p) => [p.action, p.target])).toEqual([
      ["modify-user", "user core"],
      ["add-user", "user new"],
      ["write-keys", "/home/core/.ssh/authorized_keys.d/nexus"],
      ["mkdir", "/home/new"],
      ["write", "/etc/passwd"],
      ["write", "/etc/shadow"],
      ["create", "/d"],
      ["fail", "/exists"],
      ["create", "/exists2"],
      ["write-unit", "/etc/systemd/system/a.service"],
      ["enable", "a.service"],
    ]);
    expect(plan.find((p) => p.target === "user new")?.detail).toBe("uid 1000, gid 100, home /home/new, password login disabled");
  });
});
