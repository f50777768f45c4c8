// Builds what `dist/nexus` embeds besides its code (run by `make build`):
//   build/nexus-assets/types.json   the DSL's type declarations ({"index.d.ts": "…", …}), emitted
//                                   by TypeScript from src/dsl/, for `nexus new` and `nexus check`;
//   build/nexus-assets/tslib.json   the TypeScript standard library files a check needs (es2023).
// The TypeScript checker itself is embedded straight from node_modules (see src/authoring/assets.js).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, relative } from "node:path";

const REPO = join(import.meta.dir, "..");
const OUT = join(REPO, "build/nexus-assets");
const TS_LIB_DIR = join(REPO, "node_modules/@typescript/typescript-linux-x64/lib");
/** The standard library a program is checked against. */
export const CHECK_LIB = "es2023";

/** Emits declarations of src/dsl/index.ts and returns those it reaches, by path below src/dsl. */
function dslDeclarations(): Record<string, string> {
  const tmp = mkdtempSync(join(tmpdir(), "nexus-dts-"));
  try {
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        lib: ["ES2023"],
        types: ["bun"],
        typeRoots: [join(REPO, "node_modules/@types")],
        strict: true,
        skipLibCheck: true,
        declaration: true,
        emitDeclarationOnly: true,
        allowImportingTsExtensions: true,
        rewriteRelativeImportExtensions: true,
        rootDir: join(REPO, "src"),
        outDir: join(tmp, "out"),
      },
      files: [join(REPO, "src/dsl/index.ts")],
    };
    writeFileSync(join(tmp, "tsconfig.json"), JSON.stringify(tsconfig));
    const r = Bun.spawnSync([join(REPO, "node_modules/.bin/tsc"), "-p", join(tmp, "tsconfig.json")], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`Cannot emit the DSL's declarations:\n${r.stdout.toString()}${r.stderr.toString()}`);
    const outDir = join(tmp, "out");
    const files: Record<string, string> = {};
    const visit = (rel: string) => {
      if (rel in files) return;
      if (rel.startsWith("..") || !rel.startsWith("dsl/")) throw new Error(`The DSL's declarations reach outside src/dsl: ${rel}`);
      const text = readFileSync(join(outDir, rel), "utf8");
      files[rel] = text;
      for (const m of text.matchAll(/from\s+["'](\.[^"']+)["']|import\(["'](\.[^"']+)["']\)/g)) {
        const spec = (m[1] ?? m[2])!.replace(/\.(ts|js)$/, "");
        visit(normalize(join(dirname(rel), spec + ".d.ts")));
      }
    };
    visit("dsl/index.d.ts");
    // Keyed below the dsl folder: .nexus/types/index.d.ts, .nexus/types/builders.d.ts, …
    return Object.fromEntries(Object.entries(files).map(([k, v]) => [relative("dsl", k), v]));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The standard library files `lib: [CHECK_LIB]` needs, by file name. */
function standardLibrary(): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (name: string) => {
    const file = `lib.${name}.d.ts`;
    if (file in out) return;
    const text = readFileSync(join(TS_LIB_DIR, file), "utf8");
    out[file] = text;
    for (const m of text.matchAll(/\/\/\/\s*<reference lib="([^"]+)"/g)) visit(m[1]!);
  };
  // The checker wants its default library file present even when told which library to use;
  // it is never read then, so the DOM libraries it references are left out.
  out["lib.d.ts"] = readFileSync(join(TS_LIB_DIR, "lib.d.ts"), "utf8");
  visit(CHECK_LIB);
  visit("decorators");
  visit("decorators.legacy");
  return out;
}

if (import.meta.main) {
  mkdirSync(OUT, { recursive: true });
  const types = dslDeclarations();
  writeFileSync(join(OUT, "types.json"), JSON.stringify(types));
  const lib = standardLibrary();
  writeFileSync(join(OUT, "tslib.json"), JSON.stringify(lib));
  const size = (o: Record<string, string>) => Object.values(o).reduce((n, t) => n + t.length, 0);
  process.stdout.write(`nexus assets: ${Object.keys(types).length} declaration files (${size(types)} bytes), ${Object.keys(lib).length} library files (${size(lib)} bytes); checker ${readdirSync(TS_LIB_DIR).includes("tsc") ? "found" : "MISSING"}\n`);
}
