// Loader for the upstream Ignition blackbox corpus (../shared/conformance/ignition), read at
// test time — never copied into the repo. Gives typed cases, per-version variants with
// `$version` and `$uuid<N>` substituted, and the tracked known-failures list.
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, unlinkSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "../..");

export interface CorpusNode {
  path: string;
  contents?: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
  hard?: boolean;
  target?: string;
}

export interface CorpusPartition {
  number: number;
  label: string | null;
  blank: boolean;
  typeCode: string | null;
  typeGuid: string | null;
  guid: string | null;
  lengthSectors: number;
  offsetSectors?: number;
  expectedSizeSectors?: number;
  hybridMbr: boolean;
  fsType: string | null;
  fsLabel: string | null;
  fsUuid: string | null;
  fsImageFixture: string | null;
  fsAmbivalent: boolean;
  files: CorpusNode[];
  directories: CorpusNode[];
  links: CorpusNode[];
  removedNodes: CorpusNode[];
}

export interface CorpusDisk {
  alignmentSectors: number;
  imageSizeBytes?: number;
  corruptTable?: boolean;
  partitions: CorpusPartition[];
}

export interface SystemConfigFile {
  path: string;
  contents: string | null;
  mode: number;
  uid: number;
  gid: number;
}

export interface MockResource {
  protocol: "http" | "https" | "tftp";
  url: string | null;
  urlPlaceholder: string | null;
  [key: string]: unknown;
}

export interface CorpusCase {
  id: string;
  kind: "positive" | "negative";
  area: string;
  description: string | null;
  configMinVersion: string | null;
  configMaxVersion: string | null;
  configVersions: string[];
  variants: { id: string; configVersion: string }[];
  config: string;
  configShouldBeBad: boolean;
  skipCriticalCheck: boolean;
  env: string[];
  systemConfigFiles: { system: SystemConfigFile[]; systemRuntime: SystemConfigFile[]; systemLocal: SystemConfigFile[] };
  mntDevices: { label: string; substitution: string }[];
  in: CorpusDisk[];
  out: CorpusDisk[];
  mockResources: MockResource[];
  requirements: Record<string, boolean>;
  notes: string[];
  /** Relative path of the case file inside the corpus. */
  file: string;
}

/** One runnable variant: the case with its config rendered for one version. */
export interface CorpusVariant {
  /** Upstream's subtest name, `<id> <version>` (or `<id> ` without a version). */
  name: string;
  version: string;
  case: CorpusCase;
  /** The config with `$version` substituted (other placeholders untouched). */
  config: string;
}

/** Where the corpus lives: NEXUS_CONFORMANCE_DIR, else ../shared beside the repo. */
export function corpusDir(): string {
  return process.env.NEXUS_CONFORMANCE_DIR ?? resolve(REPO_ROOT, "../shared/conformance/ignition");
}

/** Where the Butane corpus lives: NEXUS_BUTANE_CORPUS_DIR, else ../shared beside the repo. */
export function butaneCorpusDir(): string {
  return process.env.NEXUS_BUTANE_CORPUS_DIR ?? resolve(REPO_ROOT, "../shared/conformance/butane");
}

/** Where upstream's published JSON Schemas (schema-v3_*.json) live: NEXUS_SPEC_DIR, else ../shared. */
export function upstreamSchemaDir(): string {
  return process.env.NEXUS_SPEC_DIR ?? resolve(REPO_ROOT, "../shared/spec/ignition");
}

/**
 * Whether the corpus can be read. Absent: suites report themselves skipped — except under
 * CI=true, where a missing corpus is a failure (this throws).
 */
export function corpusAvailable(): boolean {
  const ok = existsSync(join(corpusDir(), "index.json"));
  if (!ok && process.env.CI === "true") {
    throw new Error(`Cannot find the Ignition conformance corpus at "${corpusDir()}" (required under CI=true)`);
  }
  return ok;
}

let cached: CorpusCase[] | undefined;

/** Every case of the corpus, in index order. */
export function loadCases(): CorpusCase[] {
  if (cached) return cached;
  const dir = corpusDir();
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { cases: { path: string }[] };
  cached = index.cases.map((c) => ({ ...(JSON.parse(readFileSync(join(dir, c.path), "utf8")) as CorpusCase), file: c.path }));
  return cached;
}

