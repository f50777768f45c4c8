// QEMU: the config is a fw_cfg blob (-fw_cfg name=opt/com.coreos/config,file=…) exposed by the
// qemu_fw_cfg module under /sys/firmware/qemu_fw_cfg/by_name/<key>/raw.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { hostPath } from "../system/commands.ts";
import { found, none, type Provider } from "./types.ts";

/** fw_cfg keys searched, in order. */
export const FW_CFG_KEYS = ["opt/org.nexusos/config", "opt/com.coreos/config"] as const;

/** The QEMU platform's provider. */
export const qemuProvider: Provider = {
  name: "qemu",
  async fetch(ctx) {
    const base = hostPath("fwCfg", ctx.system.env);
    if (!existsSync(base)) {
      const r = await ctx.log.op("loading the qemu_fw_cfg kernel module", () => ctx.system.run("modprobe", ["qemu_fw_cfg"]));
      if (r.code !== 0) ctx.log.warn(`Cannot load qemu_fw_cfg: ${r.stderr.trim() || `exit code ${r.code}`}`);
    }
    for (const key of FW_CFG_KEYS) {
      const raw = join(base, "by_name", key, "raw");
      if (!existsSync(raw)) continue;
      // Reading fw_cfg goes through port I/O a byte at a time on some machines: one read, no stat loops.
      const bytes = await ctx.log.op(`reading fw_cfg key "${key}"`, async () => new Uint8Array(await readFile(raw)));
      return found(bytes, `fw_cfg ${key}`);
    }
    return none(`no fw_cfg key ${FW_CFG_KEYS.join(" or ")} under "${base}"`);
  },
};
