import { describe, expect, test } from "bun:test";
import { DB_NAMES, type DbName } from "./db.ts";
import { AccountModel, ToolError, type DbFile } from "./shadow_model.ts";
import type { NodeInfo, TreeReader } from "./tree.ts";

const DAY = 20000;

/** A root with just these directories (owner 0 unless given). */
function dirs(paths: Record<string, { uid?: number; gid?: number }> = {}): TreeReader {
  const all: Record<string, { uid?: number; gid?: number }> = { "/": {}, "/home": {}, "/etc": {}, "/etc/skel": {}, ...paths };
  return {
    lstat: (p): NodeInfo | null => (all[p] ? { kind: "dir", mode: 0o755, uid: all[p]!.uid ?? 0, gid: all[p]!.gid ?? 0, size: 0 } : null),
    readlink: () => "",
  };
}

/** A model over these database texts (absent ones are missing files). */
function model(texts: Partial<Record<DbName, string>>, opts: { defs?: string; useradd?: string; tree?: TreeReader } = {}): AccountModel {
  const files = {} as Record<DbName, DbFile>;
  for (const n of DB_NAMES) files[n] = { text: texts[n] ?? null, mode: n.includes("shadow") ? 0o640 : 0o644, uid: 0, gid: n.includes("shadow") ? 42 : 0 };
  return new AccountModel({ files, loginDefs: opts.defs ?? "USERGROUPS_ENAB yes\n", useraddDefaults: opts.useradd ?? null, now: DAY * 86400 + 5, tree: opts.tree ?? dirs() });
}

const base = {
  passwd: "root:x:0:0:root:/root:/bin/bash\ncore:x:1000:1000::/home/core:/bin/bash\n",
  group: "root:x:0:\nwheel:x:10:core\ncore:x:1000:\nshadow:x:42:\n",
  shadow: "root:*:19000:0:99999:7:::\ncore:*:19000:0:99999:7:::\n",
  gshadow: "root:*::\nwheel:*::core\ncore:!::\nshadow:*::\n",
};
const add = { createHome: false, noUserGroup: false, system: false, noLogInit: false, password: "*" };

describe("AccountModel: ids", () => {
  test("useradd picks the uid after the highest in range and gives the user group the same id when free", () => {
    const m = model(base);
    m.useradd({ name: "alice", ...add });
    expect(m.dbs.passwd.find("alice")).toMatchObject({ uid: 1001, gid: 1001, home: "/home/alice", shell: "/bin/bash" });
    expect(m.dbs.group.find("alice")).toMatchObject({ gid: 1001, passwd: "x" });
    expect(m.dbs.shadow.find("alice")).toMatchObject({ passwd: "*", lastChange: DAY, min: -1, max: -1, warn: -1 });
  });

  test("useradd reuses the lowest free uid once the top of the range is taken", () => {
    const m = model({ ...base, passwd: base.passwd + "top:x:60000:1000::/:/bin/sh\n" });
    m.useradd({ name: "alice", ...add });
    expect(m.dbs.passwd.find("alice")!.uid).toBe(1001);
  });

  test("useradd --system counts down from SYS_UID_MAX (UID_MIN - 1) and gives no aging", () => {
    const m = model({ ...base, passwd: base.passwd + "s:x:999:999::/:/bin/sh\n" }, { defs: "USERGROUPS_ENAB yes\nPASS_MAX_DAYS 90\n" });
    m.useradd({ name: "svc", ...add, system: true });
    expect(m.dbs.passwd.find("svc")!.uid).toBe(998);
    expect(m.dbs.shadow.find("svc")).toMatchObject({ max: -1 });
    m.useradd({ name: "u", ...add });
    expect(m.dbs.shadow.find("u")).toMatchObject({ max: 90 });
  });

  test("groupadd refuses a gid in use and a name in use, with the tools' exit codes", () => {
    const m = model(base);
    expect(() => m.groupadd({ name: "x", gid: 10 })).toThrow(ToolError);
    expect(() => m.groupadd({ name: "wheel" })).toThrow(expect.objectContaining({ code: 9 }));
    expect(() => m.groupadd({ name: "-bad" })).toThrow(expect.objectContaining({ code: 3 }));
  });

  test("useradd allocates subordinate ids in the first free range, sorting the file as find_free_range does", () => {
    const m = model({ ...base, subuid: "z:300000:65536\nb:100000:65536\n", subgid: "" });
    m.useradd({ name: "alice", ...add });
    expect(m.disk.subuid.text).toBe("b:100000:65536\nz:300000:65536\nalice:165536:65536\n");
    expect(m.disk.subgid.text).toBe("alice:100000:65536\n");
  });
});

