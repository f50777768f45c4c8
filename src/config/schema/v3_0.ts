// Ignition config spec 3.0.0: the structural schema every later 3.x version extends.
// Every optional leaf accepts null, which means "unset" as in Ignition. Objects are strict so
// unknown keys surface as issues (reported as warnings by parse.ts, as Ignition does).
import { z } from "zod";

// zod compiles a fast path for each object schema with `new Function` on first use. A config
// is parsed once per process, so compiling costs more than it saves: parse without it.
z.config({ jitless: true });

/** An optional value of type T: absent and null both mean unset. */
export const opt = <T extends z.ZodType>(t: T) => t.nullish();
/** A list that may be absent or null (null means empty). */
export const list = <T extends z.ZodType>(t: T) => z.array(t).nullish();

export const int = z.number().int();
export const str = z.string();
export const bool = z.boolean();

export const verification = z.strictObject({ hash: opt(str) });

export const resource = z.strictObject({
  source: opt(str),
  verification: opt(verification),
});

/** File contents in 3.0 already carry compression (other resources gain it in 3.1). */
export const fileContents = resource.extend({ compression: opt(str) });

export const configReference = resource;

export const ignitionConfig = z.strictObject({
  merge: list(configReference),
  replace: opt(configReference),
});

export const caReference = resource;

export const security = z.strictObject({
  tls: opt(z.strictObject({ certificateAuthorities: list(caReference) })),
});

export const timeouts = z.strictObject({
  httpResponseHeaders: opt(int),
  httpTotal: opt(int),
});

export const ignition = z.strictObject({
  version: opt(str),
  config: opt(ignitionConfig),
  security: opt(security),
  timeouts: opt(timeouts),
});

export const nodeUser = z.strictObject({ id: opt(int), name: opt(str) });
export const nodeGroup = z.strictObject({ id: opt(int), name: opt(str) });

const nodeShape = {
  path: opt(str),
  overwrite: opt(bool),
  user: opt(nodeUser),
  group: opt(nodeGroup),
};

export const file = z.strictObject({
  ...nodeShape,
  mode: opt(int),
  contents: opt(fileContents),
  append: list(fileContents),
});

export const directory = z.strictObject({ ...nodeShape, mode: opt(int) });

export const link = z.strictObject({ ...nodeShape, target: opt(str), hard: opt(bool) });

export const partition = z.strictObject({
  label: opt(str),
  number: opt(int),
  sizeMiB: opt(int),
  startMiB: opt(int),
  typeGuid: opt(str),
  guid: opt(str),
  wipePartitionEntry: opt(bool),
  shouldExist: opt(bool),
});

export const disk = z.strictObject({
  device: opt(str),
  wipeTable: opt(bool),
  partitions: list(partition),
});

export const raid = z.strictObject({
  name: opt(str),
  level: opt(str),
  devices: list(str),
  spares: opt(int),
  options: list(str),
});

export const filesystem = z.strictObject({
  device: opt(str),
  format: opt(str),
  wipeFilesystem: opt(bool),
  label: opt(str),
  uuid: opt(str),
  options: list(str),
  path: opt(str),
});

export const storage = z.strictObject({
  disks: list(disk),
  raid: list(raid),
  filesystems: list(filesystem),
  files: list(file),
  directories: list(directory),
  links: list(link),
});

export const dropin = z.strictObject({ name: opt(str), contents: opt(str) });

export const unit = z.strictObject({
  name: opt(str),
  enabled: opt(bool),
  mask: opt(bool),
  contents: opt(str),
  dropins: list(dropin),
});

export const systemd = z.strictObject({ units: list(unit) });

export const user = z.strictObject({
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
});

export const group = z.strictObject({
  name: opt(str),
  gid: opt(int),
  passwordHash: opt(str),
  system: opt(bool),
});

export const passwd = z.strictObject({ users: list(user), groups: list(group) });

export const config = z.strictObject({
  ignition: opt(ignition),
  storage: opt(storage),
  systemd: opt(systemd),
  passwd: opt(passwd),
});

export type Config = z.infer<typeof config>;
