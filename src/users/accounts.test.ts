import { describe, expect, test } from "bun:test";
import { DB_NAMES, type DbName } from "./db.ts";
import { AccountPlanError, planAccounts } from "./accounts.ts";
import type { DbFile } from "./shadow_model.ts";
import type { NodeInfo, TreeReader } from "./tree.ts";

const dirs = (paths: Record<string, number>): TreeReader => ({
  lstat: (p): NodeInfo | null => (p === "/" || p in paths ? { kind: "dir", mode: 0o755, uid: paths[p] ?? 0, gid: paths[p] ?? 0, size: 0 } : null),
  readlink: () => "",
});

function inputs(texts: Partial<Record<DbName, string>>, tree: TreeReader = dirs({ "/home": 0 })) {
  const files = {} as Record<DbName, DbFile>;
  for (const n of DB_NAMES) files[n] = { text: texts[n] ?? null, mode: 0o644, uid: 0, gid: 0 };
  return { files, loginDefs: "USERGROUPS_ENAB yes\n", useraddDefaults: null, now: 20000 * 86400, tree };
}

const base = {
  passwd: "root:x:0:0:root:/root:/bin/bash\ncore:x:1000:1000::/home/core:/bin/bash\n",
  group: "root:x:0:\ncore:x:1000:\n",
  shadow: "root:*:19000::::::\ncore:*:19000::::::\n",
  gshadow: "root:*::\ncore:!::\n",
};
const opts = { notatedDirectories: [] as string[], keysFragment: true };

describe("planAccounts()", () => {
  test("planAccounts() ensures groups before users, in config order, as Ignition does", () => {
    const plan = planAccounts(
      { users: [{ name: "alice", groups: ["ops"] }], groups: [{ name: "ops" }, { name: "gone", shouldExist: false }] },
      inputs(base),
      opts,
    );
    expect(plan.steps.map((s) => [s.action, s.target])).toEqual([
      ["add-group", "group ops"],
      ["keep", "group gone"],
      ["add-user", "user alice"],
    ]);
    expect(plan.databases.map((d) => d.name)).toEqual(["passwd", "shadow", "group", "gshadow"]);
    expect(plan.databases.find((d) => d.name === "group")!.file.text).toBe("root:x:0:\ncore:x:1000:\nops:x:1001:alice\nalice:x:1002:\n");
    expect(plan.locks).toBe(true);
  });

  test("planAccounts() runs usermod --password once more for a user with a hash (Ignition's SetPasswordHash)", () => {
    const plan = planAccounts({ users: [{ name: "alice", passwordHash: "$6$h" }] }, inputs(base), opts);
    // The second usermod rewrites passwd again: its backup is the passwd useradd left.
    expect(plan.databases.find((d) => d.name === "passwd")!.backup!.text).toContain("alice:x:1001:1001::/home/alice:/bin/bash\n");
    expect(plan.databases.find((d) => d.name === "shadow")!.file.text).toContain("alice:$6$h:20000:::::");
  });

  test("planAccounts() hands the mount stage's directories in a home to its user and writes keys there", () => {
    const plan = planAccounts(
      { users: [{ name: "core", sshAuthorizedKeys: ["k"] }] },
      inputs(base, dirs({ "/home": 0, "/home/core": 1000, "/home/core/data": 0 })),
      { notatedDirectories: ["/home/core/data", "/srv/x"], keysFragment: false },
    );
    expect(plan.ops).toEqual([
      { op: "adopt", path: "/home/core/data", uid: 1000, gid: 1000, user: "core" },
      { op: "write-keys", path: "/home/core/.ssh/authorized_keys", uid: 1000, gid: 1000, keys: ["k"], user: "core" },
    ]);
    expect(plan.locks).toBe(false);
  });

  test("planAccounts() names the config entry the tools would refuse, and plans nothing", () => {
    let err: unknown;
    try {
      planAccounts({ users: [{ name: "alice" }, { name: "bob", primaryGroup: "nope" }] }, inputs(base), opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AccountPlanError);
    expect((err as AccountPlanError).path).toEqual(["passwd", "users", 1]);
    expect((err as Error).message).toBe('Cannot add user "bob": group "nope" does not exist (at passwd.users.1)');
  });

  test("planAccounts() reads names as bytes: a UTF-8 name is stored as its bytes", () => {
    const plan = planAccounts({ users: [{ name: "jürgen" }] }, inputs(base), opts);
    expect(Buffer.from(plan.databases[0]!.file.text, "latin1").toString("utf8")).toContain("jürgen:x:1001:1001::/home/jürgen:/bin/bash\n");
  });
});
