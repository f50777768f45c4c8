// Declarations as values: every builder returns a Part (one Ignition entry, keyed as Ignition
// keys it) carrying where it was declared and its priority. Parts are plain data; composing
// them into a config is the authoring pipeline's job (src/authoring/compose.ts).
import type { Origin } from "./origin.ts";
import type { Spec } from "./spec.generated.ts";

/** Brand of part objects. */
export const PART = Symbol.for("nexus.part");

/** What a part declares; parts of one namespace and key describe one Ignition entry. */
export type PartKind =
  | "file"
  | "directory"
  | "link"
  | "unit"
  | "user"
  | "group"
  | "disk"
  | "raid"
  | "luks"
  | "filesystem"
  | "kernelArgument"
  | "mergeConfig"
  | "replaceConfig"
  | "certificateAuthority"
  | "proxy"
  | "timeouts";

/** Priorities, NixOS-style: a default yields to a normal declaration, which yields to a forced one. */
export const RANK = { default: 1, normal: 2, force: 3 } as const;
export type Rank = (typeof RANK)[keyof typeof RANK];

/** The data of one declaration. */
export interface PartData {
  kind: PartKind;
  /** Ignition's key of the entry (a path, a unit or user name, a device, …). */
  key: string;
  /** The entry's fields, Ignition-shaped; contents values stay symbolic until emitted. */
  value: Record<string, unknown>;
  rank: Rank;
  origin?: Origin;
  /** Names of the fragments the part came through, innermost first. */
  fragments: readonly string[];
}

/**
 * One declaration. `V` is the spec the declaration was checked against; it is inferred from
 * the `system()` (or generic fragment) the part is placed in, so fields the target spec lacks
 * are type errors. Parts of different specs are assignable to each other: a fragment written
 * without a spec is checked again, at run time, against the spec of the system it joins.
 */
// V is deliberately unused in the structure: TypeScript still infers it from a contextual
// Part<V> (so builders inside a pinned system check against its spec), while parts of any
// spec stay assignable to each other.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export interface Part<V extends Spec = Spec> {
  readonly [PART]: PartData;
}

/** A list of parts as programs write it: nested lists, and `false`/`null`/`undefined` for conditionals. */
export type Parts<V extends Spec = Spec> = readonly (Part<V> | Parts<V> | false | null | undefined)[];

/** True for a part object. */
export function isPart(v: unknown): v is Part {
  return typeof v === "object" && v !== null && PART in v;
}

/** Makes a part. */
export function makePart<V extends Spec>(data: Omit<PartData, "rank" | "fragments"> & Partial<Pick<PartData, "rank" | "fragments">>): Part<V> {
  return { [PART]: { rank: RANK.normal, fragments: [], ...data } };
}

/** Flattens nested part lists, dropping conditional holes; anything else is a clear error. */
export function flattenParts(list: unknown, where: string): PartData[] {
  const out: PartData[] = [];
  const visit = (v: unknown, path: string) => {
    if (v === false || v === null || v === undefined) return;
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, `${path}[${i}]`));
    if (isPart(v)) return void out.push(v[PART]);
    if (isSystem(v)) return v[SYSTEM].parts.forEach((p) => out.push(p));
    throw new TypeError(`${where}${path} is not a declaration (got ${typeof v === "object" ? JSON.stringify(v)?.slice(0, 60) : String(v)}): use file(), unit(), user(), …`);
  };
  visit(list, "");
  return out;
}

/** Parts with another rank (mkDefault, mkForce). */
export function withRank<T extends Parts | Part>(rank: Rank, parts: T): T {
  const re = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(re);
    if (isPart(v)) return { [PART]: { ...v[PART], rank } };
    return v;
  };
  return re(parts) as T;
}

/** Parts that came through the named fragment. */
export function inFragment<T extends Parts>(name: string, parts: T): T {
  const re = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(re);
    if (isPart(v)) return { [PART]: { ...v[PART], fragments: [...v[PART].fragments, name] } };
    return v;
  };
  return re(parts) as T;
}

// Systems: a program's default export.

/** Brand of system objects. */
export const SYSTEM = Symbol.for("nexus.system");

/** The output a system asks for. */
export interface SystemOptions<V extends Spec = Spec> {
  /**
   * The Ignition spec to emit (default: the lowest that has every feature used); for target
   * "flatcar" also "3.6.0-experimental", the newest spec Flatcar reads.
   */
  spec?: V | "3.6.0-experimental";
  /** "ignition" (default) or "flatcar" (what Flatcar's Ignition reads). */
  target?: "ignition" | "flatcar";
}

/** A whole machine: its declarations and the output it asks for. */
export interface System<V extends Spec = Spec> {
  readonly [SYSTEM]: { options: SystemOptions<V>; parts: PartData[]; origin?: Origin };
}

/** True for a system object. */
export function isSystem(v: unknown): v is System {
  return typeof v === "object" && v !== null && SYSTEM in v;
}
