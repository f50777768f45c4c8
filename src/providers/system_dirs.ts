// The system config directories, as Ignition has them: vendor (/usr/lib/nexus), runtime
// (/run/nexus/system) and local (/etc/nexus). Each may hold user.ign (a user config used when
// the kernel command line names none) and base.d/ and base.platform.d/<platform>/ fragments,
// merged under the user config. For a fragment or user.ign present in several directories the
// runtime one wins, then local, then vendor. Ignition's IGNITION_SYSTEM_*CONFIG_DIR variables
// are honoured, as are NEXUS_SYSTEM_*CONFIG_DIR.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { hostPath } from "../system/commands.ts";
import { found, none, type Provider } from "./types.ts";

/** The three directories, highest priority first. */
export function systemConfigDirs(env: Record<string, string | undefined>): { name: string; dir: string }[] {
  return [
    {
      name: "runtime",
      dir: env.NEXUS_SYSTEM_RUNTIME_CONFIG_DIR ?? env.IGNITION_SYSTEM_RUNTIME_CONFIG_DIR ?? join(hostPath("runDir", env), "system"),
    },
    { name: "local", dir: env.NEXUS_SYSTEM_LOCAL_CONFIG_DIR ?? env.IGNITION_SYSTEM_LOCAL_CONFIG_DIR ?? "/etc/nexus" },
    {
      name: "vendor",
      dir: env.NEXUS_SYSTEM_CONFIG_DIR ?? env.IGNITION_SYSTEM_CONFIG_DIR ?? dirname(hostPath("baseConfigDir", env)),
    },
  ];
}

async function readIfPresent(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw new Error(`Cannot read system config "${path}": ${(e as Error).message}`, { cause: e });
  }
}

/** user.ign from the highest-priority directory holding one. */
export const systemUserProvider: Provider = {
  name: "system",
  async fetch(ctx) {
    for (const { dir } of systemConfigDirs(ctx.system.env)) {
      const path = join(dir, "user.ign");
      const raw = await readIfPresent(path);
      if (raw) return found(raw, `system ${path}`);
    }
    return none("no user.ign in the system config directories");
  },
};

/** One base fragment: its file name, the file read, and its bytes. */
export interface BaseFragment {
  name: string;
  path: string;
  raw: Uint8Array;
}

/**
 * The base fragments of base.d/ then base.platform.d/<platform>/, each set ordered by file
 * name with same-named files taken from the highest-priority directory. Merge them in order.
 */
export async function readBaseFragments(env: Record<string, string | undefined>, platform: string): Promise<BaseFragment[]> {
  const dirs = systemConfigDirs(env);
  const out: BaseFragment[] = [];
  for (const sub of ["base.d", join("base.platform.d", platform)]) {
    const chosen = new Map<string, string>();
    for (const { dir } of [...dirs].reverse()) {
      let names: string[];
      try {
        names = await readdir(join(dir, sub));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") continue;
        throw new Error(`Cannot list system config directory "${join(dir, sub)}": ${(e as Error).message}`, { cause: e });
      }
      for (const n of names) chosen.set(n, join(dir, sub, n));
    }
    for (const name of [...chosen.keys()].sort()) {
      const path = chosen.get(name)!;
      const raw = await readIfPresent(path);
      if (raw) out.push({ name, path, raw });
    }
  }
  return out;
}
