// Ignition config spec 3.2.0: adds LUKS volumes (with clevis), partition resize, and
// shouldExist for users and groups.
import type { z } from "zod";
import * as v31 from "./v3_1.ts";
import { appendList, bool, extend, int, list, opt, str, struct } from "./declare.ts";

export const resource = v31.resource;
export const ignition = v31.ignition;

export const partition = extend(v31.partition, { resize: opt(bool) });
export const disk = extend(v31.disk, { partitions: list(partition) });

export const tang = struct("Tang", { url: opt(str), thumbprint: opt(str) }, { key: ["url"] });
export const clevisCustom = struct("ClevisCustom", {
  pin: opt(str),
  config: opt(str),
  needsNetwork: opt(bool),
});
export const clevis = struct("Clevis", {
  custom: opt(clevisCustom),
  tpm2: opt(bool),
  tang: list(tang),
  threshold: opt(int),
});
export const luks = struct(
  "Luks",
  {
    name: opt(str),
    label: opt(str),
    uuid: opt(str),
    device: opt(str),
    keyFile: opt(resource),
    wipeVolume: opt(bool),
    clevis: opt(clevis),
    options: appendList(str),
  },
  { key: ["name"] },
);

export const storage = extend(v31.storage, { disks: list(disk), luks: list(luks) });

export const user = extend(v31.passwd.shape.users.unwrap().unwrap().element, { shouldExist: opt(bool) });
export const group = extend(v31.passwd.shape.groups.unwrap().unwrap().element, { shouldExist: opt(bool) });
export const passwd = extend(v31.passwd, { users: list(user), groups: list(group) });

export const systemd = v31.systemd;

export const config = extend(v31.config, { storage: opt(storage), passwd: opt(passwd) });
export type Config = z.infer<typeof config>;
