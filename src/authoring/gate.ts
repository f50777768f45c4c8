// Which spec versions a config can be written in: every field it sets and every gated value it
// uses (a filesystem format, a hash algorithm, a URL scheme, special mode bits) has a first spec
// version; the config needs the newest of them. Read off the field table and field docs, so a
// new spec version needs no change here.
import { FIELD_DOCS } from "../config/field_docs.ts";
import { SOURCE_SCHEMES } from "../config/field_rules.ts";
import { structTable } from "../config/structure.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../config/types.ts";

type Obj = Record<string, unknown>;

/** One use of a feature that not every spec version has. */
export interface FeatureUse {
  /** What the user used, as a reader understands it: `field "discard" of a Luks`. */
  feature: string;
  since: SpecVersion;
  /** Where in the config. */
  path: (string | number)[];
  /**
   * Older specs accept the config but drop the feature (with a warning) instead of refusing it:
   * special mode bits before 3.6.0 are masked out, as upstream Ignition does.
   */
  droppedBefore?: true;
}

const rank = (v: SpecVersion) => SPEC_VERSIONS.indexOf(v);
/** The newer of two versions. */
export const newerSpec = (a: SpecVersion, b: SpecVersion): SpecVersion => (rank(a) >= rank(b) ? a : b);
/** True when `v` is at least `min`. */
export const atLeast = (v: SpecVersion, min: SpecVersion): boolean => rank(v) >= rank(min);

// Gated values the field table cannot see: URL schemes and hash algorithms (upstream's
// per-version validation), special mode bits (3.6.0).
const SCHEME_SINCE = new Map(SOURCE_SCHEMES.filter((s) => s.since).map((s) => [s.value, s.since!]));

function valueUses(struct: string, field: string, value: unknown, path: (string | number)[], out: FeatureUse[]): void {
  const doc = FIELD_DOCS[`${struct}.${field}`];
  if (doc?.values && typeof value === "string") {
    const since = doc.values.find((x) => x.value === value)?.since;
    if (since) out.push({ feature: `${field} "${value}"`, since, path });
  }
  if (field === "mode" && typeof value === "number" && (value & 0o7000) !== 0) {
    out.push({ feature: `mode 0o${value.toString(8)} (setuid, setgid or sticky bit)`, since: "3.6.0", path, droppedBefore: true });
  }
  if (field === "hash" && typeof value === "string" && value.startsWith("sha256-")) out.push({ feature: "sha256 verification hash", since: "3.1.0", path });
  if (field === "source" && typeof value === "string") {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
    const since = scheme ? SCHEME_SINCE.get(scheme) : undefined;
    if (since) out.push({ feature: `${scheme}: URL`, since, path });
  }
}

function walk(struct: string, value: Obj, path: (string | number)[], out: FeatureUse[]): void {
  const s = structTable().structs.get(struct);
  if (!s) return;
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const f = s.fields.find((x) => x.name === name);
    const at = [...path, name];
    if (!f) continue;
    if (f.since !== SPEC_VERSIONS[0]) out.push({ feature: `field "${name}" of ${struct}`, since: f.since, path: at });
    if (f.type.kind === "struct") {
      const child = structTable().structs.get(f.type.struct)!;
      if (child.since !== SPEC_VERSIONS[0] && child.since !== f.since) out.push({ feature: `${f.type.struct}`, since: child.since, path: at });
      walk(f.type.struct, v as Obj, at, out);
    } else if (f.type.kind === "list") {
      const item = f.type.item;
      (v as unknown[]).forEach((x, i) => {
        if (item.kind === "struct") walk(item.struct, x as Obj, [...at, i], out);
        else valueUses(struct, name, x, [...at, i], out);
      });
    } else valueUses(struct, name, v, at, out);
  }
}

/** Every use of a feature newer than spec 3.0.0 in `config` (latest model). */
export function featureUses(config: Obj): FeatureUse[] {
  const out: FeatureUse[] = [];
  walk("Config", config, [], out);
  return out;
}

/** The oldest spec that has every feature used (3.0.0 when none is newer); pinning an older one refuses it or drops what it lacks. */
export function neededSpec(uses: readonly FeatureUse[]): SpecVersion {
  return uses.reduce<SpecVersion>((acc, u) => newerSpec(acc, u.since), SPEC_VERSIONS[0]);
}
