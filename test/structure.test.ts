// The house rules of the tree (STYLE.md), read from the imports of src/ (test files left out,
// `import type` counted: a type-only cycle still ties two files together): no import cycle, no
// stage importing another stage, no lower room importing the executor, the stages or the CLI,
// and no boot-side room importing the authoring rooms. Every room of src/ must be classified
// below, so a new room is a decision, not an accident.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

/** Rooms that must never import the upper ones. */
const LOWER = ["log", "system", "config", "resource", "providers", "disks", "units", "users", "butane", "acquire", "verify"];
/** Rooms above them: the executor, the stages and the command line. */
const UPPER = ["executor", "stages", "cli"];
/** The authoring side (`nexus`): the boot side never imports these. */
const AUTHORING = ["dsl", "image", "authoring", "nexus.ts"];
/** Top-level files of src/. */
const ENTRY_FILES = ["main.ts"];
/** The stages, longest first so fetch_offline is not taken for fetch. */
const STAGES = ["fetch_offline", "fetch", "kargs", "disks", "mount", "files", "umount"];

const IMPORT_RE = /(?:^|[;\s}])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)|\brequire\(\s*["']([^"']+)["']\s*\)/gm;
const COMMENT_RE = /\/\*[\s\S]*?\*\/|\/\/[^\n]*/g;

const isTest = (f: string) => /\.(test|qemu|spec)\.ts$|\.d\.ts$/.test(f);

function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith(".ts") && !isTest(name)) out.push(relative(SRC, p));
  }
  return out.sort();
}

/** The src/-relative files a file imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8").replace(COMMENT_RE, " ");
  const out = new Set<string>();
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (!spec.startsWith(".")) continue;
    const target = normalize(join(dirname(file), spec));
    const candidates = [target, target.replace(/\.js$/, ".ts"), `${target}.ts`, join(target, "index.ts")];
    const hit = candidates.find((c) => c.endsWith(".ts") && existsSync(join(SRC, c)));
    if (hit && hit !== file) out.add(hit);
  }
  return [...out];
}

const roomOf = (file: string) => (file.includes("/") ? file.split("/")[0]! : file);

function stageOf(file: string): string | undefined {
  if (!file.startsWith("stages/")) return undefined;
  const base = file.slice("stages/".length).split("/")[0]!.replace(/\.ts$/, "");
  return STAGES.find((s) => base === s || base.startsWith(`${s}_`));
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => [from, to] as const));

describe("the structure of src/", () => {
  test("every room of src/ is classified (lower, upper, authoring or an entry file)", () => {
    const known = new Set([...LOWER, ...UPPER, ...AUTHORING, ...ENTRY_FILES]);
    expect([...new Set(files.map(roomOf))].filter((r) => !known.has(r))).toEqual([]);
  });

  test("no import cycle", () => {
    expect(cycles(graph)).toEqual([]);
  });

  test("no stage imports another stage", () => {
    expect(edges.filter(([a, b]) => stageOf(a) && stageOf(b) && stageOf(a) !== stageOf(b)).map((e) => e.join(" -> "))).toEqual([]);
  });

  test("no lower room imports the executor, the stages or the command line", () => {
    expect(edges.filter(([a, b]) => LOWER.includes(roomOf(a)) && UPPER.includes(roomOf(b))).map((e) => e.join(" -> "))).toEqual([]);
  });

  test("the boot side never imports the authoring rooms", () => {
    expect(edges.filter(([a, b]) => !AUTHORING.includes(roomOf(a)) && AUTHORING.includes(roomOf(b))).map((e) => e.join(" -> "))).toEqual([]);
  });

  test("the import reader sees the imports it is meant to judge", () => {
    expect(graph.get("stages/index.ts")).toContain("stages/fetch.ts");
    expect(graph.get("executor/stage.ts")).toContain("executor/state.ts");
    expect(edges.length).toBeGreaterThan(200);
  });
});
