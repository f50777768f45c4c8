// Test support for the schema's tests (unit and conformance): our schema compiled by ajv, a
// small valid instance of every struct, and configs that place a struct (patched with an
// example) at the first spot the field table reaches it from the root. Examples of
// config/field_rules.ts and type mutations are checked inside these configs.
import Ajv, { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import type { Json } from "../config/field_rules.ts";
import { fieldsIn } from "../config/structure.ts";
import type { SpecVersion } from "../config/types.ts";
import { generateSchema, type Draft } from "./schema.ts";

/** An ajv instance of the draft that knows VS Code's patternErrorMessage; every strict check throws. */
export function newAjv(draft: Draft): Ajv {
  const opts = { allErrors: true, strict: true, allowUnionTypes: true };
  const ajv = draft === "07" ? new Ajv(opts) : new Ajv2020(opts);
  ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
  return ajv;
}

const validators = new Map<string, ValidateFunction>();
/** Our schema of `version`, compiled once (strict mode: unknown keywords or bad schemas throw). */
export function ourValidator(version: SpecVersion, draft: Draft = "07"): ValidateFunction {
  const key = `${version} ${draft}`;
  let v = validators.get(key);
  if (!v) validators.set(key, (v = newAjv(draft).compile(generateSchema(version, draft))));
  return v;
}

type Obj = { [key: string]: Json };

/** A valid instance of each struct: the fields the validator needs, nothing more. */
export const SAMPLES: Readonly<Record<string, Obj>> = {
  Config: {},
  Ignition: {},
  IgnitionConfig: {},
  ConfigReference: { source: "https://example.com/base.ign" },
  CaReference: { source: "https://example.com/ca.pem" },
  Verification: {},
  HttpHeader: { name: "X-Token", value: "x" },
  Security: {},
  Tls: {},
  Timeouts: {},
  Proxy: {},
  Storage: {},
  Disk: { device: "/dev/vda" },
  Partition: { number: 1 },
  Raid: { name: "md0", level: "raid1", devices: ["/dev/vdb", "/dev/vdc"] },
  Filesystem: { device: "/dev/vdd", format: "ext4" },
  File: { path: "/etc/motd" },
  FileContents: { source: "data:,hello" },
  NodeUser: {},
  NodeGroup: {},
  Directory: { path: "/var/lib/app" },
  Link: { path: "/usr/local/bin/app", target: "/usr/bin/true" },
  Luks: { name: "data", device: "/dev/vde" },
  Resource: { source: "data:,key" },
  Clevis: {},
  ClevisCustom: { pin: "tpm2", config: "{}" },
  Tang: { url: "http://tang.example.com", thumbprint: "PLjNyRdGw03zlRoGjQYMahSZGu9" },
  Cex: {},
  Systemd: {},
  Unit: { name: "app.service" },
  Dropin: { name: "10-override.conf" },
  Passwd: {},
  PasswdUser: { name: "core" },
  PasswdGroup: { name: "app" },
  KernelArguments: {},
};

/** The sample of `struct` with only the fields `version` has. */
export function sampleOf(struct: string, version: SpecVersion): Obj {
  const sample = SAMPLES[struct];
  if (!sample) throw new Error(`no sample for struct ${struct}`);
  const names = new Set(fieldsIn(struct, version).map((f) => f.name));
  return Object.fromEntries(Object.entries(sample).filter(([k]) => names.has(k)));
}

/** One step from a struct to a child struct: the field, and whether it is a list. */
type Step = { field: string; list: boolean; struct: string };

/** The first route from the root to `struct` in `version` (breadth first), or undefined. */
export function routeTo(struct: string, version: SpecVersion): Step[] | undefined {
  const queue: { struct: string; steps: Step[] }[] = [{ struct: "Config", steps: [] }];
  const seen = new Set(["Config"]);
  while (queue.length > 0) {
    const { struct: s, steps } = queue.shift()!;
    if (s === struct) return steps;
    for (const f of fieldsIn(s, version)) {
      const t = f.type.kind === "list" ? f.type.item : f.type;
      if (t.kind !== "struct" || seen.has(t.struct)) continue;
      seen.add(t.struct);
      queue.push({ struct: t.struct, steps: [...steps, { field: f.name, list: f.type.kind === "list", struct: t.struct }] });
    }
  }
  return undefined;
}

/** A config of `version` holding samples down to `struct`, that struct patched; with its path. */
export function configWith(version: SpecVersion, struct: string, patch: Obj = {}): { config: Obj; path: (string | number)[] } {
  const steps = routeTo(struct, version);
  if (!steps) throw new Error(`struct ${struct} is not in spec ${version}`);
  const config: Obj = { ...sampleOf("Config", version) };
  config.ignition = { ...sampleOf("Ignition", version), version };
  let parent = config;
  const path: (string | number)[] = [];
  for (const step of steps) {
    const existing = parent[step.field];
    const child: Obj = existing && typeof existing === "object" && !Array.isArray(existing) ? { ...existing } : sampleOf(step.struct, version);
    parent[step.field] = step.list ? [child] : child;
    path.push(...(step.list ? [step.field, 0] : [step.field]));
    parent = child;
  }
  Object.assign(parent, patch);
  return { config, path };
}
