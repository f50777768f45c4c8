import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ErrorObject } from "ajv";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FIELD_DOCS } from "../config/field_docs.ts";
import { FIELD_RULES, STRUCT_RULES, type Json } from "../config/field_rules.ts";
import { parseConfig, type Issue } from "../config/index.ts";
import { RuleContext } from "../config/rules/context.ts";
import { allowedFormats } from "../config/rules/disks.ts";
import { allowedSchemes } from "../config/rules/resource.ts";
import { structTable } from "../config/structure.ts";
import { SPEC_VERSIONS, type SpecVersion } from "../config/types.ts";
import { DRAFTS, fieldRulesIn, fieldValuesIn, generateSchema, inSpan, schemaText } from "./schema.ts";
import { configWith, ourValidator, routeTo } from "./schema_fixtures.ts";

// Compiling a schema with ajv takes ~0.5 s, more on a loaded machine; bunfig has no test timeout.
setDefaultTimeout(60_000);

type Obj = { [key: string]: Json };

const pointer = (path: (string | number)[]) => path.map((p) => `/${p}`).join("");
const within = (issuePath: readonly (string | number)[], prefix: (string | number)[]) => prefix.every((p, i) => issuePath[i] === p);

interface Verdict {
  schema: ErrorObject[] | null;
  issues: Issue[];
}

function judge(version: SpecVersion, config: Obj): Verdict {
  const validate = ourValidator(version);
  const ok = validate(config);
  return { schema: ok ? null : (validate.errors ?? []), issues: parseConfig(JSON.stringify(config)).issues };
}

const schemaErrors = (v: Verdict) => (v.schema ?? []).map((e) => `${e.instancePath} ${e.message}`);
const validatorIssues = (v: Verdict, severity: Issue["severity"], at: (string | number)[] = []) =>
  v.issues.filter((i) => i.severity === severity && within(i.path, at)).map((i) => `${i.path.join(".")}: ${i.message}`);

function expectAccepted(version: SpecVersion, struct: string, patch: Obj): void {
  const v = judge(version, configWith(version, struct, patch).config);
  expect({ version, struct, patch, schema: schemaErrors(v), validator: validatorIssues(v, "error") }).toEqual({ version, struct, patch, schema: [], validator: [] });
}

function expectRejected(version: SpecVersion, struct: string, patch: Obj, validatorSays: "error" | "warning" = "error"): void {
  const { config, path } = configWith(version, struct, patch);
  const v = judge(version, config);
  // Ours rejects it for something inside the struct, and the validator reports it there too
  // (or, for "warning", says the value can never work).
  const schemaHere = (v.schema ?? []).some((e) => e.instancePath.startsWith(pointer(path)));
  const validatorHere = validatorIssues(v, validatorSays, path).length > 0;
  expect({ version, struct, patch, schemaHere, validatorHere, schema: schemaErrors(v) }).toMatchObject({ version, struct, patch, schemaHere: true, validatorHere: true });
}

