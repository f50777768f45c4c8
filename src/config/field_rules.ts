// What the validator (and upstream's published schema) require of field values, as data that a
// JSON Schema can state: required keys, path and URL patterns, hash formats, closed value sets,
// ranges and lengths, and a few rules that tie the fields of one struct together. `nexus schema`
// turns this table into the overlay of its per-version JSON Schema; the schema's tests check
// every example here against validateConfig, so the two cannot drift apart silently. Keys are
// "Struct.field" (struct names as in config/structure.ts). The boot side never imports it.
import { FILESYSTEM_FORMATS, type FieldValue } from "./field_docs.ts";
import { SPEC_VERSIONS, type SpecVersion } from "./types.ts";

/** A JSON value (what examples and schema fragments are made of). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A fragment of JSON Schema (draft-07 and 2020-12 read it the same). */
export type SchemaFragment = { [keyword: string]: Json };

/** The spec versions a rule holds in: from `since` (default 3.0.0) up to, not including, `until`. */
export interface Span {
  since?: SpecVersion;
  until?: SpecVersion;
}

/** One rule about one field's value. */
export interface FieldRule extends Span {
  /** Why it holds: the validator's check or upstream's schema. */
  why: string;
  /** The key must be present and not null. */
  required?: boolean;
  /** The value must equal the config's own spec version. */
  isVersion?: boolean;
  /** The field's values (FIELD_DOCS) form a closed set (`enum`), or are only suggested (`examples`). */
  values?: "closed" | "suggested";
  /** The empty string is accepted beside the closed set (it means unset). */
  blank?: boolean;
  /** Keywords for the value (for a list of strings: for each item): pattern, lengths, range. */
  value?: SchemaFragment;
  /** Keywords for the list itself (minItems). */
  list?: SchemaFragment;
  /** What editors say when a value breaks `value.pattern`. */
  message?: string;
  /** Values the rule accepts and the validator accepts too (besides every closed value). */
  ok?: Json[];
  /** Values the rule rejects; the validator reports an error for each. */
  bad?: Json[];
  /** Values the rule rejects that the validator only warns about, because they can never work. */
  warned?: Json[];
  /** Other fields of the struct set for every example of this rule. */
  context?: { [field: string]: Json };
  /** Other fields set for the example of the empty value (when `blank`). */
  blankContext?: { [field: string]: Json };
}

/** One rule tying fields of a struct together. */
export interface StructRule extends Span {
  why: string;
  /** Added to the struct's schema (through allOf). */
  schema: SchemaFragment;
  /** Partial structs (over a valid sample) the rule and the validator accept. */
  ok: { [field: string]: Json }[];
  /** Partial structs the rule rejects; the validator reports an error for each. */
  bad: { [field: string]: Json }[];
}

/** URL schemes of resource sources, and the first spec that accepts each. */
export const SOURCE_SCHEMES: readonly FieldValue[] = [
  { value: "http" },
  { value: "https" },
  { value: "tftp" },
  { value: "s3" },
  { value: "gs", since: "3.2.0" },
  { value: "arn", since: "3.4.0" },
  { value: "data" },
];

/** Longest filesystem label per format, in bytes (the validator counts UTF-8 bytes). */
export const FILESYSTEM_LABEL_LIMITS: Readonly<Record<string, number>> = { ext4: 16, btrfs: 256, xfs: 12, swap: 15, vfat: 11 };

/** RAID levels that stripe without redundancy: they take no spares. */
export const STRIPED_RAID_LEVELS: readonly string[] = ["linear", "raid0", "0", "stripe"];

const SYSTEMD_UNIT_SUFFIXES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "snapshot", "slice", "scope"];

// An absolute path already in Go's path.Clean form: "/" or "/"-separated non-empty segments,
// none of them "." or "..", no trailing "/".
const CLEAN_ABSOLUTE = String.raw`/|(?:/(?!\.\.?(?:/|$))[^/]+)+`;
/** Pattern of an absolute, clean path. */
export const ABSOLUTE_PATH = `^(?:${CLEAN_ABSOLUTE})$`;
const ABSOLUTE_PATH_OR_EMPTY = `^(?:|${CLEAN_ABSOLUTE})$`;
const PATH_MESSAGE = 'an absolute path such as "/etc/motd", without "//", "." or ".." segments or a trailing "/"';

