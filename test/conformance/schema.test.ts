// Conformance of `nexus schema` against upstream: for every spec version our JSON Schema accepts
// every positive config of upstream's blackbox corpus and every Butane corpus output, rejects
// every type mutation and missing required key that upstream's published schema rejects, and
// has exactly upstream's field paths and types (nulls aside: Ignition reads null as unset,
// which upstream's schema does not say for objects and lists).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import Ajv, { type ValidateFunction } from "ajv";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generateSchema } from "../../src/authoring/schema.ts";
import { configWith, ourValidator, routeTo } from "../../src/authoring/schema_fixtures.ts";
import type { Json } from "../../src/config/field_rules.ts";
import { parseConfig } from "../../src/config/index.ts";
import { fieldsIn, structTable, type FieldKind } from "../../src/config/structure.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../../src/config/types.ts";
import { butaneCorpusDir, corpusAvailable, knownFailures, loadVariants, renderForValidation, upstreamSchemaDir } from "./corpus.ts";

// Compiling a schema with ajv takes ~0.5 s, more on a loaded machine; bunfig has no test timeout.
setDefaultTimeout(60_000);

type Obj = { [key: string]: Json };
type Schema = { [keyword: string]: unknown };

const upstreamFile = (v: SpecVersion) => join(upstreamSchemaDir(), `schema-v${v.replace(/^3\.(\d)\.0/, "3_$1").replace("-", "_")}.json`);
const butaneCases = join(butaneCorpusDir(), "cases");

/** Reports a missing input: skipped locally, a failure under CI=true. */
function requireInput(what: string, path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === "true") test(`${what} is present`, () => expect(`${path} exists`).toBe("true under CI"));
  else test.skip(`${what} not found at ${path}`, () => {});
  return false;
}

const errorsOf = (validate: ValidateFunction) => (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);

// ---- (1) every valid config is accepted -------------------------------------------------

