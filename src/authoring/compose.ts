// Composing declarations into one config, NixOS-style. Parts with the same Ignition key (a node
// path, a unit, user, group, disk, RAID, LUKS or filesystem name, a kernel argument) describe one
// entry: their fields merge; where two declarations set the same field, the higher priority
// (mkForce > normal > mkDefault) wins, identical values merge, and different values at the same
// priority are a conflict naming both lines. Lists of strings are joined; keyed lists (drop-ins,
// partitions, tang servers, HTTP headers) merge entry by entry.
import type { Origin } from "../dsl/origin.ts";
import type { PartData, PartKind, Rank } from "../dsl/parts.ts";
import { contentsKey, holdsSecret, isValue, stableJson, VALUE, type Contents } from "../dsl/values.ts";

/** One composed entry: its merged fields and where each came from. */
export interface ComposedEntry {
  kind: PartKind;
  key: string;
  value: Record<string, unknown>;
  /** Every declaration that contributed, in order. */
  origins: Origin[];
  /** Origins of each field path below the entry ("contents", "dropins.0.contents"). */
  fieldOrigins: Map<string, Origin[]>;
}

/** Two declarations of one field that disagree at the same priority. */
export interface Conflict {
  /** "file /etc/motd", "unit app.service". */
  entry: string;
  /** The field path below the entry, or "" for the entry's kind. */
  field: string;
  sides: { origin?: Origin; shown: string }[];
  rank: Rank;
}

/** The result of composing. */
export interface Composed {
  entries: ComposedEntry[];
  conflicts: Conflict[];
}

/** How declarations of one kind share keys: files, directories and links share paths. */
const NAMESPACE: Record<PartKind, string> = {
  file: "node",
  directory: "node",
  link: "node",
  unit: "unit",
  user: "user",
  group: "group",
  disk: "disk",
  raid: "raid",
  luks: "luks",
  filesystem: "filesystem",
  kernelArgument: "kernelArgument",
  mergeConfig: "mergeConfig",
  replaceConfig: "replaceConfig",
  certificateAuthority: "certificateAuthority",
  proxy: "proxy",
  timeouts: "timeouts",
};

// Lists whose entries are merged by a key, as Ignition keys them; other lists of objects are
// single values, and lists of strings are joined.
const partitionKey = (p: Record<string, unknown>): string => (typeof p.number === "number" && p.number !== 0 ? `number:${p.number}` : `label:${String(p.label ?? "")}`);
const KEYED_LISTS: Record<string, (item: Record<string, unknown>) => string> = {
  dropins: (d) => String(d.name ?? ""),
  partitions: partitionKey,
  tang: (t) => String(t.url ?? ""),
  httpHeaders: (h) => String(h.name ?? ""),
};

// Fields whose value is opaque contents (compared by bytes, never shown).
const CONTENTS_FIELDS = new Set(["contents", "append", "keyFile", "passwordHash"]);

