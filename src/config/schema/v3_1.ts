// Ignition config spec 3.1.0: adds resource compression and HTTP headers, the proxy, and
// filesystem mount options.
import type { z } from "zod";
import * as v30 from "./v3_0.ts";
import { appendList, extend, groupList, list, opt, str, struct } from "./declare.ts";

export const httpHeader = struct("HTTPHeader", { name: opt(str), value: opt(str) }, { key: ["name"], removeWhenUnset: "value" });

export const resource = struct(
  "Resource",
  {
    source: opt(str),
    verification: opt(v30.verification),
    compression: opt(str),
    httpHeaders: list(httpHeader),
  },
  { key: ["source"] },
);

export const ignitionConfig = extend(v30.ignitionConfig, { merge: list(resource), replace: opt(resource) });
export const tls = extend(v30.tls, { certificateAuthorities: list(resource) });
export const security = extend(v30.security, { tls: opt(tls) });
export const proxy = struct("Proxy", {
  httpProxy: opt(str),
  httpsProxy: opt(str),
  noProxy: list(str),
});
export const ignition = extend(v30.ignition, {
  config: opt(ignitionConfig),
  security: opt(security),
  proxy: opt(proxy),
});

export const file = extend(v30.file, { contents: opt(resource), append: appendList(resource) });
export const directory = v30.directory;
export const link = v30.link;
export const partition = v30.partition;
export const disk = v30.disk;
export const raid = v30.raid;
export const filesystem = extend(v30.filesystem, { mountOptions: appendList(str) });

export const storage = extend(v30.storage, {
  filesystems: list(filesystem),
  files: groupList(file, "node"),
});

export const systemd = v30.systemd;
export const passwd = v30.passwd;

export const config = extend(v30.config, { ignition: opt(ignition), storage: opt(storage) });
export type Config = z.infer<typeof config>;
