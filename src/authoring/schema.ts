// `nexus schema`: a JSON Schema of one spec version for editors and CI. The structure comes from
// the zod schemas the validator parses with (z.toJSONSchema), so it never drifts from them; each
// struct becomes a named definition (the field table's struct names), every property gets its
// one-line description from config/field_docs.ts, and config/field_rules.ts adds what the
// validator checks and JSON Schema can state (required keys, version, patterns, enums, ranges,
// rules across the fields of one struct).
import { z } from "zod";
import { FIELD_DOCS } from "../config/field_docs.ts";
import { FIELD_RULES, STRUCT_RULES, type FieldRule, type Json, type SchemaFragment, type Span } from "../config/field_rules.ts";
import { SCHEMAS } from "../config/schema/versions.ts";
import { fieldsIn, type FieldKind, type TableField } from "../config/structure.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../config/types.ts";

/** JSON Schema dialects `nexus schema` writes. */
export const DRAFTS = ["07", "2020-12"] as const;
export type Draft = (typeof DRAFTS)[number];

const DIALECT: Record<Draft, { uri: string; zodTarget: "draft-7" | "draft-2020-12"; defs: string }> = {
  "07": { uri: "http://json-schema.org/draft-07/schema#", zodTarget: "draft-7", defs: "definitions" },
  "2020-12": { uri: "https://json-schema.org/draft/2020-12/schema", zodTarget: "draft-2020-12", defs: "$defs" },
};

type Node = { [keyword: string]: Json };

const rank = (v: SpecVersion) => SPEC_VERSIONS.indexOf(v);
/** True when a rule's span covers `version`. */
export function inSpan(span: Span, version: SpecVersion): boolean {
  return (!span.since || rank(version) >= rank(span.since)) && (!span.until || rank(version) < rank(span.until));
}

/** The rules of `struct.field` that hold in `version`. */
export function fieldRulesIn(struct: string, field: string, version: SpecVersion): FieldRule[] {
  return (FIELD_RULES[`${struct}.${field}`] ?? []).filter((r) => inSpan(r, version));
}

/** The closed (or suggested) values of a field in `version`, from FIELD_DOCS. */
export function fieldValuesIn(struct: string, field: string, version: SpecVersion): string[] {
  return (FIELD_DOCS[`${struct}.${field}`]?.values ?? []).filter((v) => !v.since || rank(version) >= rank(v.since)).map((v) => v.value);
}

// zod writes a nullable value either as `type: [T, "null"]` or as `anyOf: [X, {type: "null"}]`.
function withoutNull(node: Node): Node {
  if (Array.isArray(node.type) && node.type.includes("null")) {
    const types = node.type.filter((t) => t !== "null");
    return { ...node, type: types.length === 1 ? types[0]! : types };
  }
  const anyOf = node.anyOf as Node[] | undefined;
  if (anyOf && anyOf.length === 2 && anyOf.some((b) => b.type === "null")) return anyOf.find((b) => b.type !== "null")!;
  return node;
}

/** A value that may also be null (Ignition reads null as unset). */
function orNull(node: Node): Node {
  if (typeof node.type === "string" && node.$ref === undefined) {
    const out: Node = { ...node, type: [node.type, "null"] };
    if (Array.isArray(node.enum)) out.enum = [...node.enum, null];
    return out;
  }
  return { anyOf: [node, { type: "null" }] };
}

class Generator {
  readonly defs = new Map<string, Node>();
  constructor(
    readonly version: SpecVersion,
    readonly draft: Draft,
  ) {}

  ref(struct: string): Node {
    return { $ref: `#/${DIALECT[this.draft].defs}/${struct}` };
  }

