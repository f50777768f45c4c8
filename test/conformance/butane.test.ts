// Butane conformance: every case of ../shared/conformance/butane (a real Butane's output for a
// Butane config) translated by nexus-init and compared as the corpus README prescribes —
// JSON deep-equal with data URLs compared by decoded content, report entries as sets of
// (kind, path, message), success/failure of the normal and the --strict run.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { translateButane, type ReportEntry } from "../../src/butane/index.ts";
import { butaneCorpusDir, knownFailures } from "./corpus.ts";

const CORPUS = butaneCorpusDir();
const UNSUPPORTED_VARIANTS = new Set(["openshift", "r4e", "fiot"]);

interface Meta {
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


/** Report lines of Butane's stderr as comparable (kind, path, message) strings. */
function expectedReport(stderr: string): Set<string> {
  const out = new Set<string>();
  for (const line of stderr.split("\n")) {
    const m = /^(error|warning|info)(?: at (.+?))?: (.*)$/.exec(line);
    if (!m) continue;
    const where = m[2] ?? "";
    const path = /^(?:(.*?), )?line \d+ col \d+$/.exec(where)?.[1] ?? (where.startsWith("$") ? where : "");
    out.add(`${m[1]} | ${path} | ${m[3]}`);
  }
  return out;
}

function actualReport(report: ReportEntry[]): Set<string> {
  return new Set(report.map((e) => `${e.kind} | ${e.path.length ? ["$", ...e.path].join(".") : ""} | ${e.message}`));
}

/** Replaces every data URL by its encoding and the SHA-256 of its decoded (gunzipped) bytes. */
function normalise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalise);
  if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = normalise(v);
    if (typeof o.source === "string" && o.source.startsWith("data:")) out.source = canonDataUrl(o.source, o.compression);
    return out;
  }
  return node;
}

function canonDataUrl(url: string, compression: unknown): unknown {
  const comma = url.indexOf(",");
  const head = url.slice(5, comma);
  const data = url.slice(comma + 1);
  const base64 = head.endsWith(";base64");
  const raw = base64 ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponentBytes(data));
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  if (compression === "gzip") {
    try {
      return { dataUrl: "gzip", sha256: sha(gunzipSync(raw)) };
    } catch {
      // user-compressed contents that are not gzip: compare as they are
    }
  }
  return { dataUrl: base64 ? "base64" : "percent", sha256: sha(raw) };
}

function decodeURIComponentBytes(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(s[i]!, "utf8"));
    }
  }
  return Uint8Array.from(out);
}

/** A scratch copy of a case whose fixture lost its symlinks in copying (the README's --repair). */
function prepareCase(dir: string, meta: Meta, scratch: string): string {
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

function listCases(): { dir: string; meta: Meta }[] {
  const casesDir = join(CORPUS, "cases");
  const out: { dir: string; meta: Meta }[] = [];
  for (const group of readdirSync(casesDir).sort()) {
    for (const name of readdirSync(join(casesDir, group)).sort()) {
      const dir = join(casesDir, group, name);
      out.push({ dir, meta: JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as Meta });
    }
  }
  return out;
}

function translateIn(work: string, meta: Meta, strict: boolean) {
  const cwd = process.cwd();
  process.chdir(work);
  try {
    return translateButane(readFileSync("config.bu", "utf8"), { filesDir: meta.filesDir ?? undefined, strict });
  } finally {
    process.chdir(cwd);
  }
}

if (!existsSync(join(CORPUS, "cases"))) {
  if (process.env.CI === "true") {
    test("the Butane corpus is present", () => {
      throw new Error(`Cannot read the Butane corpus "${CORPUS}": directory not found (set NEXUS_BUTANE_CORPUS_DIR)`);
    });
  } else {
    test.skip(`Butane corpus not found at ${CORPUS} (set NEXUS_BUTANE_CORPUS_DIR)`, () => {});
  }
} else {
  const known = knownFailures();
  const scratch = mkdtempSync(join(tmpdir(), "nexus-butane-corpus-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  describe("butane corpus", () => {
    for (const { dir, meta } of listCases()) {
      const key = `butane:${meta.id}`;
      test(`translateButane() matches Butane for ${meta.id}`, () => {
        const work = prepareCase(dir, meta, scratch);
        const result = translateIn(work, meta, false);
        if (UNSUPPORTED_VARIANTS.has(meta.variant)) {
          // Rejected on purpose, with a clear message; listed as a known failure.
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.fatal).toContain(`variant ${meta.variant} is not supported by nexus-init`);
          expect(known[key]).toBeString();
          return;
        }
        expect(known[key]).toBeUndefined();
        expect({ ok: result.ok, fatal: result.ok ? null : result.fatal }).toMatchObject({ ok: meta.exitCode === 0 });
        if (meta.kind === "unsupported") return;
        if (result.ok && meta.expected) {
          const expected = JSON.parse(readFileSync(join(dir, meta.expected), "utf8"));
          expect(normalise(result.ignition)).toEqual(normalise(expected));
        }
        expect([...actualReport(result.report)].sort()).toEqual([...expectedReport(meta.stderr)].sort());
        const strict = translateIn(work, meta, true);
        expect(strict.ok).toBe(meta.strict.exitCode === 0);
      });
    }
  });
}

