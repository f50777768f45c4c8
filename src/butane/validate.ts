// Butane's own checks of the source config (before translation): conflicting content sources,
// mount-unit requirements, trees without `local`, and modes that look like decimal typos.
import { checkIgnitionConfig } from "./ignition_check.ts";
import { errorAt, warningAt, type ConfigPath, type PendingEntry } from "./report.ts";
import { BASE_SPECS, type BaseVersion, type FieldType, type Obj, type StructType } from "./schema.ts";

/** A check run on every struct of one type name found in the config. */
export type StructCheck = (v: Obj, path: ConfigPath, out: PendingEntry[]) => void;

/** Visits every struct value in `v` (depth first), calling `visit` with its type and path. */
export function walkStructs(st: StructType, v: Obj, path: ConfigPath, visit: (st: StructType, v: Obj, path: ConfigPath) => void): void {
  visit(st, v, path);
  for (const f of st.fields) {
    const x = v[f.yaml];
    if (x === undefined) continue;
    walkValue(f.type, x, [...path, f.yaml], visit);
  }
}

function walkValue(t: FieldType, x: unknown, path: ConfigPath, visit: (st: StructType, v: Obj, path: ConfigPath) => void): void {
  if (t.kind === "struct") walkStructs(t.struct, x as Obj, path, visit);
  else if (t.kind === "list") (x as unknown[]).forEach((item, i) => walkValue(t.item, item, [...path, i], visit));
}

const MESSAGES = {
  tooManySources: "only one of the following can be set: inline, local, source",
  tooManySystemdSources: "only one of the following can be set: contents, contents_local",
  mountUnitNoPath: "path is required if with_mount_unit is true and format is not swap",
  mountUnitNoFormat: "format is required if with_mount_unit is true",
  treeNoLocal: "local is required",
  decimalMode: "unreasonable mode would be reasonable if specified in octal; remember to add a leading zero",
  unknownInlineVersion: "skipping validation for the merge/replace ignition config due to an unkown version",
};

const blank = (s: unknown) => s === undefined || s === "";

/** The Ignition spec inline configs of base 0.7 must use to be checked. */
const INLINE_CONFIG_VERSION = BASE_SPECS[7];

function checkInlineIgnitionConfig(text: string, path: ConfigPath, out: PendingEntry[]): void {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    out.push(errorAt(path, `invalid Ignition config: ${(e as Error).message}`));
    return;
  }
  const version = (doc as { ignition?: { version?: unknown } } | null)?.ignition?.version;
  if (version !== INLINE_CONFIG_VERSION) {
    out.push(warningAt([...path, "ignition", "version"], MESSAGES.unknownInlineVersion));
    return;
  }
  for (const issue of checkIgnitionConfig(doc as Record<string, unknown>, INLINE_CONFIG_VERSION)) {
    out.push({ kind: issue.kind, path: [...path, ...issue.path], message: issue.message });
  }
}

/** The base checks for one base version, keyed by struct type name. */
export function baseChecks(base: BaseVersion): Record<string, StructCheck> {
  const checks: Record<string, StructCheck> = {
    File: (v, path, out) => {
      if (typeof v.mode === "number" && checkDecimalMode(v.mode, false)) out.push(warningAt([...path, "mode"], MESSAGES.decimalMode));
    },
    Directory: (v, path, out) => {
      if (typeof v.mode === "number" && checkDecimalMode(v.mode, true)) out.push(warningAt([...path, "mode"], MESSAGES.decimalMode));
    },
  };
  if (base === 1) {
    checks.FileContents = (v, path, out) => {
      if (v.inline !== undefined && v.source !== undefined) out.push(errorAt([...path, "inline"], MESSAGES.tooManySources));
    };
    return checks;
  }
  checks.Resource = (v, path, out) => {
    let field = "";
    let sources = 0;
    for (const name of ["local", "inline", "source"]) {
      if (v[name] !== undefined) {
        sources++;
        field = name;
      }
    }
    if (sources > 1) {
      out.push(errorAt([...path, field], MESSAGES.tooManySources));
      return;
    }
    // From base 0.7, configs merged or replaced inline are checked as Ignition configs.
    if (base >= 7 && path[0] === "ignition" && path[1] === "config" && typeof v.inline === "string") {
      checkInlineIgnitionConfig(v.inline, [...path, "inline"], out);
    }
  };
  checks.Filesystem = (v, path, out) => {
    if (v.with_mount_unit !== true) return;
    if (base <= 3) {
      if (blank(v.path)) out.push(errorAt([...path, "path"], MESSAGES.mountUnitNoPath));
      if (blank(v.format)) out.push(errorAt([...path, "format"], MESSAGES.mountUnitNoFormat));
    } else if (blank(v.format)) {
      out.push(errorAt([...path, "format"], MESSAGES.mountUnitNoFormat));
    } else if (v.format !== "swap" && blank(v.path)) {
      out.push(errorAt([...path, "path"], MESSAGES.mountUnitNoPath));
    }
  };
  checks.Tree = (v, path, out) => {
    if (blank(v.local)) out.push(errorAt(path, MESSAGES.treeNoLocal));
  };
  if (base >= 5) {
    const systemdSources: StructCheck = (v, path, out) => {
      if (v.contents_local !== undefined && v.contents !== undefined) {
        out.push(errorAt([...path, "contents_local"], MESSAGES.tooManySystemdSources));
      }
    };
    checks.Unit = systemdSources;
    checks.Dropin = systemdSources;
  }
  return checks;
}

/**
 * True when a mode was probably written in decimal by mistake: read as octal digits it would
 * be a typical mode (644, 755, …) while its actual value is not.
 */
export function checkDecimalMode(mode: number, directory: boolean): boolean {
  const corrected = decimalModeToOctal(mode);
  if (corrected === null) return false;
  return !isTypicalMode(mode, directory) && isTypicalMode(corrected, directory);
}

function decimalModeToOctal(mode: number): number | null {
  if (mode < 0 || mode > 7777) return null;
  let out = 0;
  for (let divisor = 1000; divisor > 0; divisor = Math.floor(divisor / 10)) {
    const digit = Math.floor(mode / divisor) % 10;
    if (digit > 7) return null;
    out = (out << 3) | digit;
  }
  return out;
}

/** A permission mode a user plausibly meant (readable, consistent user ⊇ group ⊇ other). */
function isTypicalMode(mode: number, directory: boolean): boolean {
  if (mode === 0) return true;
  const perms = [mode & 0o7, (mode & 0o70) >> 3, (mode & 0o700) >> 6];
  let hadR = false;
  let hadW = false;
  let hadX = false;
  for (const perm of perms) {
    const r = (perm & 4) !== 0;
    const w = (perm & 2) !== 0;
    const x = (perm & 1) !== 0;
    if ((!r && hadR) || (!w && hadW) || (!x && hadX)) return false;
    if (x && hadR && !hadX) return false;
    if ((w || x) && !r) return false;
    hadR ||= r;
    hadW ||= w;
    hadX ||= x;
  }
  if (!hadR) return false;
  if (directory) {
    if (!hadX) return false;
    if ((mode & 0o4000) !== 0) return false;
    if ((mode & 0o3000) !== 0 && !hadW) return false;
  } else {
    if ((mode & 0o6000) !== 0) {
      if (!hadX) return false;
      if ((mode & 2) !== 0) return false;
    }
    if ((mode & 0o1000) !== 0) return false;
  }
  return true;
}
