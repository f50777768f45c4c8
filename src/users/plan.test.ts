import { describe, expect, test } from "bun:test";
import type { Group, User } from "../config/types.ts";
import { parseGroup, parsePasswd, parseUserDb, findUser } from "./db.ts";
import { authorizedKeysPath, authorizedKeysText, describeCommand, planGroup, planUser, redactArgs, writesKeysFragment } from "./plan.ts";

const R = "/sysroot";

describe("planUser()", () => {
  const cases: [string, User, boolean, string | null, string[] | null][] = [
    ["a new user with defaults", { name: "core" }, false, "useradd", ["--root", R, "--create-home", "--password", "*", "core"]],
    [
      "a new user with every field",
      {
        name: "svc",
        uid: 1020,
        passwordHash: "$6$x",
        gecos: "Service",
        homeDir: "/var/svc",
        noCreateHome: true,
        primaryGroup: "svc",
        groups: ["wheel", "docker"],
        noUserGroup: true,
        noLogInit: true,
        shell: "/bin/zsh",
        system: true,
      },
      false,
      "useradd",
      [
        "--root", R, "--home-dir", "/var/svc", "--no-create-home", "--no-user-group", "--system", "--no-log-init",
        "--password", "$6$x", "--uid", "1020", "--comment", "Service", "--gid", "svc", "--groups", "wheel,docker",
        "--shell", "/bin/zsh", "svc",
      ],
    ],
    ["an empty password hash", { name: "u", passwordHash: "" }, false, "useradd", ["--root", R, "--create-home", "--password", "*", "u"]],
    ["an existing user with no changes", { name: "core" }, true, "usermod", ["--root", R, "core"]],
    [
      "an existing user moving home",
      { name: "core", homeDir: "/h", sshAuthorizedKeys: ["k"] },
      true,
      "usermod",
      ["--root", R, "--home", "/h", "--move-home", "core"],
    ],
    ["a user to delete that exists", { name: "old", shouldExist: false }, true, "userdel", ["--remove", "--root", R, "old"]],
    ["a user to delete that is absent", { name: "old", shouldExist: false }, false, null, null],
  ];
  test.each(cases)("planUser() plans %s", (_title, user, exists, cmd, args) => {
    const c = planUser(user, exists, R);
    expect(c?.cmd ?? null).toBe(cmd as never);
    expect(c?.args ?? null).toEqual(args);
  });
});

describe("planGroup()", () => {
  const cases: [string, Group, boolean, string | null, string[] | null][] = [
    ["a new group with a gid", { name: "g", gid: 1500 }, false, "groupadd", ["--root", R, "--gid", "1500", "g"]],
    ["a new system group with a password", { name: "s", system: true, passwordHash: "h" }, false, "groupadd", ["--root", R, "--password", "h", "--system", "s"]],
    ["an existing group", { name: "g", gid: 1500 }, true, "groupmod", ["--root", R, "--gid", "1500", "g"]],
    ["a group to delete", { name: "g", shouldExist: false }, true, "groupdel", ["--root", R, "g"]],
    ["an absent group to delete", { name: "g", shouldExist: false }, false, null, null],
  ];
  test.each(cases)("planGroup() plans %s", (_title, group, exists, cmd, args) => {
    const c = planGroup(group, exists, R);
    expect(c?.cmd ?? null).toBe(cmd as never);
    expect(c?.args ?? null).toEqual(args);
  });
});

describe("secrets and descriptions", () => {
  test("redactArgs() hides password values only", () => {
    expect(redactArgs(["--root", "/r", "--password", "$6$secret", "--uid", "5", "u"])).toEqual(["--root", "/r", "--password", "<redacted>", "--uid", "5", "u"]);
  });

  test("describeCommand() never shows a password hash", () => {
    const c = planUser({ name: "u", passwordHash: "$6$secret", uid: 7 }, false, R)!;
    const d = describeCommand(c, 2);
    expect(d).not.toContain("secret");
    expect(d).toBe("uid 7, password hash set, 2 SSH keys");
  });
});

describe("authorized keys", () => {
  test.each([
    ["/home/core", true, "/home/core/.ssh/authorized_keys.d/nexus"],
    ["/home/core/", false, "/home/core/.ssh/authorized_keys"],
  ])("authorizedKeysPath() for %p, fragment %p is %p", (home, fragment, want) => {
    expect(authorizedKeysPath(home as string, fragment as boolean)).toBe(want as string);
  });

  test.each([
    [{}, true],
    [{ IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT: "false" }, false],
    [{ NEXUS_WRITE_AUTHORIZED_KEYS_FRAGMENT: "true", IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT: "false" }, true],
  ])("writesKeysFragment() reads %p as %p", (env, want) => {
    expect(writesKeysFragment(env)).toBe(want);
  });

  test("authorizedKeysText() ends with exactly one newline", () => {
    expect(authorizedKeysText(["a", "b"])).toBe("a\nb\n");
    expect(authorizedKeysText(["a\n"])).toBe("a\n");
  });
});

describe("user database", () => {
  test("parsePasswd() and parseGroup() skip comments, NIS markers and malformed lines", () => {
    expect(parsePasswd("root:x:0:0:root:/root:/bin/bash\n# c\n+::::::\nbad:x:y:0:::\ncore:x:500:500:CoreOS:/home/core:/bin/sh\n")).toEqual([
      { name: "root", uid: 0, gid: 0, gecos: "root", home: "/root", shell: "/bin/bash" },
      { name: "core", uid: 500, gid: 500, gecos: "CoreOS", home: "/home/core", shell: "/bin/sh" },
    ]);
    expect(parseGroup("wheel:x:10:root,core\nsudo:x:150:\n")).toEqual([
      { name: "wheel", gid: 10, members: ["root", "core"] },
      { name: "sudo", gid: 150, members: [] },
    ]);
  });

  test("parseUserDb() treats missing files as empty databases", () => {
    const db = parseUserDb(null, null);
    expect(db).toEqual({ users: [], groups: [] });
    expect(findUser(db, "root")).toBeUndefined();
  });
});
