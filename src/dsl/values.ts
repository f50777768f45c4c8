// Values a program hands to declarations: contents (inline text or bytes, a local file, a remote
// resource, a secret, a text template), parameters set on the command line, and secrets. Local
// files and secrets are read when the program runs, relative to the file that names them, so
// the output does not depend on the working directory.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { captureOrigin, formatOrigin, type Origin } from "./origin.ts";
import type { FileContents, Spec, Latest } from "./spec.generated.ts";

/** Brand of every value object the library makes. */
export const VALUE = Symbol.for("nexus.value");

/** A local file read when the program ran; its bytes are embedded in the output. */
export interface LocalFile {
  readonly [VALUE]: "local";
  /** Absolute path of the file. */
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly origin?: Origin;
}

/** A resource fetched at provisioning time (Ignition's source URL and its options). */
export interface Remote<V extends Spec = Latest> {
  readonly [VALUE]: "remote";
  readonly resource: FileContents<V> & { source: string };
  readonly origin?: Origin;
}

/** A secret: its bytes reach the output and nothing else (no error, warning, plan or log). */
export interface Secret {
  readonly [VALUE]: "secret";
  readonly name: string;
  readonly origin?: Origin;
}

/** Text assembled from literal parts, secrets and other values by the `text` tag. */
export interface Text {
  readonly [VALUE]: "text";
  readonly parts: readonly (string | Secret | LocalFile)[];
  readonly origin?: Origin;
}

/**
 * Inline contents with the options of a resource, as Butane's `inline`: `{ inline: "…",
 * verification: { hash: "sha512-…" } }` embeds the bytes and keeps the hash Ignition checks
 * them against. With `compression: "gzip"` the bytes are taken as already compressed.
 */
export type InlineContents<V extends Spec = Latest> = Omit<FileContents<V>, "source"> & { inline: string | Uint8Array | LocalFile | Secret | Text; source?: never };

/** Anything that can be a file's (or a drop-in's, a key file's) contents. */
export type Contents<V extends Spec = Latest> = string | Uint8Array | LocalFile | Remote<V> | Secret | Text | (FileContents<V> & { source?: string; inline?: never }) | InlineContents<V>;

/** The bytes of every secret made in this process, by secret object (never exported). */
const secretBytes = new WeakMap<Secret, Uint8Array>();
/** Every secret made in this process, for redaction. */
const allSecrets: Secret[] = [];

/** True for a value object of the given kind. */
export function isValue<K extends string>(v: unknown, kind: K): v is { [VALUE]: K } {
  return typeof v === "object" && v !== null && (v as { [VALUE]?: unknown })[VALUE] === kind;
}

/** The directory a relative path in a declaration is resolved against: the declaring file's. */
function baseDir(origin: Origin | undefined): string {
  return origin ? dirname(origin.file) : process.cwd();
}

/** Reads a file for a declaration; the error names the declaration's line. */
function readFor(what: string, path: string, origin: Origin | undefined): { abs: string; bytes: Uint8Array } {
  const abs = isAbsolute(path) ? path : resolve(baseDir(origin), path);
  try {
    return { abs, bytes: new Uint8Array(readFileSync(abs)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new Error(`Cannot read ${what} "${path}" (${abs}): ${why}, at ${formatOrigin(origin)}`, { cause: e });
  }
}

/** A local file, read now, relative to the file that calls `read`. */
export function read(path: string): LocalFile {
  const origin = captureOrigin(read);
  const { abs, bytes } = readFor("file", path, origin);
  return { [VALUE]: "local", path: abs, bytes, origin };
}

/** A resource fetched at provisioning time: Ignition's `source` plus its other fields. */
export function remote<V extends Spec = Latest>(source: string, options: FileContents<V, "source"> = {} as FileContents<V, "source">): Remote<V> {
  return { [VALUE]: "remote", resource: { ...options, source } as Remote<V>["resource"], origin: captureOrigin(remote) };
}

/**
 * A secret read now from a file (relative to the calling file) or an environment variable.
 * Its bytes go into the output config and nowhere else: interpolating it into a plain string
 * is an error — build text around it with the `text` tag.
 */
export function secret(name: string, from: { file: string } | { env: string }): Secret {
  const origin = captureOrigin(secret);
  let bytes: Uint8Array;
  if ("file" in from) {
    bytes = readFor(`secret "${name}" from file`, from.file, origin).bytes;
  } else {
    const value = process.env[from.env];
    if (value === undefined) throw new Error(`Cannot read secret "${name}": environment variable ${from.env} is not set, at ${formatOrigin(origin)}`);
    bytes = new TextEncoder().encode(value);
  }
  const refuse = () => {
    throw new TypeError(`Secret "${name}" (declared at ${formatOrigin(origin)}) cannot be turned into a plain string: use text\`…\${secret}…\` to build contents around it`);
  };
  const s: Secret = Object.freeze({ [VALUE]: "secret" as const, name, origin, toString: refuse, toJSON: refuse, [Symbol.toPrimitive]: refuse });
  secretBytes.set(s, bytes);
  allSecrets.push(s);
  return s;
}

/** Text from a template whose parts may be secrets or local files: `text\`TOKEN=${token}\``. */
export function text(strings: TemplateStringsArray, ...values: readonly (string | number | boolean | Secret | LocalFile | Text)[]): Text {
  const parts: (string | Secret | LocalFile)[] = [];
  strings.forEach((s, i) => {
    if (s !== "") parts.push(s);
    if (i >= values.length) return;
    const v = values[i];
    if (isValue(v, "text")) parts.push(...(v as Text).parts);
    else if (isValue(v, "secret") || isValue(v, "local")) parts.push(v as Secret | LocalFile);
    else parts.push(String(v));
  });
  return { [VALUE]: "text", parts, origin: captureOrigin(text) };
}

/** The bytes of a secret (for the emitter only). */
export function secretValue(s: Secret): Uint8Array {
  const b = secretBytes.get(s);
  if (!b) throw new Error(`Cannot use secret "${s.name}": it was not made by this library`);
  return b;
}

/** Every secret made so far (for redacting messages). */
export function knownSecrets(): readonly Secret[] {
  return allSecrets;
}

/** True for inline contents given with resource options (`{ inline, verification }`). */
export function isInlineContents(c: unknown): c is InlineContents {
  return typeof c === "object" && c !== null && !(c instanceof Uint8Array) && !(VALUE in c) && "inline" in c;
}

/** The bytes of inline contents (text, bytes, a local file, a secret, a template), or null for a remote resource. */
export function inlineBytes(c: Contents): Uint8Array | null {
  if (typeof c === "string") return new TextEncoder().encode(c);
  if (c instanceof Uint8Array) return c;
  if (isValue(c, "local")) return (c as LocalFile).bytes;
  if (isValue(c, "secret")) return secretValue(c as Secret);
  if (isValue(c, "text")) {
    const chunks = (c as Text).parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : (inlineBytes(p) as Uint8Array)));
    return Buffer.concat(chunks);
  }
  return null;
}

