// Ignition config spec 3.0.0: the structural schema every later 3.x version extends.
// Every optional leaf accepts null, which means "unset" as in Ignition. Objects are strict so
// unknown keys surface as issues (reported as warnings by parse.ts, as Ignition does). Struct
// names, entry keys and list merging are declared with the constructors of declare.ts.
import type { z } from "zod";
import { appendList, bool, groupList, int, list, opt, str, struct } from "./declare.ts";

export const verification = struct("Verification", { hash: opt(str) });

const referenceShape = { source: opt(str), verification: opt(verification) };

/** File contents in 3.0 already carry compression (other resources gain it in 3.1). */
export const fileContents = struct("FileContents", { ...referenceShape, compression: opt(str) });
export const configReference = struct("ConfigReference", referenceShape, { key: ["source"] });
export const caReference = struct("CaReference", referenceShape, { key: ["source"] });

export const ignitionConfig = struct("IgnitionConfig", {
  merge: list(configReference),
  replace: opt(configReference),
});

export const tls = struct("TLS", { certificateAuthorities: list(caReference) });
export const security = struct("Security", { tls: opt(tls) });

export const timeouts = struct("Timeouts", {
  httpResponseHeaders: opt(int),
  httpTotal: opt(int),
});

export const ignition = struct("Ignition", {
  version: opt(str),
  config: opt(ignitionConfig),
  security: opt(security),
  timeouts: opt(timeouts),
});

export const nodeUser = struct("NodeUser", { id: opt(int), name: opt(str) });
export const nodeGroup = struct("NodeGroup", { id: opt(int), name: opt(str) });

const nodeShape = {
  path: opt(str),
  overwrite: opt(bool),
  user: opt(nodeUser),
  group: opt(nodeGroup),
};
const byPath = { key: ["path"] };

export const file = struct("File", { ...nodeShape, mode: opt(int), contents: opt(fileContents), append: appendList(fileContents) }, byPath);
export const directory = struct("Directory", { ...nodeShape, mode: opt(int) }, byPath);
export const link = struct("Link", { ...nodeShape, target: opt(str), hard: opt(bool) }, byPath);

export const partition = struct(
  "Partition",
  {
    label: opt(str),
    number: opt(int),
    sizeMiB: opt(int),
    startMiB: opt(int),
    typeGuid: opt(str),
    guid: opt(str),
    wipePartitionEntry: opt(bool),
    shouldExist: opt(bool),
  },
  { key: ["number", "label"] },
);

export const disk = struct("Disk", { device: opt(str), wipeTable: opt(bool), partitions: list(partition) }, { key: ["device"] });

export const raid = struct(
  "Raid",
  { name: opt(str), level: opt(str), devices: list(str), spares: opt(int), options: appendList(str) },
  { key: ["name"] },
);

export const filesystem = struct(
  "Filesystem",
  {
    device: opt(str),
    format: opt(str),
    wipeFilesystem: opt(bool),
    label: opt(str),
    uuid: opt(str),
    options: appendList(str),
    path: opt(str),
  },
  { key: ["device"] },
);

export const storage = struct("Storage", {
  disks: list(disk),
  raid: list(raid),
  filesystems: list(filesystem),
  files: groupList(file, "node"),
  directories: groupList(directory, "node"),
  links: groupList(link, "node"),
});

export const dropin = struct("Dropin", { name: opt(str), contents: opt(str) }, { key: ["name"] });

export const unit = struct(
  "Unit",
  { name: opt(str), enabled: opt(bool), mask: opt(bool), contents: opt(str), dropins: list(dropin) },
  { key: ["name"] },
);

export const systemd = struct("Systemd", { units: list(unit) });

export const user = struct(
  "PasswdUser",
  {
    name: opt(str),
    passwordHash: opt(str),
    sshAuthorizedKeys: list(str),
    uid: opt(int),
    gecos: opt(str),
    homeDir: opt(str),
    noCreateHome: opt(bool),
    primaryGroup: opt(str),
    groups: list(str),
    noUserGroup: opt(bool),
    noLogInit: opt(bool),
    shell: opt(str),
    system: opt(bool),
  },
  { key: ["name"] },
);

export const group = struct("PasswdGroup", { name: opt(str), gid: opt(int), passwordHash: opt(str), system: opt(bool) }, { key: ["name"] });

export const passwd = struct("Passwd", { users: list(user), groups: list(group) });

export const config = struct("Config", {
  ignition: opt(ignition),
  storage: opt(storage),
  systemd: opt(systemd),
  passwd: opt(passwd),
});

export type Config = z.infer<typeof config>;