interface Decl {
  value: Record<string, unknown>;
  rank: Rank;
  origin?: Origin;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(VALUE in v);

/** The comparable identity of a leaf value. */
function leafKey(field: string, v: unknown): string {
  if (CONTENTS_FIELDS.has(field)) return Array.isArray(v) ? v.map((c) => contentsKey(c as Contents)).join("|") : contentsKey(v as Contents);
  if (isValue(v, "local") || isValue(v, "text") || isValue(v, "secret")) return contentsKey(v as Contents);
  return stableJson(v);
}

/** How a conflicting value is shown: never contents or secrets. */
function shownValue(field: string, v: unknown): string {
  if (CONTENTS_FIELDS.has(field) || holdsSecret(v) || isValue(v, "local") || isValue(v, "text") || v instanceof Uint8Array) return "";
  const s = stableJson(v);
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

class Composer {
  readonly conflicts: Conflict[] = [];

  /** Merges declarations of one object (an entry, or an object below one). */
  mergeObject(entry: string, decls: Decl[], prefix: string, fieldOrigins: Map<string, Origin[]>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const fields: string[] = [];
    for (const d of decls) for (const f of Object.keys(d.value)) if (!fields.includes(f)) fields.push(f);
    for (const field of fields) {
      const defs = decls.filter((d) => d.value[field] !== undefined);
      const path = prefix ? `${prefix}.${field}` : field;
      const values = defs.map((d) => d.value[field]);
      const keyOf = KEYED_LISTS[field];
      if (keyOf && values.every((v) => Array.isArray(v))) {
        out[field] = this.mergeKeyedList(entry, defs, field, path, keyOf, fieldOrigins);
      } else if (values.every(isPlainObject) && !CONTENTS_FIELDS.has(field)) {
        out[field] = this.mergeObject(entry, defs.map((d) => ({ ...d, value: d.value[field] as Record<string, unknown> })), path, fieldOrigins);
        fieldOrigins.set(path, origins(defs));
      } else {
        const top = topRank(defs);
        fieldOrigins.set(path, origins(top));
        out[field] = this.mergeLeaf(entry, field, path, top);
      }
    }
    return out;
  }

  private mergeKeyedList(entry: string, defs: Decl[], field: string, path: string, keyOf: (i: Record<string, unknown>) => string, fieldOrigins: Map<string, Origin[]>): unknown[] {
    const groups = new Map<string, Decl[]>();
    for (const d of defs) {
      for (const item of d.value[field] as Record<string, unknown>[]) {
        const k = keyOf(item);
        (groups.get(k) ?? groups.set(k, []).get(k)!).push({ ...d, value: item });
      }
    }
    fieldOrigins.set(path, origins(defs));
    return [...groups.values()].map((g, i) => {
      fieldOrigins.set(`${path}.${i}`, origins(g));
      return this.mergeObject(entry, g, `${path}.${i}`, fieldOrigins);
    });
  }

  private mergeLeaf(entry: string, field: string, path: string, top: Decl[]): unknown {
    if (top.length === 1) return top[0]!.value[field];
    const values = top.map((d) => d.value[field]);
    const scalarLists = values.every((v) => Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null));
    if (scalarLists && !CONTENTS_FIELDS.has(field)) {
      const joined: unknown[] = [];
      for (const v of values as unknown[][]) for (const x of v) if (!joined.includes(x)) joined.push(x);
      return joined;
    }
    const distinct = new Map<string, Decl>();
    for (const d of top) {
      const k = leafKey(field, d.value[field]);
      if (!distinct.has(k)) distinct.set(k, d);
    }
    if (distinct.size > 1) {
      this.conflicts.push({
        entry,
        field: path,
        rank: top[0]!.rank,
        sides: [...distinct.values()].map((d) => ({ origin: d.origin, shown: shownValue(field, d.value[field]) })),
      });
    }
    return values[0];
  }
}

function topRank<T extends { rank: Rank }>(decls: T[]): T[] {
  const max = Math.max(...decls.map((d) => d.rank));
  return decls.filter((d) => d.rank === max);
}

function origins(decls: readonly { origin?: Origin }[]): Origin[] {
  const out: Origin[] = [];
  for (const d of decls) if (d.origin && !out.includes(d.origin)) out.push(d.origin);
  return out;
}

const KIND_WORD: Record<PartKind, string> = {
  file: "file",
  directory: "directory",
  link: "link",
  unit: "unit",
  user: "user",
  group: "group",
  disk: "disk",
  raid: "RAID array",
  luks: "LUKS volume",
  filesystem: "filesystem",
  kernelArgument: "kernel argument",
  mergeConfig: "merged config",
  replaceConfig: "replacement config",
  certificateAuthority: "certificate authority",
  proxy: "proxy",
  timeouts: "timeouts",
};

/** "file /etc/motd", "proxy". */
export function describeEntry(kind: PartKind, key: string): string {
  return ["proxy", "timeouts", "replaceConfig"].includes(kind) ? KIND_WORD[kind] : `${KIND_WORD[kind]} ${key}`;
}

/** Composes declarations (in program order) into entries, collecting every conflict. */
export function composeParts(parts: readonly PartData[]): Composed {
  const groups = new Map<string, PartData[]>();
  for (const p of parts) {
    const k = `${NAMESPACE[p.kind]}\u0000${p.key}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(p);
  }
  const composer = new Composer();
  const entries: ComposedEntry[] = [];
  for (const group of groups.values()) {
    const top = topRank(group);
    const kinds = [...new Set(top.map((p) => p.kind))];
    if (kinds.length > 1) {
      composer.conflicts.push({
        entry: `path ${group[0]!.key}`,
        field: "",
        rank: top[0]!.rank,
        sides: kinds.map((k) => ({ origin: top.find((p) => p.kind === k)!.origin, shown: `a ${KIND_WORD[k]}` })),
      });
    }
    const kind = top[0]!.kind;
    const decls = group.filter((p) => p.kind === kind);
    const fieldOrigins = new Map<string, Origin[]>();
    const value = composer.mergeObject(describeEntry(kind, decls[0]!.key), decls, "", fieldOrigins);
    entries.push({ kind, key: decls[0]!.key, value, origins: origins(decls), fieldOrigins });
  }
  return { entries, conflicts: composer.conflicts };
}

/** How to resolve a conflict. */
export const CONFLICT_HINT =
  "make one of them mkDefault(…) (a default the other overrides) or mkForce(…) (wins over normal declarations), or declare the same value in both";

/** What a conflict is about, in one line (its declarations are listed below it). */
export function describeConflict(c: Conflict): string {
  return c.field === "" ? `${c.entry} is declared as different kinds` : `${c.entry}: "${c.field}" is declared twice with different values`;
}
