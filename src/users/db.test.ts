import { describe, expect, test } from "bun:test";
import { AccountDb, AccountFileError, DuplicateEntryError, parseUserDb } from "./db.ts";

describe("AccountDb", () => {
  test("AccountDb.parse() keeps every unchanged line byte for byte, comments and NIS lines included", () => {
    const text = "root:x:0:0:root:/root:/bin/bash\n# a comment\n\ncore:x:0500:500::/home/core:/bin/sh\n+::::::\n";
    const db = AccountDb.parse("passwd", text);
    expect(db.entries().map((e) => [e.name, e.uid])).toEqual([["root", 0], ["core", 500]]);
    expect(db.text()).toBe(text);
    expect(db.changed).toBe(false);
  });

  test("AccountDb.update() rewrites only the changed entry, in the format of putpwent", () => {
    const db = AccountDb.parse("passwd", "root:x:0:0:root:/root:/bin/bash\ncore:x:0500:500::/home/core:/bin/sh\n");
    db.update({ ...db.find("core")!, shell: "/bin/zsh" });
    expect(db.text()).toBe("root:x:0:0:root:/root:/bin/bash\ncore:x:500:500::/home/core:/bin/zsh\n");
    expect(db.changed).toBe(true);
  });

  test("AccountDb.update() adds a new entry before the first NIS line, or at the end", () => {
    const g = AccountDb.parse("group", "root:x:0:\n+:::\n-bad:::\n");
    g.update({ name: "ops", passwd: "x", gid: 1500, members: ["a", "b"] });
    expect(g.text()).toBe("root:x:0:\nops:x:1500:a,b\n+:::\n-bad:::\n");
    const s = AccountDb.parse("gshadow", "root:*::\n");
    s.update({ name: "ops", passwd: "!", admins: [], members: ["a"] });
    expect(s.text()).toBe("root:*::\nops:!::a\n");
  });

  test("AccountDb.update() and remove() refuse a name that appears twice, as commonio does", () => {
    const db = AccountDb.parse("gshadow", "sudo:*::\nsudo:*::\nwheel:*::\n");
    expect(() => db.update({ name: "sudo", passwd: "!", admins: [], members: [] })).toThrow(DuplicateEntryError);
    expect(() => db.remove("sudo")).toThrow(DuplicateEntryError);
    expect(db.remove("wheel")).toBe(true);
    expect(db.remove("nope")).toBe(false);
  });

  test("AccountDb.parse() reads shadow lines as glibc does, and writes changed ones as putspent", () => {
    const db = AccountDb.parse("shadow", "root:*:15887:0:::::\nold:x:1:2:3\nflag:*:1::::::5\n");
    expect(db.find("old")).toMatchObject({ lastChange: 1, min: 2, max: 3, warn: -1, expire: -1, flag: null });
    expect(db.find("flag")).toMatchObject({ flag: 5, min: -1 });
    db.update({ ...db.find("old")! });
    db.update({ ...db.find("root")!, passwd: "$6$h", lastChange: 20000 });
    expect(db.text()).toBe("root:$6$h:20000:0:::::\nold:x:1:2:3::::\nflag:*:1::::::5\n");
  });

  test("AccountDb.parse() joins group lines continued with a backslash, as fgetsx does", () => {
    const db = AccountDb.parse("group", "big:x:5:a,\\\nb,c\nx:x:6:\n");
    expect(db.find("big")!.members).toEqual(["a", "b", "c"]);
    expect(db.text()).toBe("big:x:5:a,b,c\nx:x:6:\n");
  });

  test("AccountDb.parse() keeps empty list items but drops a trailing comma", () => {
    const db = AccountDb.parse("group", "g:x:5:a,,b,\n");
    expect(db.find("g")!.members).toEqual(["a", "", "b"]);
  });

  test.each([
    ["passwd", "root:x:0:0:root:/root\n", 1, "expected 7 colon-separated fields"],
    ["passwd", "root:x:0:0:root:/root:/bin/sh\nu:x:-1:0:::\n", 2, 'invalid user ID "-1"'],
    ["group", "root:x:0:\nwheel:x:ten:\n", 2, 'invalid group ID "ten"'],
    ["group", "wheel:x:10\n", 1, "expected 4 colon-separated fields"],
    ["shadow", "root:*:abc:0:::::\n", 1, "a numeric field is malformed or missing"],
    ["shadow", "root:*:1:2\n", 1, "a numeric field is malformed or missing"],
    ["shadow", "root:*:19000:::::::\n", 1, "a numeric field is malformed or missing"],
    ["gshadow", "wheel:*:root\n", 1, "expected 4 colon-separated fields"],
    ["subuid", "core:100000\n", 1, "expected 3 non-empty colon-separated fields"],
    ["subuid", "core:1e5:65536\n", 1, "invalid number"],
  ] as const)("AccountDb.parse(%p) names the malformed line", (kind, text, line, reason) => {
    let err: unknown;
    try {
      AccountDb.parse(kind, text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AccountFileError);
    expect((err as AccountFileError).line).toBe(line);
    expect((err as AccountFileError).message).toBe(`Cannot read /etc/${kind}: line ${line} is malformed (${reason})`);
  });

  test("AccountDb.sort() orders the lines before the first NIS line and marks the database changed", () => {
    const db = AccountDb.parse("subuid", "b:200000:65536\na:100000:65536\n");
    db.sort((x, y) => (x.start < y.start ? -1 : 1));
    expect(db.text()).toBe("a:100000:65536\nb:200000:65536\n");
    expect(db.changed).toBe(true);
  });

  test("parseUserDb() skips lines it cannot read (lookups only) and treats missing files as empty", () => {
    const db = parseUserDb("root:x:0:0:root:/root:/bin/bash\nbad:x:y:0:::\n", null);
    expect(db.users.map((u) => u.name)).toEqual(["root"]);
    expect(db.groups).toEqual([]);
  });
});
