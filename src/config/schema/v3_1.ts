// Ignition config spec 3.1.0: adds resource compression and HTTP headers, the proxy, and
// filesystem mount options.
import { z } from "zod";
import * as v30 from "./v3_0.ts";
import { list, opt, str } from "./v3_0.ts";

export const httpHeader = z.strictObject({ name: opt(str), value: opt(str) });

export const resource = v30.resource.extend({
  compression: opt(str),
  httpHeaders: list(httpHeader),
});

export const ignitionConfig = z.strictObject({ merge: list(resource), replace: opt(resource) });
export const security = z.strictObject({
  tls: opt(z.strictObject({ certificateAuthorities: list(resource) })),
});
export const proxy = z.strictObject({
  httpProxy: opt(str),
  httpsProxy: opt(str),
  noProxy: list(str),
});
export const ignition = v30.ignition.extend({
  config: opt(ignitionConfig),
  security: opt(security),
  proxy: opt(proxy),
});

export const file = v30.file.extend({ contents: opt(resource), append: list(resource) });
export const directory = v30.directory;
export const link = v30.link;
export const partition = v30.partition;
export const disk = v30.disk;
export const raid = v30.raid;
export const filesystem = v30.filesystem.extend({ mountOptions: list(str) });

export const storage = v30.storage.extend({
  filesystems: list(filesystem),
  files: list(file),
});

export const systemd = v30.systemd;
export const passwd = v30.passwd;

export const config = v30.config.extend({ ignition: opt(ignition), storage: opt(storage) });
export type Config = z.infer<typeof config>;