/** Deletes every key the validator warned is unknown, returning their paths. */
function withoutUnknownKeys(config: Obj): { cleaned: Obj; unknown: string[] } {
  const issues = parseConfig(JSON.stringify(config)).issues.filter((i) => i.message.startsWith("unknown key"));
  const cleaned = structuredClone(config);
  for (const i of issues) {
    let parent = cleaned as unknown as Record<string | number, unknown>;
    for (const p of i.path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    delete parent[i.path[i.path.length - 1]!];
  }
  return { cleaned, unknown: issues.map((i) => i.path.join(".")) };
}

if (corpusAvailable()) {
  const known = knownFailures();
  describe("ignition corpus: nexus schema accepts every positive config", () => {
    const variants = loadVariants((c) => c.kind === "positive" && !c.configShouldBeBad).filter((v) => !(`config:${v.name}` in known));
    for (const version of SPEC_VERSIONS) {
      test(`every positive corpus config of ${version} is accepted (one with unknown keys once they are removed)`, () => {
        const validate = ourValidator(version);
        const mine = variants.filter((v) => v.version === version);
        expect(mine.length).toBeGreaterThan(90);
        const rejected: string[] = [];
        for (const v of mine) {
          const config = JSON.parse(renderForValidation(v)) as Obj;
          const { cleaned, unknown } = withoutUnknownKeys(config);
          if (unknown.length > 0) {
            // Strict on purpose: the schema flags the unknown keys, and nothing else.
            expect(validate(config)).toBe(false);
            const others = (validate.errors ?? []).filter((e) => e.keyword !== "additionalProperties" && e.keyword !== "anyOf" && e.keyword !== "type");
            expect({ name: v.name, others: others.map((e) => `${e.instancePath} ${e.message}`) }).toEqual({ name: v.name, others: [] });
          }
          if (!validate(cleaned)) rejected.push(`${v.name}: ${errorsOf(validate).join("; ")}`);
        }
        expect(rejected).toEqual([]);
      });
    }
  });
}

if (requireInput("the Butane corpus", butaneCases)) {
  describe("butane corpus: nexus schema accepts every Butane output", () => {
    const outputs: { id: string; config: Obj }[] = [];
    for (const group of readdirSync(butaneCases).sort()) {
      for (const name of readdirSync(join(butaneCases, group)).sort()) {
        const file = join(butaneCases, group, name, "expected.ign.json");
        if (existsSync(file)) outputs.push({ id: `${group}/${name}`, config: JSON.parse(readFileSync(file, "utf8")) as Obj });
      }
    }
    const versionOf = (c: Obj) => ((c.ignition as Obj | undefined)?.version ?? "") as string;

    test("the Butane outputs nexus-init does not read are only 3.6.0-experimental ones", () => {
      const others = outputs.filter((o) => !(SPEC_VERSIONS as readonly string[]).includes(versionOf(o.config))).map((o) => versionOf(o.config));
      expect(new Set(others)).toEqual(new Set(["3.6.0-experimental"]));
    });

    for (const version of SPEC_VERSIONS) {
      const mine = outputs.filter((o) => versionOf(o.config) === version);
      if (mine.length === 0) continue;
      test(`every Butane output of ${version} is accepted (${mine.length})`, () => {
        const validate = ourValidator(version);
        const rejected = mine.filter((o) => !validate(o.config)).map((o) => `${o.id}: ${(validate(o.config), errorsOf(validate)).join("; ")}`);
        expect(rejected).toEqual([]);
      });
    }
  });
}

// ---- upstream's published schema, walked ------------------------------------------------

/** What a path holds: its type (null aside) and, for objects, the keys it requires. */
interface PathInfo {
  type: string;
  required: string[];
}

function resolveRef(root: Schema, node: Schema): Schema {
  let cur = node;
  while (typeof cur.$ref === "string") {
    cur = (cur.$ref as string)
      .slice(2)
      .split("/")
      .reduce<Schema>((o, k) => o[k] as Schema, root);
  }
  return cur;
}

const typeOf = (t: unknown): string => {
  const types = (Array.isArray(t) ? t : [t]).filter((x) => x !== "null");
  return types.length === 1 ? String(types[0]) : types.join("|");
};

/** Every path of upstream's schema (".storage.files[].path") with its type and required keys. */
function upstreamPaths(schema: Schema): Map<string, PathInfo> {
  const out = new Map<string, PathInfo>();
  const walk = (raw: Schema, path: string) => {
    let node = resolveRef(schema, raw);
    if (Array.isArray(node.allOf)) {
      // Nodes (files, directories, links) are allOf: [node, {their own properties}].
      const parts = (node.allOf as Schema[]).map((p) => resolveRef(schema, p));
      node = {
        type: "object",
        properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
        required: parts.flatMap((p) => (p.required as string[] | undefined) ?? []),
      };
    }
    const type = typeOf(node.type);
    out.set(path, { type, required: ((node.required as string[] | undefined) ?? []).toSorted() });
    if (type === "object") for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) walk(v, `${path}.${k}`);
    if (type === "array") walk(node.items as Schema, `${path}[]`);
  };
  walk(schema, "");
  return out;
}

/** The same for our schema: `anyOf [X, null]` and `allOf [$ref]` unwrapped, struct rules aside. */
function ourPaths(schema: Schema): Map<string, PathInfo & { struct?: string }> {
  const out = new Map<string, PathInfo & { struct?: string }>();
  const walk = (raw: Schema, path: string) => {
    let node = raw;
    let struct: string | undefined;
    for (;;) {
      if (Array.isArray(node.anyOf) && (node.anyOf as Schema[]).some((b) => b.type === "null")) node = (node.anyOf as Schema[]).find((b) => b.type !== "null")!;
      else if (Array.isArray(node.allOf) && node.properties === undefined) node = (node.allOf as Schema[])[0]!;
      else if (typeof node.$ref === "string") {
        struct = (node.$ref as string).split("/").pop();
        node = resolveRef(schema, node);
      } else break;
    }
    const type = typeOf(node.type);
    out.set(path, { type, required: ((node.required as string[] | undefined) ?? []).toSorted(), ...(struct ? { struct } : {}) });
    if (type === "object") for (const [k, v] of Object.entries(node.properties as Record<string, Schema>)) walk(v, `${path}.${k}`);
    if (type === "array") walk(node.items as Schema, `${path}[]`);
  };
  walk(schema, "");
  return out;
}