  /** The schema of one struct (zod's object schema plus the overlay), properties in zod's order. */
  struct(name: string, zodNode: Node): Node {
    const props = (zodNode.properties ?? {}) as Record<string, Node>;
    const fields = fieldsIn(name, this.version);
    const names = fields.map((f) => f.name);
    if (Object.keys(props).join() !== names.join()) {
      throw new Error(`nexus schema: zod's ${name} in ${this.version} has fields ${Object.keys(props).join(", ")}, the field table ${names.join(", ")}`);
    }
    const properties: Record<string, Node> = {};
    const required: string[] = [];
    for (const f of fields) {
      const rules = fieldRulesIn(name, f.name, this.version);
      const isRequired = rules.some((r) => r.required);
      if (isRequired) required.push(f.name);
      const value = this.value(name, f, withoutNull(props[f.name]!), rules);
      const doc = FIELD_DOCS[`${name}.${f.name}`]?.doc;
      if (!doc) throw new Error(`nexus schema: ${name}.${f.name} has no description in config/field_docs.ts`);
      const node = isRequired ? value : orNull(value);
      properties[f.name] = node.$ref !== undefined ? { description: doc, allOf: [node] } : { description: doc, ...node };
    }
    const out: Node = { type: "object", properties };
    if (required.length > 0) out.required = required;
    if (zodNode.additionalProperties === false) out.additionalProperties = false;
    const structRules = (STRUCT_RULES[name] ?? []).filter((r) => inSpan(r, this.version)).map((r) => r.schema);
    if (structRules.length > 0) out.allOf = structRules;
    return out;
  }

  /** A field's value: a struct reference, a list, or a scalar with the overlay applied. */
  value(struct: string, f: TableField, zodNode: Node, rules: FieldRule[]): Node {
    const kind = f.type;
    if (kind.kind === "list") {
      if (zodNode.type !== "array") throw new Error(`nexus schema: ${struct}.${f.name} is a list in the field table but not in zod`);
      const items = this.item(struct, f, kind.item, withoutNull(zodNode.items as Node), rules);
      return { type: "array", items, ...merge(rules.map((r) => r.list)) };
    }
    return this.item(struct, f, kind, zodNode, rules);
  }

  item(struct: string, f: TableField, kind: Exclude<FieldKind, { kind: "list" }>, zodNode: Node, rules: FieldRule[]): Node {
    if (kind.kind === "struct") return this.hoist(kind.struct, zodNode);
    const out: Node = { ...zodNode, ...merge(rules.map((r) => r.value)) };
    const message = rules.find((r) => r.message)?.message;
    if (message) out.patternErrorMessage = message;
    if (rules.some((r) => r.isVersion)) out.const = this.version;
    const values = fieldValuesIn(struct, f.name, this.version);
    if (rules.some((r) => r.values === "closed")) out.enum = [...(rules.some((r) => r.blank) ? [""] : []), ...values];
    else if (rules.some((r) => r.values === "suggested")) out.examples = values;
    return out;
  }

  /** Names a struct's schema as a definition and returns a reference to it. */
  hoist(name: string, zodNode: Node): Node {
    if (zodNode.type !== "object") throw new Error(`nexus schema: ${name} is a struct in the field table but not in zod`);
    const node = this.struct(name, zodNode);
    const known = this.defs.get(name);
    if (known && JSON.stringify(known) !== JSON.stringify(node)) throw new Error(`nexus schema: ${name} has two shapes in ${this.version}`);
    this.defs.set(name, node);
    return this.ref(name);
  }
}

// Rules of one field that hold together must not set the same keyword (one would be lost).
function merge(fragments: (SchemaFragment | undefined)[]): SchemaFragment {
  const out: SchemaFragment = {};
  for (const f of fragments) {
    for (const [k, v] of Object.entries(f ?? {})) {
      if (k in out) throw new Error(`nexus schema: two rules of one field set "${k}"`);
      out[k] = v;
    }
  }
  return out;
}

/** The JSON Schema of spec `version` in the given dialect (draft-07 by default: what VS Code reads). */
export function generateSchema(version: SpecVersion, draft: Draft = "07"): Node {
  const dialect = DIALECT[draft];
  const zodSchema = z.toJSONSchema(SCHEMAS[version], { target: dialect.zodTarget, io: "input", unrepresentable: "throw" }) as Node;
  const gen = new Generator(version, draft);
  const root = gen.struct("Config", zodSchema);
  const defs = Object.fromEntries([...gen.defs.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    $schema: dialect.uri,
    title: `Ignition config, spec ${version}`,
    description: `A config nexus-init (and Ignition) reads at spec ${version}, with the rules nexus-init validate checks that JSON Schema can state`,
    ...root,
    [dialect.defs]: defs,
  };
}

/** The schema as `nexus schema` prints it: two-space indentation, a final newline. */
export function schemaText(version: SpecVersion, draft: Draft = "07"): string {
  return JSON.stringify(generateSchema(version, draft), null, 2) + "\n";
}
