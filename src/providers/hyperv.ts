// Microsoft Hyper-V: the config is the KVP key "ignition.config" of pool 0, or — values hold
// about 1 KiB — the keys "ignition.config.0", ".1", … joined. The host sends its pairs once per
// boot, so nexus-init writes the pools where hv_kvp_daemon would have (/var/lib/hyperv/
// .kvp_pool_N), mode 0600 rather than the daemon's 0644: they hold the config. No network.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hostPath } from "../system/commands.ts";
import { encodePoolFile, openKvpDevice, readKvpPairs, type KvpChannel, type KvpPair } from "./hv_kvp.ts";
import { found, none, type Provider, type ProviderFile } from "./types.ts";

const SINGLE_KEY = "ignition.config";
const SPLIT_PREFIX = "ignition.config.";
/** Pools the daemon keeps (0 is where Windows hosts write for Linux guests). */
const POOLS = [0, 1, 2, 3, 4];

/** The config in pool 0: the single key, else the numbered keys joined, else "". */
export function configFromPairs(pairs: readonly KvpPair[]): string {
  const pool0 = pairs.filter((p) => p.pool === 0);
  const single = pool0.find((p) => p.key === SINGLE_KEY)?.value ?? "";
  if (single) return single;
  const parts: string[] = [];
  for (let i = 0; ; i++) {
    const part = pool0.find((p) => p.key === `${SPLIT_PREFIX}${i}`);
    if (!part) break;
    parts.push(part.value);
  }
  return parts.join("");
}

/** The Hyper-V provider reading the KVP exchange through `open` (the kernel device by default). */
export function hypervProviderWith(open: (path: string) => KvpChannel): Provider {
  return {
    name: "hyperv",
    async fetch(ctx) {
      if (!existsSync(hostPath("hvUtilsDriver", ctx.system.env))) {
        const r = await ctx.log.op("loading the hv_utils kernel module", () => ctx.system.run("modprobe", ["hv_utils"]));
        if (r.code !== 0) throw new Error(`Cannot fetch config on platform "hyperv": cannot load hv_utils: ${r.stderr.trim() || `exit code ${r.code}`}`);
      }
      const device = hostPath("hvKvpDevice", ctx.system.env);
      let pairs: KvpPair[];
      try {
        const channel = open(device);
        try {
          pairs = await readKvpPairs(channel);
        } finally {
          channel.close();
        }
      } catch (e) {
        throw new Error(`Cannot fetch config on platform "hyperv" from KVP ${device}: ${(e as Error).message}`, { cause: e });
      }
      const dir = hostPath("hvKvpPoolDir", ctx.system.env);
      const files: ProviderFile[] = POOLS.map((pool) => ({
        path: join(dir, `.kvp_pool_${pool}`),
        mode: 0o600,
        data: encodePoolFile(pairs.filter((p) => p.pool === pool)),
      }));
      const config = configFromPairs(pairs);
      if (!config) return none(`no "${SINGLE_KEY}" key in KVP pool 0`, files);
      return found(new TextEncoder().encode(config), `hyperv KVP pool 0 "${SINGLE_KEY}"`, files);
    },
  };
}

/** The Hyper-V platform's provider. */
export const hypervProvider = hypervProviderWith(openKvpDevice);
