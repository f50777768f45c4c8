// LUKS2 volumes with cryptsetup and clevis, as Ignition creates them: the argument lists,
// the clevis SSS pin configuration, the reuse rules, and the crypttab lines written into the
// target. Pure: key material is passed as file paths, never as arguments.
import type { Clevis, Luks } from "../config/types.ts";
import type { Command } from "./filesystems.ts";

/** What the files stage needs to persist a volume the disks stage made into the target. */
export interface LuksRecord {
  name: string;
  /** The volume's /etc/crypttab line. */
  crypttab: string;
  /** The key, base64, when it is to be stored in /etc/luks/<name>. */
  key?: string;
}

/** Where key files live in the target root (as Ignition's default build). */
export const LUKS_KEY_DIR = "/etc/luks";

/** The device node of an opened volume. */
export function formatMapperPath(name: string): string {
  return `/dev/mapper/${name}`;
}

/** True when the config asks for a clevis binding. */
export function hasClevis(c: Clevis | null | undefined): c is Clevis {
  if (!c) return false;
  return (c.tang?.length ?? 0) > 0 || c.tpm2 === true || (c.custom?.pin ?? "") !== "";
}

/** `cryptsetup luksFormat` for a new volume. */
export function buildLuksFormat(luks: Luks, device: string, keyFile: string): Command {
  const args = ["luksFormat", "--type", "luks2", "--key-file", keyFile];
  if (luks.label) args.push("--label", luks.label);
  if (luks.uuid) args.push("--uuid", luks.uuid);
  args.push(...(luks.options ?? []), device);
  return { cmd: "cryptsetup", args };
}

/** `cryptsetup luksOpen`, persisting discard and open options in the LUKS2 header. */
export function buildLuksOpen(luks: Luks, device: string, keyFile: string): Command {
  const args = ["luksOpen", device, luks.name ?? "", "--key-file", keyFile, "--persistent"];
  if (luks.discard === true) args.push("--allow-discards");
  args.push(...(luks.openOptions ?? []));
  return { cmd: "cryptsetup", args };
}

/** The clevis pin and its JSON configuration (an SSS pin unless a custom pin is given). */
export function buildClevisBinding(c: Clevis): { pin: string; config: string } | Error {
  if ((c.custom?.pin ?? "") !== "") return { pin: c.custom!.pin!, config: c.custom!.config ?? "" };
  const tang: { url: string; thp?: string; adv?: unknown }[] = [];
  for (const t of c.tang ?? []) {
    const entry: { url: string; thp?: string; adv?: unknown } = { url: t.url ?? "" };
    if (t.thumbprint) entry.thp = t.thumbprint;
    if (t.advertisement) {
      try {
        entry.adv = JSON.parse(t.advertisement);
      } catch (e) {
        return new Error(`Cannot use the tang advertisement for "${t.url}": ${(e as Error).message}`);
      }
    }
    tang.push(entry);
  }
  const pins: Record<string, unknown> = c.tpm2 === true ? { ...(tang.length ? { tang } : {}), tpm2: {} } : { tang };
  return { pin: "sss", config: JSON.stringify({ pins, t: c.threshold ?? 1 }) };
}

/** True when clevis can unlock the volume without network-only pins failing the threshold. */
export function canReopenWithClevis(c: Clevis): boolean {
  const tangWithoutAdv = (c.tang ?? []).filter((t) => !t.advertisement).length;
  return tangWithoutAdv + (c.tpm2 === true ? 1 : 0) >= (c.threshold ?? 1);
}

/** True when unlocking at boot needs the network (tang, or a custom pin that says so). */
export function hasNetworkPin(c: Clevis | null | undefined): boolean {
  return !!c && ((c.tang?.length ?? 0) > 0 || ((c.custom?.pin ?? "") !== "" && c.custom?.needsNetwork === true));
}

