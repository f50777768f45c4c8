// The type checker and declarations `nexus` carries, unpacked once into a cache directory
// (~/.cache/nexus/<key>/, key from the embedded contents) so `nexus check` works after
// `make build` with nothing else installed: the native TypeScript checker with its standard
// library beside it, and the DSL's declarations under types/.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Where the toolchain lives once unpacked. */
export interface Toolchain {
  dir: string;
  /** The checker executable. */
  tsc: string;
  /** The DSL's declarations: point the "nexus" module at `${typesDir}/index.d.ts`. */
  typesDir: string;
}

/** The DSL's declaration files by path below the types folder. */
export async function dslDeclarations(): Promise<Record<string, string>> {
  const assets = await import("./assets.js");
  return (await Bun.file(assets.declarations).json()) as Record<string, string>;
}

function cacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg) return join(xdg, "nexus");
  const home = homedir();
  return home ? join(home, ".cache", "nexus") : join(tmpdir(), "nexus-cache");
}

/** Unpacks the embedded toolchain (once per contents) and returns where it is. */
export async function toolchain(): Promise<Toolchain> {
  const assets = await import("./assets.js");
  const lib = await Bun.file(assets.standardLibrary).text();
  const types = await Bun.file(assets.declarations).text();
  const checker = Bun.file(assets.checker);
  const key = Bun.hash(`${lib}\0${types}\0${checker.size}`).toString(36);
  const dir = join(cacheRoot(), key);
  const result = { dir, tsc: join(dir, "tsc"), typesDir: join(dir, "types") };
  if (existsSync(join(dir, ".complete"))) return result;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "types"), { recursive: true });
  await Bun.write(join(tmp, "tsc"), checker);
  chmodSync(join(tmp, "tsc"), 0o755);
  for (const [name, text] of Object.entries(JSON.parse(lib) as Record<string, string>)) writeFileSync(join(tmp, name), text);
  for (const [name, text] of Object.entries(JSON.parse(types) as Record<string, string>)) {
    mkdirSync(dirname(join(tmp, "types", name)), { recursive: true });
    writeFileSync(join(tmp, "types", name), text);
  }
  writeFileSync(join(tmp, ".complete"), "");
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another nexus unpacked the same toolchain meanwhile: use theirs.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, ".complete"))) throw e;
  }
  return result;
}
