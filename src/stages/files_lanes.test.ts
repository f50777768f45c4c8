import { describe, expect, test } from "bun:test";
import type { Passwd, Storage } from "../config/types.ts";
import { cleanPath } from "../system/paths.ts";
import { parseUserDb } from "../users/db.ts";
import { accountPaths, knownOwners, splitLanes } from "./files_lanes.ts";
import { orderNodes } from "./files_nodes.ts";

const db = parseUserDb("root:x:0:0:root:/root:/bin/bash\ncore:x:500:500::/home/core:/bin/bash\n", "root:x:0:\ncore:x:500:\nwheel:x:10:root\n");
const passwd: Passwd = {
  groups: [{ name: "ops", gid: 1500 }, { name: "floating" }],
  users: [{ name: "alice", uid: 1100 }, { name: "bob" }, { name: "carol", uid: 1200, homeDir: "/srv/carol" }],
};
const identity = (p: string) => cleanPath(p);

/** Splits a storage section with the config above; returns the late paths and whether units go early. */
function split(storage: Storage, resolve = identity) {
  const entries = orderNodes(storage, resolve);
  const zone = accountPaths(passwd, db, "/home", resolve);
  const lanes = splitLanes(entries, passwd, db, zone, { etc: resolve("/etc"), systemd: resolve("/etc/systemd") });
  return { early: lanes.early.map((e) => e.path), late: lanes.late.map((e) => e.path), unitsEarly: lanes.unitsEarly };
}

describe("knownOwners()", () => {
  test("knownOwners() knows pinned ids of the config and untouched accounts of the root, nothing else", () => {
    const k = knownOwners(passwd, db);
    expect(k.users.map((u) => [u.name, u.uid])).toEqual([["alice", 1100], ["carol", 1200], ["root", 0], ["core", 500]]);
    // "floating" has no gid; a group named like a new user may be created by useradd.
    expect(k.groups.map((g) => [g.name, g.gid])).toEqual([["ops", 1500], ["root", 0], ["core", 500], ["wheel", 10]]);
  });

  test("knownOwners() drops an account the config modifies or deletes without a fixed id", () => {
    const k = knownOwners({ users: [{ name: "core", shouldExist: false }], groups: [{ name: "wheel" }] }, db);
    expect(k.users.map((u) => u.name)).toEqual(["root"]);
    // userdel takes the user's own group with it.
    expect(k.groups.map((g) => g.name)).toEqual(["root"]);
  });
});

describe("splitLanes()", () => {
  test("splitLanes() writes early what is owned by ids or known names, late what needs the tools", () => {
    const r = split({
      files: [
        { path: "/etc/app/a.conf" },
        { path: "/opt/x", user: { name: "alice" }, group: { name: "ops" } },
        { path: "/opt/y", user: { name: "bob" } },
        { path: "/opt/z", group: { name: "floating" } },
        { path: "/opt/w", user: { id: 4242 }, group: { name: "wheel" } },
      ],
    });
    expect(r.early).toEqual(["/opt/x", "/opt/w", "/etc/app/a.conf"]);
    expect(r.late).toEqual(["/opt/y", "/opt/z"]);
    expect(r.unitsEarly).toBe(true);
  });

  test("splitLanes() keeps what the tools read or write, and everything above it, for after them", () => {
    const r = split({
      files: [
        { path: "/etc/passwd" },
        { path: "/etc/group-" },
        { path: "/etc/login.defs" },
        { path: "/etc/skel/.bashrc" },
        { path: "/etc/default/useradd" },
        { path: "/home/alice/notes" },
        { path: "/home/core/.profile" },
        { path: "/srv/carol/x" },
        { path: "/var/spool/mail/alice" },
        { path: "/etc/motd" },
      ],
      directories: [{ path: "/etc" }, { path: "/srv" }, { path: "/var/lib/app" }],
    });
    // /etc/motd alone would go early; below the late directory node /etc it waits too.
    expect(r.early).toEqual(["/var/lib/app"]);
    expect(r.late).toContain("/etc/motd");
    expect(r.late).toContain("/etc");
    expect(r.late).toContain("/srv");
    expect(r.late).toContain("/home/core/.profile");
  });

  test("splitLanes() keeps nodes below a late node, and links to late nodes or account paths, for after", () => {
    const r = split({
      directories: [{ path: "/data", user: { name: "bob" } }, { path: "/pub" }],
      files: [{ path: "/data/inside" }, { path: "/pub/file" }],
      links: [
        { path: "/pub/to-data", target: "../data/inside" },
        { path: "/pub/to-passwd", target: "/etc/passwd" },
        { path: "/pub/to-pub", target: "file" },
        { path: "/pub/hard-data", target: "/data/inside", hard: true },
        { path: "/pub/hard-pub", target: "/pub/file", hard: true },
      ],
    });
    expect(r.late.sort()).toEqual(["/data", "/data/inside", "/pub/hard-data", "/pub/to-data", "/pub/to-passwd"]);
    expect(r.early.sort()).toEqual(["/pub", "/pub/file", "/pub/hard-pub", "/pub/to-pub"]);
  });

  test("splitLanes() writes units late when a late node is in the systemd directories", () => {
    expect(split({ files: [{ path: "/etc/systemd/system/x.service", user: { name: "bob" } }] }).unitsEarly).toBe(false);
    expect(split({ directories: [{ path: "/etc/systemd", user: { name: "bob" } }] }).unitsEarly).toBe(false);
    expect(split({ files: [{ path: "/etc/systemd/system/x.service" }] }).unitsEarly).toBe(true);
  });

  test("splitLanes() sees account paths where the root's symlinks lead", () => {
    // The root has /home -> /var/home and /etc -> /usr/etc.
    const resolve = (p: string) => cleanPath(p.replace(/^\/home(\/|$)/, "/var/home$1").replace(/^\/etc(\/|$)/, "/usr/etc$1"));
    const r = split({ files: [{ path: "/var/home/alice/x" }, { path: "/usr/etc/shadow" }, { path: "/usr/etc/app.conf" }, { path: "/var/lib/x" }] }, resolve);
    expect(r.late.sort()).toEqual(["/usr/etc/shadow", "/var/home/alice/x"]);
    expect(r.early.sort()).toEqual(["/usr/etc/app.conf", "/var/lib/x"]);
  });
});