/** A tang server's advertisement URL: its path joined with "adv", as upstream fetches it. */
export function formatTangAdvertisementUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/adv`;
  return u.toString();
}

/** One pin of a binding, as the messages name it: "tpm2", "tang http://…", or the custom pin. */
export type ClevisPinCheck =
  | { pin: "tpm2" }
  | { pin: "tang"; url: string; config: string; fetchAdvertisement: boolean }
  | { pin: "custom"; name: string };

/** Names a pin in messages: `tpm2`, `tang "http://…"`, `custom pin "…"`. */
export function describePin(p: ClevisPinCheck): string {
  if (p.pin === "tpm2") return "tpm2 pin";
  if (p.pin === "tang") return `tang pin "${p.url}"`;
  return `custom pin "${p.name}"`;
}

/**
 * What is checked before anything is written to the device, one entry per pin: each tang
 * server's advertisement is fetched when the config has none (the network may only just have
 * come up, so the fetcher's retries apply) and an encryption to that server alone proves its
 * thumbprint (clevis refuses a thumbprint no signing key of the advertisement has); a tpm2 pin
 * needs the kernel's TPM device; a custom pin is left to clevis, as upstream does.
 */
export function planClevisChecks(c: Clevis): ClevisPinCheck[] {
  if ((c.custom?.pin ?? "") !== "") return [{ pin: "custom", name: c.custom!.pin! }];
  const out: ClevisPinCheck[] = [];
  for (const t of c.tang ?? []) {
    const config: { url: string; thp?: string; adv?: unknown } = { url: t.url ?? "" };
    if (t.thumbprint) config.thp = t.thumbprint;
    if (t.advertisement) config.adv = JSON.parse(t.advertisement);
    out.push({ pin: "tang", url: t.url ?? "", config: JSON.stringify(config), fetchAdvertisement: !t.advertisement });
  }
  if (c.tpm2 === true) out.push({ pin: "tpm2" });
  return out;
}

/** The binding in one line for logs: `sss (threshold 2): tang "http://…", tpm2`. */
export function describeClevisBinding(c: Clevis): string {
  if ((c.custom?.pin ?? "") !== "") return `custom pin "${c.custom!.pin}"`;
  const pins = [...(c.tang ?? []).map((t) => `tang "${t.url}"`), ...(c.tpm2 === true ? ["tpm2"] : [])];
  return `sss (threshold ${c.threshold ?? 1}): ${pins.join(", ")}`;
}

/** Why a cex volume cannot be made here: IBM Crypto Express keys exist only on s390x (zkey). */
export function findCexRefusal(luks: Luks, arch: string): string | undefined {
  if (luks.cex?.enabled !== true) return undefined;
  if (arch !== "s390x") {
    return `Cannot create LUKS volume "${luks.name}" with cex: IBM Crypto Express secure keys (zkey) exist only on s390x, and this machine is ${arch}`;
  }
  return `Cannot create LUKS volume "${luks.name}" with cex: nexus-init does not drive zkey yet`;
}

/**
 * One /etc/crypttab line for a volume, as upstream writes it: the key file (none when clevis
 * unlocks it), `x-initrd.attach` always (so soft-reboot keeps the volume), `_netdev` first when
 * a pin needs the network. Discard and open options are not written here: they are persisted
 * in the LUKS2 header when the volume is opened (`--persistent`), as upstream does, because
 * `clevis luks unlock` has no option for them.
 */
export function formatCrypttabLine(luks: Luks, uuid: string): string {
  const keyfile = hasClevis(luks.clevis) ? "none" : `${LUKS_KEY_DIR}/${luks.name}`;
  return `${luks.name} UUID=${uuid} ${keyfile} luks${hasNetworkPin(luks.clevis) ? ",_netdev" : ""},x-initrd.attach\n`;
}

/** Why an existing LUKS2 volume cannot be reused for this config, or undefined if it can. */
export function findLuksReuseProblem(
  luks: Luks,
  found: { label: string; uuid: string; allowDiscards: boolean },
): string | undefined {
  if (hasClevis(luks.clevis)) return "config must not specify a clevis binding";
  if (!luks.keyFile?.source) return "config must specify a keyFile";
  if (luks.label != null && found.label !== luks.label) return `volume label "${found.label}" doesn't match expected label "${luks.label}"`;
  if (luks.uuid != null && found.uuid !== luks.uuid) return `volume UUID "${found.uuid}" doesn't match expected UUID "${luks.uuid}"`;
  if (found.allowDiscards !== (luks.discard === true)) {
    return `volume allow-discards flag ${found.allowDiscards} doesn't match expected value ${luks.discard === true}`;
  }
  return undefined;
}