/** Upstream's schema compiled by ajv (draft-04, read as draft-07: it uses no keyword that differs). */
function upstreamValidator(version: SpecVersion): ValidateFunction {
  const { $schema: _, ...schema } = JSON.parse(readFileSync(upstreamFile(version), "utf8")) as Schema;
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

/** A value of the wrong JSON type for a field of `kind`. */
function wrongValues(kind: FieldKind): Json[] {
  switch (kind.kind) {
    case "string":
      return [7, true, {}];
    case "int":
      return ["7", 1.5, false];
    case "bool":
      return ["true", 1];
    case "struct":
      return ["x", [], 1];
    case "list":
      return [{}, "x", [wrongValues(kind.item)[0]!]];
  }
}

if (requireInput("upstream's published schemas", upstreamSchemaDir())) {
  describe("upstream's published schema", () => {
    for (const version of SPEC_VERSIONS) {
      test(`our schema of ${version} has upstream's field paths and types, nulls aside, and requires at least what it requires`, () => {
        const theirs = upstreamPaths(JSON.parse(readFileSync(upstreamFile(version), "utf8")) as Schema);
        const ours = ourPaths(generateSchema(version) as Schema);
        const types = (m: Map<string, PathInfo>) => [...m].map(([p, i]) => `${p}: ${i.type}`).toSorted();
        expect(types(ours)).toEqual(types(theirs));
        const missing = [...theirs].flatMap(([p, i]) => i.required.filter((r) => !ours.get(p)?.required.includes(r)).map((r) => `${p}.${r}`));
        expect(missing).toEqual([]);
        // Paths per version (the root included), as the design note counted them.
        expect(ours.size).toBe({ "3.0.0": 137, "3.1.0": 167, "3.2.0": 199, "3.3.0": 204, "3.4.0": 208 }[version as string] ?? 210);
      });

      test(`every type mutation and missing required key upstream's schema of ${version} rejects, ours rejects`, () => {
        const theirs = upstreamValidator(version);
        const ours = ourValidator(version);
        const upstreamRequired = upstreamPaths(JSON.parse(readFileSync(upstreamFile(version), "utf8")) as Schema);
        const structAt = ourPaths(generateSchema(version) as Schema);
        let mutations = 0;
        const missed: string[] = [];
        for (const struct of structTable().structs.keys()) {
          if (!routeTo(struct, version)) continue;
          // The host config itself is valid for both, so a rejection is the mutation's doing.
          const host = configWith(version, struct);
          expect({ struct, upstream: theirs(host.config) && ours(host.config) }).toEqual({ struct, upstream: true });
          for (const f of fieldsIn(struct, version)) {
            for (const wrong of wrongValues(f.type)) {
              const { config } = configWith(version, struct, { [f.name]: wrong });
              if (theirs(config)) continue;
              mutations++;
              if (ours(config)) missed.push(`${struct}.${f.name} = ${JSON.stringify(wrong)}`);
            }
          }
        }
        // Every key upstream requires, dropped from its struct's sample.
        for (const [path, info] of upstreamRequired) {
          const struct = structAt.get(path)?.struct ?? (path === "" ? "Config" : undefined);
          if (!struct) continue;
          for (const key of info.required) {
            const { config, path: at } = configWith(version, struct);
            const parent = at.reduce<Obj>((o, p) => (o as unknown as Record<string | number, Obj>)[p]!, config);
            delete parent[key];
            expect({ path, key, upstreamRejects: !theirs(config) }).toEqual({ path, key, upstreamRejects: true });
            mutations++;
            if (ours(config)) missed.push(`${path} without ${key}`);
          }
        }
        // The version is ours alone: upstream's schema takes any string there.
        const { config } = configWith(version, "Config");
        (config.ignition as Obj).version = version === "3.6.0" ? "3.5.0" : "3.6.0";
        expect(ours(config)).toBe(false);
        expect(missed).toEqual([]);
        expect(mutations).toBeGreaterThan(200);
      });
    }
  });
}
