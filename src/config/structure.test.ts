import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { configStructure, entryKey, fieldRows, structOf, type FieldType } from "./structure.ts";
import { SPEC_VERSIONS, type SpecVersion } from "./types.ts";

// Upstream Ignition's JSON Schema of each spec, read at test time (never copied into the repo).
const SPEC_DIR = process.env.NEXUS_SPEC_DIR ?? resolve(import.meta.dir, "../../../shared/spec/ignition");

type JsonSchema = { $ref?: string; type?: string | string[]; properties?: Record<string, JsonSchema>; items?: JsonSchema; allOf?: JsonSchema[] };

/** Every field path of an upstream JSON Schema, `storage.files[].path` style, with its JSON type. */
function upstreamRows(version: SpecVersion): Map<string, string> {
  const doc = JSON.parse(readFileSync(join(SPEC_DIR, `schema-v${version.replace(/\./g, "_").replace(/_0(-|$)/, "$1").replace("-", "_")}.json`), "utf8")) as JsonSchema;
  const deref = (s: JsonSchema): JsonSchema => {
    if (!s.$ref) return s;
    let cur: unknown = doc;
    for (const k of s.$ref.replace(/^#\//, "").split("/")) cur = (cur as Record<string, unknown>)[k];
    return deref(cur as JsonSchema);
  };
  const props = (s: JsonSchema): Record<string, JsonSchema> => {
    const d = deref(s);
    return Object.assign({}, d.properties ?? {}, ...(d.allOf ?? []).map(props));
  };
  const out = new Map<string, string>();
  const visit = (s: JsonSchema, prefix: string) => {
    for (const [name, raw] of Object.entries(props(s))) {
      let field = deref(raw);
      const type = [field.type ?? "object"].flat().filter((t) => t !== "null")[0]!;
      out.set(prefix + name, type);
      let path = prefix + name;
      while ([field.type].flat().includes("array")) {
        field = deref(field.items!);
        path += "[]";
      }
      if (props(field) && Object.keys(props(field)).length > 0) visit(field, `${path}.`);
    }
  };
  visit(doc, "");
  return out;
}

const JSON_TYPE: Record<FieldType["kind"], string> = { string: "string", int: "integer", bool: "boolean", list: "array", struct: "object" };

describe("fieldRows()", () => {
  if (!existsSync(SPEC_DIR)) {
    test.skipIf(process.env.CI !== "true")(`upstream's JSON Schemas are present at ${SPEC_DIR}`, () => {
      throw new Error(`Cannot read upstream's JSON Schemas "${SPEC_DIR}": directory not found (set NEXUS_SPEC_DIR)`);
    });
    return;
  }
  for (const version of SPEC_VERSIONS) {
    test(`fieldRows() has exactly the fields and kinds of upstream's schema for ${version}`, () => {
      const ours = new Map(fieldRows(version).map((r) => [r.path, JSON_TYPE[r.kind]]));
      expect([...ours.entries()].sort()).toEqual([...upstreamRows(version).entries()].sort());
    });
  }
});

describe("Field.since", () => {
  const since = (path: string) => fieldRows("3.7.0-experimental").find((r) => r.path === path)?.since;
  test.each([
    ["ignition.version", "3.0.0"],
    ["storage.files[].contents.compression", "3.0.0"],
    ["ignition.config.merge[].compression", "3.1.0"],
    ["ignition.proxy", "3.1.0"],
    ["storage.filesystems[].mountOptions", "3.1.0"],
    ["storage.luks", "3.2.0"],
    ["storage.luks[].keyFile.compression", "3.2.0"],
    ["storage.disks[].partitions[].resize", "3.2.0"],
    ["passwd.users[].shouldExist", "3.2.0"],
    ["kernelArguments", "3.3.0"],
    ["storage.luks[].discard", "3.4.0"],
    ["storage.luks[].clevis.tang[].advertisement", "3.4.0"],
    ["storage.luks[].cex", "3.5.0"],
  ])("the field %p exists since spec %p", (path, want) => {
    expect(since(path)).toBe(want as SpecVersion);
  });
  test("a field absent from a version is absent from its table", () => {
    expect(fieldRows("3.1.0").some((r) => r.path.startsWith("storage.luks"))).toBe(false);
    expect(fieldRows("3.4.0").some((r) => r.path === "storage.luks[].cex")).toBe(false);
  });
});

describe("configStructure()", () => {
  const latest = configStructure("3.7.0-experimental");
  const field = (path: string) => {
    let st = latest;
    const parts = path.split(".");
    for (const p of parts.slice(0, -1)) st = structOf(st.fields.find((f) => f.name === p)!.type)!;
    return st.fields.find((f) => f.name === parts[parts.length - 1])!;
  };
  test("configStructure() names structs after Ignition's types and gives list entries their keys", () => {
    expect(latest.name).toBe("Config");
    expect(structOf(field("storage.files").type)).toMatchObject({ name: "File", key: ["path"] });
    expect(structOf(field("storage.disks.partitions").type)).toMatchObject({ name: "Partition", key: ["number", "label"] });
    expect(structOf(field("ignition.config.merge.httpHeaders").type)).toMatchObject({ name: "HTTPHeader", key: ["name"], removeWhenUnset: "value" });
    expect(structOf(configStructure("3.0.0").fields[0]!.type)?.name).toBe("Ignition");
  });
  test("configStructure() declares Ignition's append lists and key groups", () => {
    const merges = fieldRows("3.7.0-experimental")
      .filter((r) => r.kind === "list")
      .map((r) => {
        const t = field(r.path.replace(/\[\]/g, "")).type as FieldType & { kind: "list" };
        return `${r.path}:${t.merge}${t.group ? `/${t.group}` : ""}`;
      })
      .filter((s) => !s.endsWith(":keyed"));
    expect(merges.sort()).toEqual([
      "kernelArguments.shouldExist:keyed/karg",
      "kernelArguments.shouldNotExist:keyed/karg",
      "storage.directories:keyed/node",
      "storage.files:keyed/node",
      "storage.files[].append:append",
      "storage.filesystems[].mountOptions:append",
      "storage.filesystems[].options:append",
      "storage.links:keyed/node",
      "storage.luks[].options:append",
      "storage.raid[].options:append",
    ]);
  });
});

describe("entryKey()", () => {
  const partitions = structOf(configStructure("3.6.0").fields.find((f) => f.name === "storage")!.type)!.fields.find((f) => f.name === "disks")!;
  const partition = (structOf(partitions.type)!.fields.find((f) => f.name === "partitions")!.type as FieldType & { kind: "list" }).item;
  test.each([
    ['{"number":3,"label":"x"}', "number:3"],
    ['{"number":0,"label":"root"}', "label:root"],
    ['{"label":""}', "label:"],
    ["{}", ""],
  ])("entryKey() keys the partition %s as %p", (json, want) => {
    expect(entryKey(partition, JSON.parse(json))).toBe(want);
  });
  test("entryKey() keys a scalar entry by its value", () => {
    expect(entryKey({ kind: "string" }, "quiet")).toBe("quiet");
  });
});
