// Ignition's parent/child config merge as a pure function on parsed configs.
//
// The rules, per field of each object:
// - a value set in the child replaces the parent's; unset child values keep the parent's;
// - nested objects merge recursively;
// - lists of command options (file append, mkfs/mount/mdadm/luksFormat options) are appended;
// - every other list is keyed: an entry whose key the child also has is merged with the child's
//   entry, parent entries keep their order and child-only entries are appended. Some lists share
//   one key space (files, directories and links by path; kernel arguments that should and should
//   not exist): a parent entry whose key the child puts in a sibling list is dropped;
// - an HTTP header in the child without a value removes the parent's header of that name.
import type { Config } from "./types.ts";

type Obj = Record<string, unknown>;

type Rule =
  | { kind: "object"; fields: Spec }
  | { kind: "keyed"; key: (item: Obj) => string; fields: Spec; group?: string; dropWhenValueUnset?: boolean }
  | { kind: "strings"; group?: string }
  | { kind: "append" };

// Field rules of one object type; unlisted fields are single values. Listed in the order of
// Ignition's field declarations, which decides ties between sibling lists of one group.
type Spec = Record<string, Rule>;

const str = (v: unknown) => (typeof v === "string" ? v : "");

const owner: Spec = {};
const verification: Spec = {};
const httpHeaders: Rule = { kind: "keyed", key: (h) => str(h.name), fields: {}, dropWhenValueUnset: true };
const resource: Spec = { httpHeaders, verification: { kind: "object", fields: verification } };
const nodeShape: Spec = { group: { kind: "object", fields: owner }, user: { kind: "object", fields: owner } };

const partitionKey = (p: Obj): string => {
  const n = typeof p.number === "number" ? p.number : 0;
  if (n !== 0) return `number:${n}`;
  return typeof p.label === "string" ? `label:${p.label}` : "";
};

const CONFIG_SPEC: Spec = {
  ignition: {
    kind: "object",
    fields: {
      config: {
        kind: "object",
        fields: {
          merge: { kind: "keyed", key: (r) => str(r.source), fields: resource },
          replace: { kind: "object", fields: resource },
        },
      },
      proxy: { kind: "object", fields: { noProxy: { kind: "strings" } } },
      security: {
        kind: "object",
        fields: {
          tls: { kind: "object", fields: { certificateAuthorities: { kind: "keyed", key: (r) => str(r.source), fields: resource } } },
        },
      },
      timeouts: { kind: "object", fields: {} },
    },
  },
  kernelArguments: {
    kind: "object",
    fields: { shouldExist: { kind: "strings", group: "karg" }, shouldNotExist: { kind: "strings", group: "karg" } },
  },
  passwd: {
    kind: "object",
    fields: {
      groups: { kind: "keyed", key: (g) => str(g.name), fields: {} },
      users: {
        kind: "keyed",
        key: (u) => str(u.name),
        fields: { groups: { kind: "strings" }, sshAuthorizedKeys: { kind: "strings" } },
      },
    },
  },
  storage: {
    kind: "object",
    fields: {
      directories: { kind: "keyed", key: (n) => str(n.path), fields: nodeShape, group: "node" },
      disks: {
        kind: "keyed",
        key: (d) => str(d.device),
        fields: { partitions: { kind: "keyed", key: partitionKey, fields: {} } },
      },
      files: {
        kind: "keyed",
        key: (n) => str(n.path),
        fields: { ...nodeShape, append: { kind: "append" }, contents: { kind: "object", fields: resource } },
        group: "node",
      },
      filesystems: {
        kind: "keyed",
        key: (f) => str(f.device),
        fields: { mountOptions: { kind: "append" }, options: { kind: "append" } },
      },
      links: { kind: "keyed", key: (n) => str(n.path), fields: nodeShape, group: "node" },
      luks: {
        kind: "keyed",
        key: (l) => str(l.name),
        fields: {
          cex: { kind: "object", fields: {} },
          clevis: {
            kind: "object",
            fields: {
              custom: { kind: "object", fields: {} },
              tang: { kind: "keyed", key: (t) => str(t.url), fields: {} },
            },
          },
          keyFile: { kind: "object", fields: resource },
          openOptions: { kind: "strings" },
          options: { kind: "append" },
        },
      },
      raid: {
        kind: "keyed",
        key: (r) => str(r.name),
        fields: { devices: { kind: "strings" }, options: { kind: "append" } },
      },
    },
  },
  systemd: {
    kind: "object",
    fields: {
      units: {
        kind: "keyed",
        key: (u) => str(u.name),
        fields: { dropins: { kind: "keyed", key: (d) => str(d.name), fields: {} } },
      },
    },
  },
};

