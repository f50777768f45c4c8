// The file platform: a config file on the local filesystem (tests, `apply`): NEXUS_CONFIG_FILE,
// else IGNITION_CONFIG_FILE (as upstream's file platform and the corpus use), else ./config.ign.
import { readFile } from "node:fs/promises";
import { found, type Provider } from "./types.ts";

/** The config file the file platform reads. */
export function configFilePath(env: Record<string, string | undefined>): string {
  return env.NEXUS_CONFIG_FILE ?? env.IGNITION_CONFIG_FILE ?? "config.ign";
}

/** The file platform's provider. */
export const fileProvider: Provider = {
  name: "file",
  async fetch(ctx) {
    const path = configFilePath(ctx.system.env);
    try {
      return found(new Uint8Array(await readFile(path)), `file ${path}`);
    } catch (e) {
      throw new Error(`Cannot read config file "${path}": ${(e as Error).message}`, { cause: e });
    }
  },
};