describe("AccountModel: what each run writes", () => {
  test("each run's rewritten databases leave the previous text as backup, as the tools' \"-\" files", () => {
    const m = model(base);
    m.groupadd({ name: "ops" });
    expect(m.backups.group?.text).toBe(base.group);
    m.useradd({ name: "alice", ...add, groups: ["ops"] });
    expect(m.backups.group?.text).toContain("ops:x:1001:\n");
    expect(m.disk.group.text).toContain("ops:x:1001:alice\n");
    expect(m.backups.passwd?.text).toBe(base.passwd);
    expect([m.disk.shadow.mode, m.disk.shadow.gid, m.backups.shadow?.mode]).toEqual([0o640, 42, 0o640]);
  });

  test("usermod with nothing to change writes nothing and takes no lock; with a password it rewrites passwd and shadow", () => {
    const m = model(base);
    expect(m.usermod({ name: "core", shell: "/bin/bash" })).toBe(false);
    expect(m.locked).toBe(false);
    expect(m.rewritten.size).toBe(0);
    m.usermod({ name: "core", password: "$6$h" });
    expect([...m.rewritten].sort()).toEqual(["passwd", "shadow"]);
    expect(m.disk.shadow.text).toContain("core:$6$h:20000:0:99999:7:::\n");
  });

  test("usermod --password adds a missing shadow entry with login.defs' raw ages", () => {
    const m = model({ ...base, shadow: "root:*:19000:0:99999:7:::\n" }, { defs: "PASS_MAX_DAYS 90\n" });
    m.usermod({ name: "core", password: "$6$h" });
    expect(m.dbs.shadow.find("core")).toMatchObject({ passwd: "$6$h", lastChange: DAY, max: 90, min: -1, inactive: -1 });
  });

  test("usermod --groups replaces the supplementary groups in group and gshadow", () => {
    const m = model({ ...base, group: base.group + "ops:x:1500:\n", gshadow: base.gshadow + "ops:!::\n" });
    m.usermod({ name: "core", groups: ["ops"] });
    expect(m.dbs.group.find("wheel")!.members).toEqual([]);
    expect(m.dbs.group.find("ops")!.members).toEqual(["core"]);
    expect(m.dbs.gshadow.find("ops")!.members).toEqual(["core"]);
  });

  test("groupmod --gid moves the primary group of its users; groupmod without options still rewrites /etc/group", () => {
    const m = model(base);
    m.groupmod({ name: "core", gid: 2000 });
    expect(m.dbs.passwd.find("core")!.gid).toBe(2000);
    const n = model(base);
    n.groupmod({ name: "wheel" });
    expect([...n.rewritten]).toEqual(["group"]);
    expect(n.disk.group.text).toBe(base.group);
  });

  test("groupdel refuses the primary group of a user (exit 8), as the real groupdel does", () => {
    expect(() => model(base).groupdel({ name: "core" })).toThrow(expect.objectContaining({ code: 8 }));
  });

  test("userdel removes the user, its memberships and its own group, and plans removing its home", () => {
    const m = model(base, { tree: dirs({ "/home/core": { uid: 1000, gid: 1000 } }) });
    m.userdel({ name: "core" });
    expect(m.dbs.passwd.find("core")).toBeUndefined();
    expect(m.dbs.group.find("core")).toBeUndefined();
    expect(m.dbs.group.find("wheel")!.members).toEqual([]);
    expect(m.dbs.gshadow.find("wheel")!.members).toEqual([]);
    expect(m.ops).toEqual([{ op: "remove-home", path: "/home/core", user: "core" }]);
  });

  test("userdel leaves a home it does not own, with a warning (as userdel's exit 12)", () => {
    const m = model(base, { tree: dirs({ "/home/core": { uid: 0 } }) });
    m.userdel({ name: "core" });
    expect(m.ops).toEqual([]);
    expect(m.warnings.join()).toContain("not owned by core");
  });

  test("a new database file gets the tool's default mode and Debian's \"shadow\" group", () => {
    const m = model({ group: base.group, shadow: base.shadow });
    m.useradd({ name: "alice", ...add, noUserGroup: true });
    expect(m.disk.passwd).toMatchObject({ mode: 0o644, uid: 0, gid: 42 });
    expect(m.backups.passwd).toBeUndefined();
  });
});

describe("AccountModel: homes", () => {
  test("useradd creates missing parents as root 0755 and the home with HOME_MODE, then copies the skeleton", () => {
    const m = model(base, { defs: "USERGROUPS_ENAB yes\nHOME_MODE 0700\n" });
    m.useradd({ name: "alice", ...add, createHome: true, home: "/srv/users/alice" });
    expect(m.ops).toEqual([
      { op: "mkdir", path: "/srv", mode: 0o755, uid: 0, gid: 0, user: "alice" },
      { op: "mkdir", path: "/srv/users", mode: 0o755, uid: 0, gid: 0, user: "alice" },
      { op: "mkdir", path: "/srv/users/alice", mode: 0o700, uid: 1001, gid: 1001, user: "alice" },
      { op: "copy-skel", from: "/etc/skel", to: "/srv/users/alice", uid: 1001, gid: 1001, user: "alice" },
    ]);
  });

  test("useradd copies nothing into a home that already exists", () => {
    const m = model(base, { tree: dirs({ "/home/alice": {} }) });
    m.useradd({ name: "alice", ...add, createHome: true });
    expect(m.ops).toEqual([]);
  });

  test("usermod --home --move-home with a new uid moves the home and maps its owners", () => {
    const m = model(base, { tree: dirs({ "/home/core": { uid: 1000, gid: 1000 } }) });
    m.usermod({ name: "core", uid: 1500, home: "/home/core2/" });
    expect(m.dbs.passwd.find("core")).toMatchObject({ uid: 1500, home: "/home/core2" });
    expect(m.ops).toEqual([{ op: "move-home", from: "/home/core", to: "/home/core2", owners: { oldUid: 1000, newUid: 1500, oldGid: 1000, newGid: -1 }, user: "core" }]);
  });

  test("usermod refuses to move a home onto an existing directory (exit 12)", () => {
    const m = model(base, { tree: dirs({ "/home/core": { uid: 1000 }, "/home/x": {} }) });
    expect(() => m.usermod({ name: "core", home: "/home/x" })).toThrow(expect.objectContaining({ code: 12 }));
    expect(m.rewritten.size).toBe(0);
  });
});
