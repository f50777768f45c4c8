// The rendered config the fetch stages cache in the run directory: later stages read it back,
// in the same process (`apply`) or in later `run --stage` calls at boot. Within one process a
// config written or read at a path is remembered with the file's identity (device, inode,
// size, change time) in the parse cache, so it is parsed once rather than once per stage.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Config } from "../config/types.ts";
import { forgetParsed, rememberAs, rememberParsed } from "./parse_cache.ts";

/** What identifies one version of a file, or null when there is none. */
function identityOf(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : null;
}

const slotOf = (path: string) => `config cache ${path}`;

/** Writes the rendered config atomically (temp file and rename), readable by root only. */
export function writeConfigCache(path: string, config: Config): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(config) + "\n", { mode: 0o600 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    forgetParsed(slotOf(path));
    throw new Error(`Cannot cache the rendered config "${path}": ${(e as Error).message}`, { cause: e });
  }
  const identity = identityOf(path);
  if (identity) rememberAs(slotOf(path), [identity], config);
}

/** The cached config, or null when no fetch stage has cached one yet. */
export function readConfigCache(path: string): Config | null {
  const identity = identityOf(path);
  if (!identity) return null;
  return rememberParsed(slotOf(path), [identity], () => parseCached(path));
}

function parseCached(path: string): Config | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`Cannot read the cached config "${path}": ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as Config;
  } catch (e) {
    throw new Error(`Cannot read the cached config "${path}": not valid JSON`, { cause: e });
  }
}
