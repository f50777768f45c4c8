// NVIDIA BlueField: the config is in the boot FIFO the mlxbf_bootctl driver exposes in sysfs.
// No network.
import { readFile } from "node:fs/promises";
import { hostPath } from "../system/commands.ts";
import { runStep, trimNul } from "./provider_steps.ts";
import { found, none, type Provider } from "./types.ts";

/** NVIDIA BlueField: the boot FIFO; missing or empty means no config; NUL padding is trimmed. */
export const nvidiabluefieldProvider: Provider = {
  name: "nvidiabluefield",
  async fetch(ctx) {
    await runStep(ctx, "loading the mlxbf_bootctl kernel module", "modprobe", ["mlxbf_bootctl"]);
    const fifo = hostPath("bluefieldBootfifo", ctx.system.env);
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(await readFile(fifo));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return none(`no boot FIFO at "${fifo}"`);
      ctx.log.warn(`Cannot read the boot FIFO "${fifo}": ${(e as Error).message}`);
      return none(`the boot FIFO "${fifo}" cannot be read`);
    }
    if (raw.length === 0) return none(`the boot FIFO "${fifo}" is empty`);
    return found(trimNul(raw), `nvidiabluefield boot FIFO ${fifo}`);
  },
};
