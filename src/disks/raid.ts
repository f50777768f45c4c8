// Software RAID with mdadm, as Ignition creates arrays: forced, started immediately, with a
// host-independent name, spares counted out of the member list. Pure argv building.
import type { Raid } from "../config/types.ts";
import type { Command } from "./filesystems.ts";

/** The device node an array appears as. */
export function formatRaidPath(name: string): string {
  return name.startsWith("/dev/") ? name : `/dev/md/${name}`;
}

/** The mdadm command creating one array from already-resolved member devices. */
export function buildMdadmCreate(raid: Raid, members: readonly string[]): Command | Error {
  const name = raid.name ?? "";
  if (name === "") return new Error("Cannot create a RAID array without a name");
  if (!raid.level) return new Error(`Cannot create RAID array "${name}": no level given`);
  const spares = raid.spares ?? 0;
  if (spares < 0 || spares >= members.length) {
    return new Error(`Cannot create RAID array "${name}": ${spares} spares out of ${members.length} devices`);
  }
  const args = [
    "--create",
    formatRaidPath(name),
    "--force",
    "--run",
    "--homehost",
    "any",
    "--level",
    raid.level,
    "--raid-devices",
    String(members.length - spares),
  ];
  if (spares > 0) args.push("--spare-devices", String(spares));
  args.push(...(raid.options ?? []), ...members);
  return { cmd: "mdadm", args };
}
