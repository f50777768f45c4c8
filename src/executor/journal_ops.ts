// The names of journaled operations, and the list a config plans: the journal's "plan" is
// this list (its sha256 is in the begin record), so a journal written by a nexus-init that
// plans a config differently is not resumed by this one. The list depends on the config
// alone, never on what the target holds. Pure.
import type { Config } from "../config/types.ts";
import { isBlockDeviceFilesystem } from "../config/types.ts";
import { hasClevis } from "../disks/luks.ts";
import { planMounts } from "../disks/mounts.ts";
import { cleanPath } from "../system/paths.ts";
import { planUnits, type UnitAction } from "../units/plan.ts";
import { shouldExist } from "../users/plan.ts";
import { canonicalJson, sha256Text } from "./journal_format.ts";
import type { RunIdentity } from "./journal.ts";

/** Operation keys, one builder per kind of operation. */
export const opKey = {
  kargs: () => "kargs",
  /** The partition table of a configured disk (device as the config names it). */
  disk: (device: string) => `disk:${device}`,
  raid: (name: string) => `raid:${name}`,
  luks: (name: string) => `luks:${name}`,
  /** A filesystem made on a device (as the config names it). */
  filesystem: (device: string) => `fs:${device}`,
  /** The directories made for a mount point (a clean path in the root). */
  mountPoint: (path: string) => `mountpoint:${path}`,
  /**
   * The accounts transaction: every group and user of the config applied, the account
   * databases written (their sums are its result) — whether by shadow's tools or natively.
   */
  accounts: () => "accounts",
  sshKeys: (name: string) => `ssh-keys:${name}`,
  /** A file, directory or link (its clean config path). */
  node: (path: string) => `node:${path}`,
  unit: (a: Pick<UnitAction, "kind" | "path">) => `unit:${a.kind}:${a.path}`,
  presets: () => "unit-presets",
  disable: (unit: string) => `unit-disable:${unit}`,
  luksKeyFile: (name: string) => `luks-key-file:${name}`,
  crypttab: () => "crypttab",
} as const;

/** Every operation the stages may journal for a config, in stage order. */
export function plannedOperations(config: Config): string[] {
  const out: string[] = [];
  const k = config.kernelArguments;
  if (k?.shouldExist?.length || k?.shouldNotExist?.length) out.push(opKey.kargs());
  const s = config.storage;
  for (const d of s?.disks ?? []) out.push(opKey.disk(d.device ?? ""));
  for (const r of s?.raid ?? []) out.push(opKey.raid(r.name ?? ""));
  for (const l of s?.luks ?? []) out.push(opKey.luks(l.name ?? ""));
  for (const f of s?.filesystems ?? []) if (f.format && isBlockDeviceFilesystem(f)) out.push(opKey.filesystem(f.device ?? ""));
  for (const m of planMounts(s?.filesystems ?? [])) out.push(opKey.mountPoint(m.path));
  const users = config.passwd?.users ?? [];
  if ((config.passwd?.groups ?? []).length > 0 || users.length > 0) out.push(opKey.accounts());
  for (const u of users) if (shouldExist(u) && (u.sshAuthorizedKeys ?? []).length > 0) out.push(opKey.sshKeys(u.name ?? ""));
  for (const n of [...(s?.directories ?? []), ...(s?.files ?? []), ...(s?.links ?? [])]) out.push(opKey.node(cleanPath(n.path ?? "/")));
  const units = planUnits(config.systemd?.units ?? []);
  for (const a of units.actions) out.push(opKey.unit(a));
  if (units.presets.length > 0) out.push(opKey.presets());
  for (const name of units.disable) out.push(opKey.disable(name));
  for (const l of s?.luks ?? []) if (!hasClevis(l.clevis)) out.push(opKey.luksKeyFile(l.name ?? ""));
  if ((s?.luks ?? []).length > 0) out.push(opKey.crypttab());
  return out;
}

/** What identifies a run of this config by this nexus-init. */
export function runIdentity(config: Config, version: string): RunIdentity {
  const operations = plannedOperations(config);
  return { version, config: sha256Text(canonicalJson(config)), plan: sha256Text(operations.join("\n")), operations };
}