/** Every registered variant of a case, config rendered with its `$version`. */
export function variantsOf(c: CorpusCase): CorpusVariant[] {
  return c.variants.map((v) => ({
    name: v.id,
    version: v.configVersion,
    case: c,
    config: v.configVersion === "" ? c.config : c.config.replaceAll("$version", v.configVersion),
  }));
}

/** Every variant of every case matching the filter. */
export function loadVariants(filter: (c: CorpusCase) => boolean = () => true): CorpusVariant[] {
  return loadCases().filter(filter).flatMap(variantsOf);
}

/** Maps `$uuid<N>` to one fresh random UUID per N, shared by config and disks in one run. */
export class UuidPlaceholders {
  private readonly map = new Map<string, string>();
  /** Replaces every `$uuid<N>` in text. */
  render(text: string): string {
    return text.replace(/\$uuid(\d+)/g, (m) => {
      let u = this.map.get(m);
      if (!u) this.map.set(m, (u = crypto.randomUUID()));
      return u;
    });
  }
  /** The same for a nullable field. */
  renderField(v: string | null): string | null {
    return v === null ? null : this.render(v);
  }
}

export const KNOWN_FAILURES_FILE = join(REPO_ROOT, "test/conformance/known-failures.json");

/**
 * The tracked list of conformance variants that do not pass yet, each with its reason. Keys are
 * variant names (`<id> <version>`) or, for other corpora, prefixed names (`butane:<case>`).
 */
export function knownFailures(): Record<string, string> {
  if (!existsSync(KNOWN_FAILURES_FILE)) return {};
  const raw = JSON.parse(readFileSync(KNOWN_FAILURES_FILE, "utf8")) as Record<string, string>;
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("//")));
}

/** A variant's config with stand-ins for runtime placeholders (devices, servers, UUIDs), for
 *  checks that only read the config. */
export function renderForValidation(v: CorpusVariant): string {
  let text = new UuidPlaceholders().render(v.config);
  for (const d of v.case.mntDevices) text = text.replaceAll(d.substitution, `/dev/disk/by-partlabel/${d.label}`);
  text = text.replace(/\$disk(\d+)/g, (_, i: string) => `/dev/vd${String.fromCharCode(97 + Number(i))}`);
  for (const r of v.case.mockResources) {
    if (r.urlPlaceholder) text = text.replaceAll(r.urlPlaceholder, `${r.protocol}://127.0.0.1:1`);
  }
  return text;
}

/** Path of a fixture file inside the corpus. */
export function fixturePath(...parts: string[]): string {
  return join(corpusDir(), "fixtures", ...parts);
}

// The Butane corpus (../shared/conformance/butane): a real Butane's translation of each case.

/** The fields of a Butane case's meta.json the suites read. */
export interface ButaneMeta {
  id: string;
  variant: string;
  kind: string;
  filesDir: string | null;
  fixture?: { dir: string; symlinks?: Record<string, string> } | null;
  exitCode: number;
  stderr: string;
  expected: string | null;
  strict: { exitCode: number };
}

/** Every Butane case, in folder order. */
export function listButaneCases(): { dir: string; meta: ButaneMeta }[] {
  const casesDir = join(butaneCorpusDir(), "cases");
  const out: { dir: string; meta: ButaneMeta }[] = [];
  for (const group of readdirSync(casesDir).sort()) {
    for (const name of readdirSync(join(casesDir, group)).sort()) {
      const dir = join(casesDir, group, name);
      out.push({ dir, meta: JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as ButaneMeta });
    }
  }
  return out;
}

/** A scratch copy of a case whose fixture lost its symlinks in copying (the README's --repair). */
export function prepareButaneCase(dir: string, meta: ButaneMeta, scratch: string): string {
  const work = join(scratch, meta.id.replace("/", "__"));
  cpSync(dir, work, { recursive: true });
  const fixture = meta.fixture;
  for (const [rel, target] of Object.entries(fixture?.symlinks ?? {})) {
    const p = join(work, fixture!.dir, rel);
    if (existsSync(p)) unlinkSync(p);
    symlinkSync(target, p);
  }
  return work;
}
