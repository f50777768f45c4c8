// What the schema files declare besides the shape zod checks: each struct's name (Ignition's
// Go type name) and the fields that identify its entries in a list (Ignition's Key()), and how
// each list merges. config/structure.ts reads these declarations to build the field table the
// merge, Butane and the DSL use; nothing else describes Ignition's structure.
import { z } from "zod";

// zod compiles a fast path for each object schema with `new Function` on first use. A config
// is parsed once per process, so compiling costs more than it saves: parse without it.
z.config({ jitless: true });

/** A struct's declaration. */
export interface StructDecl {
  /** The struct's name: Ignition's Go type name (File, PasswdUser, …). */
  name: string;
  /**
   * Fields whose value identifies an entry of a merged list; the first one set counts
   * (a partition is known by its number, else by its label). Ignition's Key().
   */
  key?: readonly string[];
  /** In a merged list, a child entry with this field unset removes the parent's entry (HTTP headers). */
  removeWhenUnset?: string;
}

/** How a list merges: by key (the default), or appended whole (option lists, file appends). */
export interface ListDecl {
  merge: "keyed" | "append";
  /** Lists of one struct sharing a key space: a key moved to a sibling list leaves this one. */
  group?: string;
}

const structs = new WeakMap<z.ZodType, StructDecl>();
const lists = new WeakMap<z.ZodType, ListDecl>();

/** The declaration of a struct schema, if it has one. */
export function structDecl(schema: z.ZodType): StructDecl | undefined {
  return structs.get(schema);
}

/** The declaration of a list schema (keyed unless declared otherwise). */
export function listDecl(schema: z.ZodType): ListDecl {
  return lists.get(schema) ?? { merge: "keyed" };
}

/** A strict object (unknown keys surface as issues) declared as the struct `name`. */
export function struct<S extends z.core.$ZodLooseShape>(name: string, shape: S, decl: Omit<StructDecl, "name"> = {}) {
  const o = z.strictObject(shape);
  structs.set(o, { name, ...decl });
  return o;
}

/** A later spec's version of a struct: the same declaration with more fields. */
export function extend<S extends z.core.$ZodShape, U extends z.core.$ZodLooseShape>(base: z.ZodObject<S, z.core.$strict>, shape: U) {
  const o = base.extend(shape);
  const decl = structs.get(base);
  if (decl) structs.set(o, decl);
  return o;
}

/** An optional value of type T: absent and null both mean unset. */
export const opt = <T extends z.ZodType>(t: T) => t.nullish();
/** A list that may be absent or null (null means empty), merged by its entries' key. */
export const list = <T extends z.ZodType>(t: T) => z.array(t).nullish();

/** A list whose entries are appended on merge, never matched (command options, file appends). */
export function appendList<T extends z.ZodType>(t: T) {
  const l = list(t);
  lists.set(l, { merge: "append" });
  return l;
}

/** A list sharing one key space with the other lists of `group` in its struct. */
export function groupList<T extends z.ZodType>(t: T, group: string) {
  const l = list(t);
  lists.set(l, { merge: "keyed", group });
  return l;
}

export const int = z.number().int();
export const str = z.string();
export const bool = z.boolean();
