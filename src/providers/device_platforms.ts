// Hypervisor and firmware channels other than guestinfo, KVP and guest properties: Apple's
// Hypervisor (HTTP over vsock to the host, CID 2, port 1024, through socat), NVIDIA BlueField
// (the mlxbf_bootctl boot FIFO) and IBM z/VM (the reader queue, through s390-tools' vmur).
// None needs the network.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseHttpResponse } from "../resource/http_socket.ts";
import { hostPath } from "../system/commands.ts";
import type { CommandName } from "../system/commands.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

/** Runs a command as a logged operation; a failure is an error naming the platform and the step. */
async function runStep(ctx: ProviderContext, step: string, cmd: CommandName, args: string[]) {
  const r = await ctx.log.op(step, () => ctx.system.run(cmd, args));
  if (r.code !== 0) throw new Error(`Cannot fetch config on platform "${ctx.platform}": ${step} failed: ${(r.stderr || r.stdout).trim() || `exit code ${r.code}`}`);
  return r;
}

function trimNul(data: Uint8Array): Uint8Array {
  let a = 0;
  let b = data.length;
  while (a < b && data[a] === 0) a++;
  while (b > a && data[b - 1] === 0) b--;
  return data.subarray(a, b);
}

/** The vsock address of Apple Hypervisor's config server on the host. */
export const APPLEHV_VSOCK = "VSOCK-CONNECT:2:1024";

/** Apple Hypervisor: GET / over vsock to the host. */
export const applehvProvider: Provider = {
  name: "applehv",
  async fetch(ctx) {
    // The virtio transport too: the LiveCD initramfs's udev loads modules only for disks and NICs.
    if (!existsSync(hostPath("vsockDevice", ctx.system.env))) {
      await runStep(ctx, "loading the vsock kernel modules", "modprobe", ["-a", "vsock", "vmw_vsock_virtio_transport"]);
    }
    const request = "GET / HTTP/1.1\r\nHost: d\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
    const r = await ctx.log.op(`GET / over ${APPLEHV_VSOCK}`, () => ctx.system.run("socat", ["-", APPLEHV_VSOCK], { stdin: request, secret: true }));
    const source = `applehv vsock ${APPLEHV_VSOCK}`;
    if (r.code !== 0) throw new Error(`Cannot fetch config on platform "applehv" from ${source}: socat exit code ${r.code}: ${r.stderr.trim()}`);
    let res: Response;
    try {
      res = parseHttpResponse(Buffer.from(r.stdout, "utf8"));
    } catch (e) {
      throw new Error(`Cannot fetch config on platform "applehv" from ${source}: ${(e as Error).message}`, { cause: e });
    }
    if (res.status !== 200 && res.status !== 204) throw new Error(`Cannot fetch config on platform "applehv" from ${source}: the host answered HTTP ${res.status}`);
    return found(new Uint8Array(await res.arrayBuffer()), source);
  },
};

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

/** The z/VM reader device. */
export const ZVM_READER = "000c";

/** The first reader file of type "ign" in `vmur li` output: its spool id and file name. */
export function findIgnSpoolFile(listing: string): { spoolId: string; file: string } | null {
  for (const line of listing.split("\n")) {
    // ORIGINID FILE CLASS RECORDS CPY HOLD DATE TIME NAME TYPE DIST
    const f = line.trim().split(/\s+/).filter(Boolean);
    if (f.length <= 1) break;
    if (f.length < 11) continue;
    if (f[10] === "ign") return { spoolId: f[1]!, file: `${f[9]}.${f[10]}` };
  }
  return null;
}

/** IBM z/VM: the first .ign file in the reader queue, received with vmur. */
export const zvmProvider: Provider = {
  name: "zvm",
  async fetch(ctx) {
    await runStep(ctx, "loading the vmur kernel module", "modprobe", ["vmur"]);
    const online = await ctx.log.op(`bringing reader ${ZVM_READER} online`, () => ctx.system.run("chccwdev", ["-e", ZVM_READER]));
    if (online.code !== 0) {
      await runStep(ctx, `exposing reader ${ZVM_READER}`, "cioIgnore", ["-r", ZVM_READER]);
      await runStep(ctx, `bringing reader ${ZVM_READER} online`, "chccwdev", ["-e", ZVM_READER]);
    }
    await runStep(ctx, "settling udev", "udevadm", ["settle"]);
    const list = await runStep(ctx, "listing the reader queue", "vmur", ["li"]);
    const spool = findIgnSpoolFile(list.stdout);
    if (!spool) return none("no .ign file in the z/VM reader queue");
    const dir = hostPath("zvmSpoolDir", ctx.system.env);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, spool.file.replace(/\//g, "_"));
    try {
      await runStep(ctx, `receiving spool file ${spool.spoolId}`, "vmur", ["re", "-f", spool.spoolId, path]);
      return found(trimNul(new Uint8Array(await readFile(path))), `zvm reader spool file ${spool.spoolId} (${spool.file})`);
    } finally {
      await rm(path, { force: true });
    }
  },
};
