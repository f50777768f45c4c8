// Ignition config spec 3.2.0: adds LUKS volumes (with clevis), partition resize, and
// shouldExist for users and groups.
import { z } from "zod";
import * as v31 from "./v3_1.ts";
import { bool, int, list, opt, str } from "./v3_0.ts";

export const resource = v31.resource;
export const ignition = v31.ignition;

export const partition = v31.partition.extend({ resize: opt(bool) });
export const disk = v31.disk.extend({ partitions: list(partition) });

export const tang = z.strictObject({ url: opt(str), thumbprint: opt(str) });
export const clevisCustom = z.strictObject({
  pin: opt(str),
  config: opt(str),
  needsNetwork: opt(bool),
});
export const clevis = z.strictObject({
  custom: opt(clevisCustom),
  tpm2: opt(bool),
  tang: list(tang),
  threshold: opt(int),
});
export const luks = z.strictObject({
  name: opt(str),
  label: opt(str),
  uuid: opt(str),
  device: opt(str),
  keyFile: opt(resource),
  wipeVolume: opt(bool),
  clevis: opt(clevis),
  options: list(str),
});

export const storage = v31.storage.extend({ disks: list(disk), luks: list(luks) });

export const user = v31.passwd.shape.users.unwrap().unwrap().element.extend({ shouldExist: opt(bool) });
export const group = v31.passwd.shape.groups.unwrap().unwrap().element.extend({ shouldExist: opt(bool) });
export const passwd = z.strictObject({ users: list(user), groups: list(group) });

export const systemd = v31.systemd;

export const config = v31.config.extend({ storage: opt(storage), passwd: opt(passwd) });
export type Config = z.infer<typeof config>;