/** A pattern fragment matching `word` in any letter case (Go lower-cases URL schemes). */
export function anyCase(word: string): string {
  return [...word].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join("");
}

const HTTP_URL = `^${anyCase("http")}[sS]?:`;
const GUID = "^(?:|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$";
const HEX128 = "a".repeat(64) + "0123456789abcdef".repeat(4);
const HEX64 = "0123456789ABCDEF".repeat(4);

const isOlder = (a: SpecVersion, b: SpecVersion) => SPEC_VERSIONS.indexOf(a) < SPEC_VERSIONS.indexOf(b);

const pathRule = (required: boolean): FieldRule => ({
  why: required ? "the validator requires an absolute, clean path" : "when set, the validator requires an absolute, clean path",
  ...(required ? { required } : {}),
  value: { pattern: required ? ABSOLUTE_PATH : ABSOLUTE_PATH_OR_EMPTY },
  message: PATH_MESSAGE,
  ok: ["/", "/etc/motd", "/var/lib/.hidden/...", ...(required ? [] : [""])],
  bad: ["etc/motd", "/etc/", "/etc//motd", "/etc/./motd", "/etc/../motd", "/..", ...(required ? [""] : [])],
});

const sourceRules = (opts: { required?: "always" | "3.0.0-only"; blankOk: boolean }): FieldRule[] => {
  const spans: [Span, string[], string[]][] = [
    [{ until: "3.2.0" }, [], ["gs://bucket/key", "arn:aws:s3:::bucket/key"]],
    [{ since: "3.2.0", until: "3.4.0" }, ["gs://bucket/key"], ["arn:aws:s3:::bucket/key"]],
    [{ since: "3.4.0" }, ["gs://bucket/key", "arn:aws:s3:::bucket/key"], []],
  ];
  const rules: FieldRule[] = spans.map(([span, ok, bad]) => {
    const names = SOURCE_SCHEMES.filter((s) => !s.since || !span.until || isOlder(s.since, span.until)).map((s) => s.value);
    const schemes = names.map(anyCase);
    return {
      ...span,
      why: "the validator accepts only these URL schemes in this spec (an empty source means no contents)",
      value: { pattern: `^(?:|(?:${schemes.join("|")}):[\\s\\S]*)$` },
      message: `a URL with one of the schemes ${names.join(", ")}`,
      ok: [...(opts.blankOk ? [""] : []), "https://example.com/file", "HTTP://example.com/file", "tftp://192.0.2.1/file", "s3://bucket/key", "data:,hello", "data:text/plain;base64,aGVsbG8=", ...ok],
      bad: ["ftp://example.com/file", "example.com/file", "/etc/motd", ...bad],
    };
  });
  if (opts.required === "always") {
    rules.push({ until: "3.1.0", why: "upstream's schema requires a source", required: true });
    rules.push({ since: "3.1.0", why: "the validator requires a source from spec 3.1.0", required: true, value: { minLength: 1 }, bad: [""] });
  } else if (opts.required === "3.0.0-only") {
    rules.push({ until: "3.1.0", why: "upstream's schema requires a source", required: true });
  }
  return rules;
};

const compressionRule: FieldRule = { why: "the validator accepts only gzip (or empty for none)", values: "closed", bad: ["xz", "GZIP"] };

const resourceRules = (struct: string, source: FieldRule[]): Record<string, FieldRule[]> => ({
  [`${struct}.source`]: source,
  [`${struct}.compression`]: [compressionRule],
});

const hashStructRule: StructRule = {
  why: "the validator rejects a verification hash without a source",
  schema: {
    if: { properties: { verification: { type: "object", properties: { hash: { type: "string" } }, required: ["hash"] } }, required: ["verification"] },
    then: { properties: { source: { type: "string" } }, required: ["source"] },
  },
  ok: [{ source: "https://example.com/file", verification: { hash: `sha512-${HEX128}` } }, { verification: {} }],
  bad: [{ source: null, verification: { hash: `sha512-${HEX128}` } }],
};

