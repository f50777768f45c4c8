// URL parsing with the acceptance rules of Go's net/url `Parse`, which decides what Ignition
// calls "unable to parse url". WHATWG `URL` differs (it normalises and rejects other inputs), so
// validation needs this narrower, faithful parser. Only the parts validation reads are kept.

/** The pieces of a parsed URL that the config rules need. */
export interface ParsedUrl {
  /** Lower-cased scheme, "" when there is none. */
  scheme: string;
  /** Everything after "scheme:" when it does not start with "/" (e.g. data: and arn: URLs). */
  opaque: string;
  host: string;
  path: string;
  rawQuery: string;
}

/** A parsed URL, or why Go would refuse to parse it. */
export type UrlParseResult = { ok: true; url: ParsedUrl } | { ok: false; reason: string };

/** Parses a URL like Go's url.Parse: a fragment is split off first, then the rest is checked. */
export function parseUrl(raw: string): UrlParseResult {
  const hash = raw.indexOf("#");
  const main = hash >= 0 ? raw.slice(0, hash) : raw;
  const fragment = hash >= 0 ? raw.slice(hash + 1) : "";
  const r = parseWithoutFragment(main);
  if (!r.ok) return r;
  if (fragment !== "") {
    const bad = checkEscapes(fragment, "fragment");
    if (bad) return { ok: false, reason: bad };
  }
  return r;
}

const CONTROL = /[\x00-\x1f\x7f]/;

function parseWithoutFragment(raw: string): UrlParseResult {
  if (CONTROL.test(raw)) return { ok: false, reason: "it contains a control character" };
  const url: ParsedUrl = { scheme: "", opaque: "", host: "", path: "", rawQuery: "" };
  if (raw === "*") {
    url.path = "*";
    return { ok: true, url };
  }
  const s = splitScheme(raw);
  if (!s.ok) return s;
  url.scheme = s.scheme.toLowerCase();
  let rest = s.rest;
  if (rest.endsWith("?") && countChar(rest, "?") === 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      url.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/")) {
    if (url.scheme !== "") {
      url.opaque = rest;
      return { ok: true, url };
    }
    const slash = rest.indexOf("/");
    const segment = slash >= 0 ? rest.slice(0, slash) : rest;
    if (segment.includes(":")) return { ok: false, reason: "the first path segment contains a colon" };
  }
  if ((url.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const a = parseAuthority(authority);
    if (!a.ok) return a;
    url.host = a.host;
  }
  const bad = checkEscapes(rest, "path");
  if (bad) return { ok: false, reason: bad };
  url.path = rest;
  return { ok: true, url };
}

function splitScheme(raw: string): { ok: true; scheme: string; rest: string } | { ok: false; reason: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z")) continue;
    if ((c >= "0" && c <= "9") || c === "+" || c === "-" || c === ".") {
      if (i === 0) return { ok: true, scheme: "", rest: raw };
      continue;
    }
    if (c === ":") {
      if (i === 0) return { ok: false, reason: "the scheme is missing before \":\"" };
      return { ok: true, scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    }
    return { ok: true, scheme: "", rest: raw };
  }
  return { ok: true, scheme: "", rest: raw };
}

function parseAuthority(authority: string): { ok: true; host: string } | { ok: false; reason: string } {
  const at = authority.lastIndexOf("@");
  const hostPart = at >= 0 ? authority.slice(at + 1) : authority;
  const h = checkHost(hostPart);
  if (h) return { ok: false, reason: h };
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!isValidUserinfo(userinfo)) return { ok: false, reason: "the user information contains an invalid character" };
    const bad = checkEscapes(userinfo, "userinfo");
    if (bad) return { ok: false, reason: bad };
  }
  return { ok: true, host: hostPart };
}

function checkHost(host: string): string | null {
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) return `the host is missing "]"`;
    const colonPort = host.slice(close + 1);
    if (!isValidOptionalPort(colonPort)) return `invalid port "${colonPort}" after the host`;
    const zone = host.slice(0, close).indexOf("%25");
    if (zone >= 0) {
      return checkEscapes(host.slice(0, zone), "host") ?? checkEscapes(host.slice(zone, close), "zone") ?? checkEscapes(host.slice(close), "host");
    }
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      const colonPort = host.slice(colon);
      if (!isValidOptionalPort(colonPort)) return `invalid port "${colonPort}" after the host`;
    }
  }
  return checkEscapes(host, "host");
}

function isValidOptionalPort(port: string): boolean {
  if (port === "") return true;
  if (port[0] !== ":") return false;
  for (let i = 1; i < port.length; i++) if (port[i]! < "0" || port[i]! > "9") return false;
  return true;
}

function isValidUserinfo(s: string): boolean {
  for (const c of s) {
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")) continue;
    if ("-._:~!$&'()*+,;=%@".includes(c)) continue;
    return false;
  }
  return true;
}

type EscapeMode = "host" | "zone" | "path" | "fragment" | "userinfo" | "query";

const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

// Characters a host may contain unescaped (besides letters and digits).
const HOST_OK = "!$&'()*+,;=:[]<>\"-_.~";

/** Checks percent-escapes (and, for hosts, bare characters); returns a reason or null. */
function checkEscapes(s: string, mode: EscapeMode): string | null {
  if (mode !== "host" && mode !== "zone" && !s.includes("%")) return null;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === "%") {
      if (!isHex(s[i + 1]) || !isHex(s[i + 2])) return `invalid escape "${s.slice(i, i + 3)}"`;
      const triple = s.slice(i, i + 3);
      if (mode === "host" && parseInt(s[i + 1]!, 16) < 8 && triple !== "%25") return `invalid escape "${triple}" in the host`;
      if (mode === "zone") {
        const v = parseInt(s.slice(i + 1, i + 3), 16);
        if (triple !== "%25" && v !== 0x20 && hostNeedsEscape(String.fromCharCode(v))) return `invalid escape "${triple}" in the host`;
      }
      i += 3;
      continue;
    }
    if ((mode === "host" || mode === "zone") && c.charCodeAt(0) < 0x80 && hostNeedsEscape(c)) {
      return `invalid character "${c}" in the host`;
    }
    i++;
  }
  return null;
}

function hostNeedsEscape(c: string): boolean {
  if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")) return false;
  return !HOST_OK.includes(c);
}

function countChar(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/**
 * The values of one query parameter, parsed like Go's url.Values (pairs split on "&", pairs with
 * ";" or bad escapes skipped, "+" meaning space). Undefined when the parameter is absent.
 */
export function queryValues(rawQuery: string, name: string): string[] | undefined {
  let found: string[] | undefined;
  for (const pair of rawQuery.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const k = unescapeQuery(eq >= 0 ? pair.slice(0, eq) : pair);
    const v = unescapeQuery(eq >= 0 ? pair.slice(eq + 1) : "");
    if (k === null || v === null) continue;
    if (k === name) (found ??= []).push(v);
  }
  return found;
}

function unescapeQuery(s: string): string | null {
  if (checkEscapes(s, "query")) return null;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === "%") {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (c === "+") {
      bytes.push(0x20);
      i++;
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