describe("generateSchema()", () => {
  for (const version of SPEC_VERSIONS) {
    test(`generateSchema() gives a schema of ${version} that ajv compiles in strict mode, in both drafts`, () => {
      for (const draft of DRAFTS) expect(() => ourValidator(version, draft)).not.toThrow();
    });
  }

  test("generateSchema() names each definition after its struct in the field table", () => {
    const structs = new Set(structTable().structs.keys());
    for (const version of SPEC_VERSIONS) {
      const s = generateSchema(version);
      const names = Object.keys(s.definitions as Obj);
      expect(names.filter((n) => !structs.has(n))).toEqual([]);
      expect(names).toContain("File");
      expect(JSON.stringify(s)).not.toContain("__schema");
      const s2020 = generateSchema(version, "2020-12");
      expect(Object.keys(s2020.$defs as Obj)).toEqual(names);
      expect(s2020.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    }
  });

  test("generateSchema() gives every property a one-line description", () => {
    for (const version of SPEC_VERSIONS) {
      const s = generateSchema(version);
      const objects = [s, ...Object.values(s.definitions as Record<string, Obj>)];
      for (const o of objects) {
        for (const [name, p] of Object.entries(o.properties as Record<string, Obj>)) {
          expect({ name, description: typeof p.description === "string" && p.description.length > 0 && !p.description.includes("\n") }).toEqual({ name, description: true });
        }
      }
    }
  });

  test("generateSchema() is deterministic and schemaText() ends with a newline", () => {
    expect(schemaText("3.6.0")).toBe(schemaText("3.6.0"));
    expect(schemaText("3.6.0").endsWith("}\n")).toBe(true);
  });

  test("generateSchema() fixes ignition.version to the schema's own version", () => {
    for (const version of SPEC_VERSIONS) {
      const validate = ourValidator(version);
      expect(validate({ ignition: { version } })).toBe(true);
      const other = SPEC_VERSIONS.find((v) => v !== version)!;
      expect(validate({ ignition: { version: other } })).toBe(false);
      expect(validate({ ignition: {} })).toBe(false);
      expect(validate({})).toBe(false);
    }
  });

  test("generateSchema() accepts null for every optional field, as Ignition reads null as unset", () => {
    const { config } = configWith("3.6.0", "File", { overwrite: null, user: null, group: null, mode: null, contents: null, append: null });
    expect(ourValidator("3.6.0")({ ...config, storage: { ...(config.storage as Obj), disks: null, luks: null }, systemd: null, passwd: null, kernelArguments: null })).toBe(true);
  });

  test("generateSchema() flags unknown keys, which nexus-init warns about", () => {
    expect(ourValidator("3.4.0")({ ignition: { version: "3.4.0" }, colour: 1 })).toBe(false);
    expect(parseConfig(JSON.stringify({ ignition: { version: "3.4.0" }, colour: 1 })).issues.map((i) => i.severity)).toEqual(["warning"]);
  });
});

describe("field rules agree with the validator", () => {
  test("every struct sample is accepted by the schema and the validator, in every version that has it", () => {
    for (const version of SPEC_VERSIONS) {
      for (const struct of structTable().structs.keys()) if (routeTo(struct, version)) expectAccepted(version, struct, {});
    }
  });

  for (const version of SPEC_VERSIONS) {
    test(`every field rule's examples agree with validateConfig at ${version}`, () => {
      for (const key of Object.keys(FIELD_RULES)) {
        const [struct, field] = key.split(".") as [string, string];
        if (!routeTo(struct, version)) continue;
        const table = structTable().structs.get(struct)!;
        if (!table.byVersion.get(version)?.includes(field)) continue;
        const isList = table.fields.find((f) => f.name === field)!.type.kind === "list";
        for (const rule of fieldRulesIn(struct, field, version)) {
          let examples = 0;
          const ctx = rule.context ?? {};
          // Every closed (or suggested) value, then the rule's own examples.
          for (const v of [...(rule.values ? fieldValuesIn(struct, field, version) : []), ...(rule.ok ?? [])]) {
            expectAccepted(version, struct, { ...ctx, [field]: isList && !Array.isArray(v) ? [v] : v });
            examples++;
          }
          if (rule.blank) expectAccepted(version, struct, { ...ctx, ...rule.blankContext, [field]: "" });
          for (const v of rule.bad ?? []) expectRejected(version, struct, { ...ctx, [field]: v });
          for (const v of rule.warned ?? []) expectRejected(version, struct, { ...ctx, [field]: v }, "warning");
          examples += (rule.bad ?? []).length + (rule.warned ?? []).length;
          if (rule.required) {
            // The sample has the field; without it (or with null) the schema rejects the config.
            const { config, path } = configWith(version, struct, {});
            const at = path.reduce<Obj>((o, p) => (o as unknown as Record<string | number, Obj>)[p]!, config);
            expect({ key, sampleHasIt: at[field] !== undefined }).toEqual({ key, sampleHasIt: true });
            at[field] = null;
            expect({ key, nullAccepted: ourValidator(version)(config) }).toEqual({ key, nullAccepted: false });
            delete at[field];
            expect({ key, missingAccepted: ourValidator(version)(config) }).toEqual({ key, missingAccepted: false });
            examples++;
          }
          expect({ key, why: rule.why, examples: examples > 0 }).toEqual({ key, why: rule.why, examples: true });
        }
      }
    });

    test(`every struct rule's examples agree with validateConfig at ${version}`, () => {
      for (const [struct, rules] of Object.entries(STRUCT_RULES)) {
        if (!routeTo(struct, version)) continue;
        for (const rule of rules.filter((r) => inSpan(r, version))) {
          for (const ok of rule.ok) expectAccepted(version, struct, ok);
          for (const bad of rule.bad) expectRejected(version, struct, bad);
        }
      }
    });
  }

  test("the filesystem formats and URL schemes of the schema are the validator's, per version", () => {
    for (const version of SPEC_VERSIONS) {
      const ctx = new RuleContext(version);
      expect(fieldValuesIn("Filesystem", "format", version).toSorted()).toEqual(allowedFormats(ctx).toSorted());
      const s = generateSchema(version) as { definitions: Record<string, { properties: Record<string, { pattern: string }> }> };
      const pattern = new RegExp(s.definitions.FileContents!.properties.source!.pattern);
      for (const scheme of ["http", "https", "tftp", "s3", "gs", "arn", "data", "ftp", "file", "oem"]) {
        expect({ version, scheme, accepted: pattern.test(`${scheme}:x`) }).toEqual({ version, scheme, accepted: allowedSchemes(ctx).includes(scheme) });
      }
    }
  });

  test("every rule names a field of the table, and every absolute-path field of FIELD_DOCS has a path rule", () => {
    const table = structTable().structs;
    for (const key of Object.keys(FIELD_RULES)) {
      const [struct, field] = key.split(".") as [string, string];
      expect({ key, known: table.get(struct)?.fields.some((f) => f.name === field) ?? false }).toEqual({ key, known: true });
      for (const r of FIELD_RULES[key]!) if (r.values) expect({ key, values: (FIELD_DOCS[key]?.values?.length ?? 0) > 0 }).toEqual({ key, values: true });
    }
    for (const s of Object.keys(STRUCT_RULES)) expect(table.has(s)).toBe(true);
    for (const [key, doc] of Object.entries(FIELD_DOCS)) {
      if (!doc.absolutePath) continue;
      expect({ key, pattern: FIELD_RULES[key]?.some((r) => typeof r.value?.pattern === "string" && r.value.pattern.startsWith("^(?:")) ?? false }).toEqual({ key, pattern: true });
    }
  });
});

describe("nexus schema", () => {
  const NEXUS = resolve(import.meta.dir, "../nexus.ts");
  const run = async (args: string[]) => {
    const p = Bun.spawn([process.execPath, NEXUS, "schema", ...args], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  };

  test("nexus schema --spec prints the schema of that version", async () => {
    const r = await run(["--spec", "3.4.0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(schemaText("3.4.0"));
  });

  test("nexus schema -o writes the file, and --draft 2020-12 switches the dialect", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nexus-schema-"));
    try {
      const out = join(dir, "ignition-3.6.0.schema.json");
      const r = await run(["--spec", "3.6.0", "--draft", "2020-12", "-o", out]);
      expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(readFileSync(out, "utf8")).toBe(schemaText("3.6.0", "2020-12"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("nexus schema exits 2 naming the versions for a missing or unknown --spec", async () => {
    const missing = await run([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toStartWith("nexus schema: --spec is required");
    const unknown = await run(["--spec", "3.6.0-experimental"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toStartWith('nexus schema: unknown --spec "3.6.0-experimental": expected one of 3.0.0, 3.1.0');
    const draft = await run(["--spec", "3.6.0", "--draft", "4"]);
    expect(draft.code).toBe(2);
  });
});
