// The settings shadow's tools read from the target root: /etc/login.defs (lib/getdef.c) and
// useradd's /etc/default/useradd (get_defaults()), parsed as they parse them, with the
// compiled-in defaults of the tools this project matches (Debian's shadow 4.13: GROUP=100,
// CREATE_MAIL_SPOOL=no, SHELL=/bin/bash).
import { cLong, cULong } from "./cnum.ts";

/** The login.defs items the account tools know; others are ignored, as getdef ignores them. */
const KNOWN_ITEMS = new Set([
  "CHFN_RESTRICT", "CONSOLE_GROUPS", "CONSOLE", "CREATE_HOME", "DEFAULT_HOME", "ENCRYPT_METHOD", "ENV_PATH", "ENV_SUPATH",
  "ERASECHAR", "FAILLOG_ENAB", "FAKE_SHELL", "FTMP_FILE", "GID_MAX", "GID_MIN", "HOME_MODE", "HUSHLOGIN_FILE", "KILLCHAR",
  "LASTLOG_UID_MAX", "LOGIN_RETRIES", "LOGIN_TIMEOUT", "LOG_OK_LOGINS", "LOG_UNKFAIL_ENAB", "MAIL_DIR", "MAIL_FILE",
  "MAX_MEMBERS_PER_GROUP", "MD5_CRYPT_ENAB", "NONEXISTENT", "PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE",
  "SHA_CRYPT_MAX_ROUNDS", "SHA_CRYPT_MIN_ROUNDS", "YESCRYPT_COST_FACTOR", "SUB_GID_COUNT", "SUB_GID_MAX", "SUB_GID_MIN",
  "SUB_UID_COUNT", "SUB_UID_MAX", "SUB_UID_MIN", "SULOG_FILE", "SU_NAME", "SYS_GID_MAX", "SYS_GID_MIN", "SYS_UID_MAX",
  "SYS_UID_MIN", "TTYGROUP", "TTYPERM", "TTYTYPE_FILE", "UID_MAX", "UID_MIN", "UMASK", "USERDEL_CMD", "USERGROUPS_ENAB",
  "SYSLOG_SG_ENAB", "SYSLOG_SU_ENAB",
  // Debian builds with PAM, so these are known but unused; listed so they are read like the rest.
  "CLOSE_SESSIONS", "LOGIN_STRING", "NO_PASSWORD_CONSOLE", "QMAIL_DIR",
]);

/** login.defs as getdef reads it: items by name, last occurrence winning. */
export class LoginDefs {
  private constructor(private readonly items: ReadonlyMap<string, string>) {}

  /** Parses login.defs text (null: no file, every item at its default). */
  static parse(text: string | null): LoginDefs {
    const items = new Map<string, string>();
    for (const raw of (text ?? "").split("\n")) {
      // fgets reads at most 1023 bytes per call; longer lines are cut into pieces. Not modelled:
      // no real login.defs has such lines.
      const line = raw.replace(/[ \t\n\v\f\r]+$/, "");
      const name0 = line.replace(/^[ \t]+/, "");
      if (name0 === "" || name0.startsWith("#")) continue;
      const end = name0.search(/[ \t]/);
      if (end < 0) continue;
      const name = name0.slice(0, end);
      let value = name0.slice(end + 1).replace(/^[ "\t]+/, "");
      const q = value.indexOf('"');
      if (q >= 0) value = value.slice(0, q);
      if (KNOWN_ITEMS.has(name)) items.set(name, value);
    }
    return new LoginDefs(items);
  }

  /** The raw value of an item, or undefined. */
  str(name: string): string | undefined {
    return this.items.get(name);
  }

  /** getdef_bool: "yes" in any case. */
  bool(name: string): boolean {
    return (this.items.get(name) ?? "").toLowerCase() === "yes";
  }

  /** getdef_num: a C int (octal and hex allowed), else the default. */
  num(name: string, dflt: number): number {
    const v = this.items.get(name);
    if (v === undefined) return dflt;
    const n = cLong(v);
    if (n === null || n > 0x7fffffffn || n < -0x80000000n) return dflt;
    return Number(n);
  }

  /** getdef_unum: a non-negative C int, else the default. */
  unum(name: string, dflt: number): number {
    const v = this.items.get(name);
    if (v === undefined) return dflt;
    const n = cLong(v);
    if (n === null || n < 0n || n > 0x7fffffffn) return dflt;
    return Number(n);
  }

  /** getdef_ulong: an unsigned long (octal and hex allowed), else the default. */
  ulong(name: string, dflt: bigint): bigint {
    const v = this.items.get(name);
    if (v === undefined) return dflt;
    return cULong(v) ?? dflt;
  }
}

/** useradd's defaults file, as get_defaults() reads it: raw strings of the lines it matches. */
export interface UseraddDefaults {
  /** GROUP= (a name or gid, looked up when a user is added), if set. */
  group?: string;
  home: string;
  /** INACTIVE=, or -1. */
  inactive: number;
  /** EXPIRE= (a date or a day number), "" when unset. */
  expire: string;
  shell: string;
  skel: string;
  createMailSpool: string;
  logInit: string;
  /** Lines whose value the tool ignored with a warning. */
  warnings: string[];
}

/** Parses /etc/default/useradd (null: no file) with Debian's compiled-in defaults. */
export function parseUseraddDefaults(text: string | null): UseraddDefaults {
  const d: UseraddDefaults = { home: "/home", inactive: -1, expire: "", shell: "/bin/bash", skel: "/etc/skel", createMailSpool: "no", logInit: "yes", warnings: [] };
  if (text === null) return d;
  for (const raw of text.split("\n")) {
    const eq = raw.indexOf("=");
    if (eq < 0) continue;
    const value = raw.slice(eq + 1);
    if (raw.startsWith("GROUP=")) d.group = value;
    else if (raw.startsWith("HOME=")) d.home = value;
    else if (raw.startsWith("INACTIVE=")) {
      const n = cLong(value);
      if (n === null || n < -1n) {
        d.warnings.push(`invalid INACTIVE=${value} in /etc/default/useradd is ignored`);
        d.inactive = -1;
      } else d.inactive = Number(n);
    } else if (raw.startsWith("EXPIRE=")) d.expire = value;
    else if (raw.startsWith("SHELL=")) d.shell = value;
    else if (raw.startsWith("SKEL=")) d.skel = value === "" ? "/etc/skel" : value;
    else if (raw.startsWith("CREATE_MAIL_SPOOL=")) d.createMailSpool = value === "" ? "no" : value;
    else if (raw.startsWith("LOG_INIT=")) d.logInit = value === "" ? d.logInit : value;
  }
  return d;
}

/** strtoday(): days since the epoch of "" (-1), a day number, or an ISO date; null when unreadable here. */
export function dayOf(text: string): number | null {
  if (text === "") return -1;
  let s = text;
  if (s.startsWith("-")) s = s.slice(1);
  s = s.replace(/^ +/, "");
  if (/^[0-9]*$/.test(s)) {
    const n = cLong(text);
    return n === null ? null : Number(n);
  }
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(t) ? null : Math.floor((t / 1000 + 43200) / 86400);
}
