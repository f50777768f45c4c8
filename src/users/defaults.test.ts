import { describe, expect, test } from "bun:test";
import { dayOf, LoginDefs, parseUseraddDefaults } from "./defaults.ts";

describe("LoginDefs", () => {
  const defs = LoginDefs.parse(
    [
      "# comment",
      "UID_MIN\t\t 2000   ",
      'MAIL_DIR "/var/spool/mail"',
      "UMASK 077",
      "HOME_MODE 0750",
      "PASS_MAX_DAYS 0x10",
      "UID_MIN 3000",
      "USERGROUPS_ENAB Yes",
      "NOT_AN_ITEM 5",
      "CREATE_HOME",
      "SUB_UID_COUNT -1",
    ].join("\n"),
  );

  test("LoginDefs.parse() reads items as getdef does: last occurrence wins, quotes and blanks stripped", () => {
    expect(defs.ulong("UID_MIN", 1000n)).toBe(3000n);
    expect(defs.str("MAIL_DIR")).toBe("/var/spool/mail");
    expect(defs.str("NOT_AN_ITEM")).toBeUndefined();
    expect(defs.str("CREATE_HOME")).toBeUndefined();
  });

  test("LoginDefs numbers are octal with a leading 0 and hex with 0x; booleans are \"yes\" in any case", () => {
    expect(defs.num("UMASK", 0o22)).toBe(0o77);
    expect(defs.num("HOME_MODE", 0)).toBe(0o750);
    expect(defs.num("PASS_MAX_DAYS", -1)).toBe(16);
    expect(defs.num("PASS_MIN_DAYS", -1)).toBe(-1);
    expect(defs.bool("USERGROUPS_ENAB")).toBe(true);
    expect(defs.bool("CREATE_HOME")).toBe(false);
    expect(defs.ulong("SUB_UID_COUNT", 65536n)).toBe((1n << 64n) - 1n);
  });

  test("LoginDefs.parse(null) leaves every item at its default", () => {
    const none = LoginDefs.parse(null);
    expect(none.ulong("GID_MIN", 1000n)).toBe(1000n);
    expect(none.bool("USERGROUPS_ENAB")).toBe(false);
  });
});

describe("parseUseraddDefaults()", () => {
  test("parseUseraddDefaults() matches lines by their start and takes the value verbatim", () => {
    const d = parseUseraddDefaults("# HOME=/ignored\nSHELL=/bin/sh\nHOME=/srv/homes/\nSKEL=\nGROUP=users\nINACTIVE=30\n CREATE_MAIL_SPOOL=yes\n");
    expect(d).toMatchObject({ shell: "/bin/sh", home: "/srv/homes/", skel: "/etc/skel", group: "users", inactive: 30, createMailSpool: "no" });
  });

  test("parseUseraddDefaults(null) gives Debian's compiled-in defaults", () => {
    expect(parseUseraddDefaults(null)).toMatchObject({ home: "/home", shell: "/bin/bash", skel: "/etc/skel", createMailSpool: "no", logInit: "yes", inactive: -1, expire: "" });
  });

  test("parseUseraddDefaults() ignores an invalid INACTIVE with a warning", () => {
    const d = parseUseraddDefaults("INACTIVE=-5\n");
    expect(d.inactive).toBe(-1);
    expect(d.warnings).toHaveLength(1);
  });
});

describe("dayOf()", () => {
  test.each([
    ["", -1],
    ["19000", 19000],
    ["-1", -1],
    ["2024-01-02", 19724],
    ["next tuesday", null],
  ])("dayOf(%p) is %p", (s, want) => {
    expect(dayOf(s)).toBe(want);
  });
});
