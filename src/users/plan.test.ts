import { describe, expect, test } from "bun:test";
import type { Group, User } from "../config/types.ts";
import { authorizedKeysPath, authorizedKeysText, describeCommand, planGroup, planPasswordCommand, planUser, redactArgs, writesKeysFragment } from "./plan.ts";

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

describe("planPasswordCommand()", () => {
  test("planPasswordCommand() runs usermod --password again, as Ignition's SetPasswordHash, only with a hash", () => {
    expect(planPasswordCommand({ name: "u", passwordHash: "$6$h" }, R)?.args).toEqual(["--root", R, "--password", "$6$h", "u"]);
    expect(planPasswordCommand({ name: "u", passwordHash: "" }, R)?.args).toEqual(["--root", R, "--password", "*", "u"]);
    expect(planPasswordCommand({ name: "u" }, R)).toBeNull();
  });
});