/** A stable identity of contents: the hash of inline bytes, or the remote resource's fields. */
export function contentsKey(c: Contents): string {
  const bytes = inlineBytes(c);
  if (bytes) return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  if (isInlineContents(c)) {
    const { inline, ...options } = c;
    return `${contentsKey(inline)}:${stableJson(options)}`;
  }
  const res = isValue(c, "remote") ? (c as Remote).resource : (c as object);
  return `resource:${stableJson(res)}`;
}

/** JSON with object keys sorted, for comparing declared values. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/** True when contents carry a secret anywhere. */
export function holdsSecret(c: unknown): boolean {
  return isValue(c, "secret") || (isValue(c, "text") && (c as Text).parts.some((p) => isValue(p, "secret")));
}

// Parameters: values given on the command line (`--set NAME=VALUE`), typed by their default.

/** A parameter a program declared. */
export interface DeclaredParam {
  name: string;
  type: "string" | "number" | "boolean";
  required: boolean;
  description?: string;
  origin?: Origin;
}

const paramState = { given: new Map<string, string>(), declared: new Map<string, DeclaredParam>() };

/** Sets the values of `--set` for the programs about to run (the CLI calls this first). */
export function setParams(given: ReadonlyMap<string, string>): void {
  paramState.given = new Map(given);
  paramState.declared.clear();
}

/** The parameters the programs declared so far. */
export function declaredParams(): DeclaredParam[] {
  return [...paramState.declared.values()];
}

/** Declares parameters again (for a program whose module already ran in this process). */
export function redeclareParams(params: readonly DeclaredParam[]): void {
  for (const p of params) paramState.declared.set(p.name, p);
}

function convert(p: DeclaredParam, raw: string): string | number | boolean {
  if (p.type === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new Error(`Cannot use --set ${p.name}=${raw}: parameter "${p.name}" is a number, at ${formatOrigin(p.origin)}`);
    return n;
  }
  if (p.type === "boolean") {
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    throw new Error(`Cannot use --set ${p.name}=${raw}: parameter "${p.name}" is a boolean (true or false), at ${formatOrigin(p.origin)}`);
  }
  return raw;
}

function declare(p: DeclaredParam): void {
  const seen = paramState.declared.get(p.name);
  if (seen && seen.type !== p.type) {
    throw new Error(`Parameter "${p.name}" is declared as a ${seen.type} at ${formatOrigin(seen.origin)} and as a ${p.type} at ${formatOrigin(p.origin)}`);
  }
  if (!seen) paramState.declared.set(p.name, p);
}

/**
 * A parameter: the value of `--set NAME=VALUE`, converted to the type of `defaultValue`, or
 * `defaultValue` when it is not set.
 */
export function param<T extends string | number | boolean>(name: string, defaultValue: T, description?: string): T extends string ? string : T extends number ? number : boolean {
  const type = typeof defaultValue as DeclaredParam["type"];
  const p: DeclaredParam = { name, type, required: false, description, origin: captureOrigin(param) };
  declare(p);
  const raw = paramState.given.get(name);
  return (raw === undefined ? defaultValue : convert(p, raw)) as never;
}

/** A string parameter that must be given with `--set NAME=VALUE`. */
export function requiredParam(name: string, description?: string): string {
  const p: DeclaredParam = { name, type: "string", required: true, description, origin: captureOrigin(requiredParam) };
  declare(p);
  const raw = paramState.given.get(name);
  if (raw === undefined) throw new Error(`Parameter "${name}" is required: pass --set ${name}=VALUE (declared at ${formatOrigin(p.origin)})`);
  return raw;
}
