// Apple Hypervisor (macOS Virtualization): the config is the answer to an HTTP GET over vsock to
// the host (CID 2, port 1024), sent through socat (Bun has no AF_VSOCK sockets). No network.
import { existsSync } from "node:fs";
import { parseHttpResponse } from "../resource/http_socket.ts";
import { hostPath } from "../system/commands.ts";
import { runStep } from "./provider_steps.ts";
import { found, type Provider } from "./types.ts";

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