const headersStructRule: StructRule = {
  since: "3.1.0",
  why: "the validator sends HTTP headers only with an http(s) source",
  schema: {
    if: { properties: { httpHeaders: { type: "array", minItems: 1 } }, required: ["httpHeaders"] },
    then: { properties: { source: { type: "string", pattern: HTTP_URL } }, required: ["source"] },
  },
  ok: [{ source: "https://example.com/file", httpHeaders: [{ name: "Authorization", value: "Bearer x" }] }, { source: "data:,x", httpHeaders: [] }],
  bad: [{ source: "data:,x", httpHeaders: [{ name: "Authorization", value: "Bearer x" }] }],
};

const ownerRule: StructRule = {
  why: "the validator rejects an owner given both by id and by name",
  schema: { not: { properties: { id: { type: "integer" }, name: { type: "string", minLength: 1 } }, required: ["id", "name"] } },
  ok: [{ id: 0 }, { name: "core" }, { id: 0, name: null }, { id: 0, name: "" }],
  bad: [{ id: 0, name: "root" }],
};

/** Every field rule, keyed "Struct.field". */
export const FIELD_RULES: Readonly<Record<string, readonly FieldRule[]>> = {
  "Config.ignition": [{ why: "upstream's schema requires the ignition section (it carries the version)", required: true }],
  "Ignition.version": [{ why: "the config's spec version decides which schema reads it", required: true, isVersion: true }],

  ...resourceRules("ConfigReference", sourceRules({ required: "3.0.0-only", blankOk: false })),
  ...resourceRules("CaReference", sourceRules({ required: "always", blankOk: false })),
  ...resourceRules("FileContents", sourceRules({ blankOk: true })),
  ...resourceRules("Resource", sourceRules({ blankOk: true })),

  "Verification.hash": [
    {
      until: "3.1.0",
      why: "the validator accepts sha512 hashes of 128 hex digits in this spec",
      value: { pattern: "^sha512-[0-9a-fA-F]{128}$" },
      message: 'a hash such as "sha512-" followed by 128 hex digits',
      ok: [`sha512-${HEX128}`, `sha512-${HEX128.toUpperCase()}`],
      bad: [`sha256-${HEX64}`, `sha512-${HEX64}`, "sha512", `SHA512-${HEX128}`, `md5-${HEX64.slice(0, 32)}`],
      warned: [`sha512-${"x".repeat(128)}`],
    },
    {
      since: "3.1.0",
      why: "the validator accepts sha512 (128 hex digits) and sha256 (64 hex digits) hashes",
      value: { pattern: "^(?:sha512-[0-9a-fA-F]{128}|sha256-[0-9a-fA-F]{64})$" },
      message: 'a hash such as "sha512-" followed by 128 hex digits or "sha256-" followed by 64',
      ok: [`sha512-${HEX128}`, `sha256-${HEX64}`],
      bad: [`sha512-${HEX64}`, `sha256-${HEX128}`, "sha256-", `sha1-${HEX64.slice(0, 40)}`],
      warned: [`sha256-${"g".repeat(64)}`],
    },
  ],
  "HttpHeader.name": [{ why: "upstream's schema requires a header name; the validator rejects an empty one", required: true, value: { minLength: 1 }, ok: ["X-Token"], bad: [""] }],
  "HttpHeader.value": [{ why: "the validator rejects an empty header value (omit it to drop an inherited header)", value: { minLength: 1 }, ok: ["x", null], bad: [""] }],

  "Proxy.httpProxy": [{ why: "the validator accepts only http(s) proxy URLs", value: { pattern: HTTP_URL }, message: "an http:// or https:// URL", ok: ["http://proxy.example.com:3128", null], bad: ["", "socks5://proxy:1080", "proxy:3128"] }],
  "Proxy.httpsProxy": [{ why: "the validator accepts only http(s) proxy URLs", value: { pattern: HTTP_URL }, message: "an http:// or https:// URL", ok: ["https://proxy.example.com:3128", null], bad: ["", "socks5://proxy:1080"] }],

  "Disk.device": [pathRule(true)],
  "Partition.label": [
    { why: "the validator limits GPT partition names to 36 characters", value: { maxLength: 36 }, ok: ["x".repeat(36), "root"], bad: ["x".repeat(37)] },
    { why: "the validator rejects a colon in a partition label", value: { pattern: "^[^:]*$" }, message: 'a label without ":"', ok: ["EFI-SYSTEM"], bad: ["a:b"] },
  ],
  "Partition.typeGuid": [{ why: "the validator requires a GUID (or empty)", value: { pattern: GUID }, message: "a GUID such as 0FC63DAF-8483-4772-8E79-3D69D8477DE4", ok: ["", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"], bad: ["linux", "0FC63DAF84834772 8E793D69D8477DE4"] }],
  "Partition.guid": [{ why: "the validator requires a GUID (or empty)", value: { pattern: GUID }, message: "a GUID such as 0FC63DAF-8483-4772-8E79-3D69D8477DE4", ok: ["", "a2f3c1de-1b2c-4d5e-8f90-123456789abc"], bad: ["{a2f3c1de-1b2c-4d5e-8f90-123456789abc}"] }],

  "Raid.name": [{ why: "upstream's schema requires an array name", required: true }],
  "Raid.level": [{ why: "the validator requires one of the RAID levels mdadm knows", required: true, values: "closed", bad: ["raid7", "RAID1", ""] }],
  "Raid.devices": [
    { until: "3.3.0", why: "upstream's schema requires the member devices", required: true },
    { since: "3.3.0", why: "the validator requires at least one member device from spec 3.3.0", required: true, list: { minItems: 1 }, bad: [[]] },
    { why: "the validator requires absolute, clean device paths", value: { pattern: ABSOLUTE_PATH }, message: PATH_MESSAGE, ok: [["/dev/vda", "/dev/disk/by-id/x"]], bad: [["vda", "/dev/vdb"], ["/dev/vda/"]] },
  ],

  "Filesystem.device": [pathRule(true)],
  "Filesystem.format": [
    { why: "the validator accepts these formats in this spec (empty: no filesystem is made)", values: "closed", blank: true, bad: ["ext3", "zfs", "EXT4"] },
  ],
  "Filesystem.path": [pathRule(false)],

  "File.path": [pathRule(true)],
  "File.mode": [{ why: "the validator accepts modes from 0 to 0o7777", value: { minimum: 0, maximum: 0o7777 }, ok: [0, 0o644, 0o7777], bad: [-1, 0o10000] }],
  "Directory.path": [pathRule(true)],
  "Directory.mode": [{ why: "the validator accepts modes from 0 to 0o7777", value: { minimum: 0, maximum: 0o7777 }, ok: [0, 0o755, 0o7777], bad: [-1, 0o10000] }],
  "Link.path": [pathRule(true)],
  "Link.target": [
    { until: "3.3.0", why: "upstream's schema requires a link target before spec 3.3.0", required: true },
    { since: "3.3.0", why: "the validator requires a link target from spec 3.3.0", required: true, value: { minLength: 1 }, ok: ["/usr/bin/true", "relative/target"], bad: [""] },
  ],

  "Luks.name": [
    { why: "upstream's schema requires a volume name", required: true },
    { why: "the validator rejects a slash in a volume name", value: { pattern: "^[^/]*$" }, message: 'a name without "/"', ok: ["data"], bad: ["mapper/data"] },
  ],
  "Luks.label": [{ why: "the validator limits LUKS2 labels to 47 characters", value: { maxLength: 47 }, ok: ["x".repeat(47)], bad: ["x".repeat(48)] }],
  "Luks.device": [pathRule(true)],
  "ClevisCustom.pin": [
    { since: "3.2.0", until: "3.3.0", why: "upstream's schema requires the pin in spec 3.2.0", required: true },
    { until: "3.6.0", why: "the validator knows only these clevis pins before spec 3.6.0", values: "closed", blank: true, context: { config: "{}" }, blankContext: { config: "" }, bad: ["yubikey", "TPM2"] },
    { since: "3.6.0", why: "spec 3.6.0 accepts any clevis pin; these are the ones clevis ships", values: "suggested", context: { config: "{}" }, ok: ["yubikey"] },
  ],
  "ClevisCustom.config": [{ since: "3.2.0", until: "3.3.0", why: "upstream's schema requires the pin's configuration in spec 3.2.0", required: true }],
  "Tang.url": [{ why: "the validator requires an http(s) tang URL", required: true, value: { pattern: HTTP_URL }, message: "an http:// or https:// URL", ok: ["http://tang.example.com"], bad: ["", "tang.example.com"] }],
  "Tang.thumbprint": [{ why: "the validator requires the thumbprint of a trusted signing key", required: true, value: { minLength: 1 }, ok: ["PLjNyRdGw03zlRoGjQYMahSZGu9"], bad: [""] }],

  "Unit.name": [
    {
      why: "upstream's schema requires a unit name; the validator requires a unit type suffix",
      required: true,
      value: { pattern: `\\.(?:${SYSTEMD_UNIT_SUFFIXES.join("|")})$` },
      message: `a unit name ending in .${SYSTEMD_UNIT_SUFFIXES.join(", .")}`,
      ok: SYSTEMD_UNIT_SUFFIXES.map((s) => `app.${s}`).concat(["getty@tty1.service"]),
      bad: ["app", "app.conf", "app.service/", ""],
    },
  ],
  "Dropin.name": [{ why: "upstream's schema requires a drop-in name; the validator requires .conf", required: true, value: { pattern: "\\.conf$" }, message: "a file name ending in .conf", ok: ["10-override.conf"], bad: ["override", "override.service", ""] }],
  "PasswdUser.name": [{ why: "upstream's schema requires a user name", required: true }],
  "PasswdGroup.name": [{ why: "upstream's schema requires a group name", required: true }],
};

const labelRules: StructRule[] = Object.entries(FILESYSTEM_LABEL_LIMITS).map(([format, max]): StructRule => {
  const since = FILESYSTEM_FORMATS.find((f) => f.value === format)?.since;
  return {
    ...(since ? { since } : {}),
    why: `the validator limits ${format} labels to ${max} bytes`,
    schema: { if: { properties: { format: { const: format } }, required: ["format"] }, then: { properties: { label: { type: ["string", "null"], maxLength: max } } } },
    ok: [{ format, label: "x".repeat(max) }],
    bad: [{ format, label: "x".repeat(max + 1) }],
  };
});

const blank: SchemaFragment = { enum: [null, ""] };

// What counts as a custom clevis pin: spec 3.2.0 counts any custom object, later specs a named pin.
const CLEVIS_CUSTOM_BY_SPEC: (Span & { custom: SchemaFragment })[] = [
  { until: "3.3.0", custom: { type: "object" } },
  { since: "3.3.0", custom: { type: "object", properties: { pin: { type: "string", minLength: 1 } }, required: ["pin"] } },
];

/** Every struct rule, keyed by struct name. */
export const STRUCT_RULES: Readonly<Record<string, readonly StructRule[]>> = {
  ConfigReference: [hashStructRule, headersStructRule],
  CaReference: [hashStructRule, headersStructRule],
  FileContents: [hashStructRule, headersStructRule],
  Resource: [hashStructRule, headersStructRule],
  Partition: [
    {
      why: "the validator needs a partition number or a label",
      schema: { anyOf: [{ properties: { number: { type: "integer", not: { const: 0 } } }, required: ["number"] }, { properties: { label: { type: "string" } }, required: ["label"] }] },
      ok: [{ number: 1, label: null }, { number: null, label: "root" }, { number: 0, label: "" }],
      bad: [{ number: 0, label: null }, { number: null, label: null }],
    },
    {
      why: "the validator rejects a partition that should not exist yet sets a label, GUID, start or size",
      schema: {
        if: { properties: { shouldExist: { const: false } }, required: ["shouldExist"] },
        then: { properties: { label: { type: "null" }, startMiB: { type: "null" }, sizeMiB: { type: "null" }, typeGuid: blank, guid: blank } },
      },
      ok: [{ number: 3, label: null, shouldExist: false, typeGuid: "" }],
      bad: [{ number: 3, label: null, shouldExist: false, sizeMiB: 100 }, { number: 3, label: "x", shouldExist: false }],
    },
  ],
  Raid: [
    {
      why: "the validator rejects spares for striped levels",
      schema: { if: { properties: { level: { enum: STRIPED_RAID_LEVELS as Json[] } }, required: ["level"] }, then: { properties: { spares: { enum: [null, 0] } } } },
      ok: [{ level: "raid0", spares: 0 }, { level: "raid1", spares: 1 }],
      bad: [{ level: "raid0", spares: 1 }, { level: "linear", spares: 2 }],
    },
  ],
  Filesystem: [
    ...labelRules,
    {
      why: "the validator requires a format when a label, uuid, path, options or wipeFilesystem is set",
      schema: {
        if: { anyOf: [{ not: { required: ["format"] } }, { properties: { format: blank } }] },
        then: {
          properties: {
            label: blank,
            uuid: blank,
            path: blank,
            wipeFilesystem: { enum: [null, false] },
            options: { type: ["array", "null"], maxItems: 0 },
            mountOptions: { type: ["array", "null"], maxItems: 0 },
          },
        },
      },
      ok: [{ format: null, label: "" }, { format: "", wipeFilesystem: false }],
      bad: [{ format: null, label: "data" }, { format: "", path: "/var" }, { format: null, wipeFilesystem: true }, { format: "", options: ["-m0"] }],
    },
  ],
  File: [
    {
      why: "the validator rejects overwrite without a contents source",
      schema: {
        if: { properties: { overwrite: { const: true } }, required: ["overwrite"] },
        then: { properties: { contents: { type: "object", properties: { source: { type: "string" } }, required: ["source"] } }, required: ["contents"] },
      },
      ok: [{ overwrite: true, contents: { source: "data:,x" } }, { overwrite: false }],
      bad: [{ overwrite: true }, { overwrite: true, contents: {} }],
    },
  ],
  NodeUser: [ownerRule],
  NodeGroup: [ownerRule],
  Clevis: [
    ...CLEVIS_CUSTOM_BY_SPEC.map(({ custom, ...span }): StructRule => ({
      ...span,
      since: span.since ?? "3.2.0",
      why: "the validator rejects a custom clevis pin together with tpm2, tang or a threshold",
      schema: { if: { properties: { custom }, required: ["custom"] }, then: { properties: { tpm2: { enum: [null, false] }, tang: { type: ["array", "null"], maxItems: 0 }, threshold: { enum: [null, 0] } } } },
      ok: [{ custom: { pin: "tpm2", config: "{}" }, tpm2: false }, { tpm2: true, threshold: 1 }],
      bad: [
        { custom: { pin: "tpm2", config: "{}" }, tpm2: true },
        { custom: { pin: "tpm2", config: "{}" }, tang: [{ url: "http://tang.example.com", thumbprint: "x" }] },
        { custom: { pin: "tpm2", config: "{}" }, threshold: 2 },
      ],
    })),
  ],
  Luks: [
    {
      since: "3.5.0",
      why: "the validator rejects a CEX volume that also has clevis or a key file",
      schema: {
        if: { properties: { cex: { type: "object", properties: { enabled: { const: true } }, required: ["enabled"] } }, required: ["cex"] },
        then: {
          properties: {
            clevis: {
              anyOf: [
                { type: "null" },
                {
                  type: "object",
                  properties: {
                    custom: { anyOf: [{ type: "null" }, { type: "object", properties: { pin: blank } }] },
                    tpm2: { enum: [null, false] },
                    tang: { type: ["array", "null"], maxItems: 0 },
                    threshold: { enum: [null, 0] },
                  },
                },
              ],
            },
            keyFile: { anyOf: [{ type: "null" }, { type: "object", properties: { source: blank } }] },
          },
        },
      },
      ok: [{ cex: { enabled: true } }, { cex: { enabled: false }, clevis: { tpm2: true } }, { cex: { enabled: true }, clevis: { tpm2: false } }],
      bad: [{ cex: { enabled: true }, clevis: { tpm2: true } }, { cex: { enabled: true }, keyFile: { source: "data:,key" } }, { cex: { enabled: true }, clevis: { threshold: 1 } }],
    },
  ],
  ClevisCustom: [
    {
      why: "the validator needs the pin's configuration whenever a pin is named",
      schema: {
        if: { properties: { pin: { type: "string", minLength: 1 } }, required: ["pin"] },
        then: { properties: { config: { type: "string", minLength: 1 } }, required: ["config"] },
      },
      ok: [{ pin: "tpm2", config: "{}" }, { pin: "", config: "" }],
      bad: [{ pin: "tang", config: "" }, { pin: "tang", config: null }],
    },
    {
      why: "the validator needs a pin whenever a configuration is given",
      schema: {
        if: { properties: { config: { type: "string", minLength: 1 } }, required: ["config"] },
        then: { properties: { pin: { type: "string", minLength: 1 } }, required: ["pin"] },
      },
      ok: [{ pin: "tpm2", config: "{}" }],
      bad: [{ pin: "", config: "{}" }],
    },
  ],
};