/** Merges a child config into its parent as Ignition does; the inputs are not modified. */
export function mergeConfigs(parent: Config, child: Config): Config {
  return mergeObject(parent as Obj, child as Obj, CONFIG_SPEC) as Config;
}

const isSet = (v: unknown) => v !== undefined && v !== null;

function asObj(v: unknown): Obj {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function listKey(rule: Rule, item: unknown): string {
  if (rule.kind === "keyed") return rule.key(asObj(item));
  return typeof item === "string" ? item : String(item);
}

interface ChildEntry {
  field: string;
  item: unknown;
}

function mergeObject(parent: Obj, child: Obj, spec: Spec): Obj {
  // Key → the child entry of each list (or list group); the last entry of a key wins.
  const childEntries = new Map<string, ChildEntry>();
  for (const [field, rule] of Object.entries(spec)) {
    if (rule.kind !== "keyed" && rule.kind !== "strings") continue;
    const handle = rule.group ?? field;
    for (const item of asList(child[field])) childEntries.set(`${handle}\u0000${listKey(rule, item)}`, { field, item });
  }

  const out: Obj = {};
  const fields = [...Object.keys(parent), ...Object.keys(child).filter((k) => !(k in parent))];
  for (const field of fields) {
    const rule = spec[field];
    const p = parent[field];
    const c = child[field];
    if (!rule) {
      if (isSet(c)) out[field] = structuredClone(c);
      else if (isSet(p)) out[field] = structuredClone(p);
      continue;
    }
    if (rule.kind === "object") {
      if (isSet(p) || isSet(c)) out[field] = mergeObject(asObj(p), asObj(c), rule.fields);
      continue;
    }
    if (rule.kind === "append") {
      const merged = [...asList(p), ...asList(c)];
      if (merged.length > 0) out[field] = structuredClone(merged);
      continue;
    }
    const merged = mergeKeyedList(field, rule, asList(p), asList(c), childEntries);
    if (merged.length > 0) out[field] = merged;
  }
  return out;
}

function mergeKeyedList(
  field: string,
  rule: Extract<Rule, { kind: "keyed" | "strings" }>,
  parent: unknown[],
  child: unknown[],
  childEntries: ReadonlyMap<string, ChildEntry>,
): unknown[] {
  const handle = rule.group ?? field;
  const result: unknown[] = [];
  const parentKeys = new Set(parent.map((item) => listKey(rule, item)));
  for (const item of parent) {
    const match = childEntries.get(`${handle}\u0000${listKey(rule, item)}`);
    if (!match) {
      result.push(structuredClone(item));
      continue;
    }
    // The child moved this key to a sibling list (e.g. a file became a directory): drop it here.
    if (match.field !== field) continue;
    if (rule.kind === "strings") {
      result.push(match.item);
      continue;
    }
    const childItem = asObj(match.item);
    if (rule.dropWhenValueUnset && !isSet(childItem.value)) continue;
    result.push(mergeObject(asObj(item), childItem, rule.fields));
  }
  for (const item of child) {
    if (!parentKeys.has(listKey(rule, item))) result.push(structuredClone(item));
  }
  return result;
}
