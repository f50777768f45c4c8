// Fedora CoreOS sugar: `boot_device` (root on LUKS with Tang/TPM2/CEX, mirrored boot disk) and
// `grub.users`, plus the fcos-only checks (reserved partition labels, reuse by label, mount
// points outside /etc and /var).
import { makeDataUrl } from "./data_url.ts";
import { errorAt, warningAt, type ConfigPath, type PendingEntry } from "./report.ts";
import {
  baseSchema,
  boolType,
  intType,
  listOf,
  strList,
  strType,
  structOf,
  sugarField,
  type BaseVersion,
  type FieldSpec,
  type Obj,
  type StructType,
} from "./schema.ts";
import { translateValue, type TranslateContext, type Translated } from "./translate.ts";
import { mergeTranslated, TranslationSet } from "./translation_set.ts";

/** The fcos spec minor version (1.x): decides which sections and checks apply. */
export type FcosMinor = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The fcos-only top-level sections of spec 1.minor. */
export function fcosSections(minor: FcosMinor, base: BaseVersion): FieldSpec[] {
  const sections: FieldSpec[] = [];
  if (minor >= 3) {
    const luksFields: FieldSpec[] = [];
    if (minor >= 6) luksFields.push(sugarField("cex", structOf(baseSchema(base).types.Cex!)), sugarField("device", strType));
    if (minor >= 5) luksFields.push(sugarField("discard", boolType));
    luksFields.push(
      sugarField("tang", listOf(baseSchema(base).types.Tang!)),
      sugarField("threshold", intType),
      sugarField("tpm2", boolType),
    );
    const bootDevice: StructType = {
      name: "BootDevice",
      fields: [
        sugarField("layout", strType),
        sugarField("luks", structOf({ name: "BootDeviceLuks", fields: luksFields })),
        sugarField("mirror", structOf({ name: "BootDeviceMirror", fields: [sugarField("devices", strList())] })),
      ],
    };
    sections.push(sugarField("boot_device", structOf(bootDevice)));
  }
  if (minor >= 5) {
    const nameField = sugarField("name", strType);
    nameField.value = true;
    const grubUser: StructType = { name: "GrubUser", fields: [nameField, sugarField("password_hash", strType)] };
    sections.push(sugarField("grub", structOf({ name: "Grub", fields: [sugarField("users", listOf(grubUser))] })));
  }
  return sections;
}

const M = {
  unknownLayout: "layout must be one of: aarch64, ppc64le, s390x-eckd, s390x-virt, s390x-zfcp, x86_64",
  tooFewMirrorDevices: "mirroring requires at least two devices",
  noLuksBootDevice: "device is required for layouts: s390x-eckd, s390x-zfcp",
  mirrorNotSupported: "mirroring not supported on layouts: s390x-eckd, s390x-zfcp, s390x-virt",
  luksBootDeviceBadName: "device name must start with /dev/dasd on s390x-eckd layout or /dev/sd on s390x-zfcp layout",
  cexArchitecture: "when using cex the targeted architecture must match s390x",
  cexWithClevis: "cannot use cex with clevis",
  mirrorRequiresLayout: "boot_device.layout should be specified when boot_device.mirror is specified",
  noLuksMethod: "no method specified for luks",
  grubName: 'field "name" is required',
  grubPassword: 'field "password_hash" is required',
  reuseByLabel:
    "partitions cannot be reused by label; number must be specified except on boot disk (/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true",
  mountPointForbidden: "path must be under /etc or /var if with_mount_unit is true",
  wrongPartitionNumber: "incorrect partition number; a new partition will be created using reserved label",
  rootTooSmall: "root should have 8GiB of space assigned",
  rootConstrained: "root partition cannot expand; it is set to fill available space but is followed by an auto-positioned partition",
};

const ROOT_DEVICE = "/dev/disk/by-id/coreos-boot-disk";
const isTrue = (v: unknown) => v === true;
const notEmpty = (v: unknown) => typeof v === "string" && v !== "";

/** fcos checks of the source config. */
export function validateFcos(minor: FcosMinor, cfg: Obj, out: PendingEntry[]): void {
  const bd = cfg.boot_device as Obj | undefined;
  if (minor >= 3 && bd) validateBootDevice(minor, bd, out);
  if (minor >= 5) {
    const users = ((cfg.grub as Obj | undefined)?.users as Obj[] | undefined) ?? [];
    users.forEach((u, i) => {
      if (((u.name as string | undefined) ?? "") === "") out.push(errorAt(["grub", "users", i, "name"], M.grubName));
      if (!notEmpty(u.password_hash)) out.push(errorAt(["grub", "users", i, "password_hash"], M.grubPassword));
    });
  }
  if (minor >= 6) {
    const storage = (cfg.storage as Obj | undefined) ?? {};
    const mirrorDevices = new Set(minor >= 7 ? (((bd?.mirror as Obj | undefined)?.devices as string[] | undefined) ?? []) : []);
    ((storage.disks as Obj[] | undefined) ?? []).forEach((disk, i) => {
      const device = (disk.device as string | undefined) ?? "";
      if (device === ROOT_DEVICE || isTrue(disk.wipe_table) || mirrorDevices.has(device)) return;
      ((disk.partitions as Obj[] | undefined) ?? []).forEach((p, j) => {
        if (((p.number as number | undefined) ?? 0) === 0 && p.label !== undefined) {
          out.push(warningAt(["storage", "disks", i, "partitions", j, "number"], M.reuseByLabel));
        }
      });
    });
    ((storage.filesystems as Obj[] | undefined) ?? []).forEach((fs, i) => {
      if (typeof fs.path === "string" && !/^\/(etc|var)(\/|$)/.test(fs.path) && isTrue(fs.with_mount_unit)) {
        out.push(errorAt(["storage", "filesystems", i, "path"], M.mountPointForbidden));
      }
    });
  }
}

function validateBootDevice(minor: FcosMinor, bd: Obj, out: PendingEntry[]): void {
  const c: ConfigPath = ["boot_device"];
  const layout = bd.layout as string | undefined;
  const luks = (bd.luks as Obj | undefined) ?? {};
  const mirror = (bd.mirror as Obj | undefined) ?? {};
  const devices = (mirror.devices as string[] | undefined) ?? [];
  if (minor >= 7 && devices.length > 0 && layout === undefined) out.push(errorAt([...c, "mirror"], M.mirrorRequiresLayout));
  if (layout !== undefined) {
    if (minor <= 5) {
      if (!["aarch64", "ppc64le", "x86_64"].includes(layout)) out.push(errorAt([...c, "layout"], M.unknownLayout));
    } else {
      const device = luks.device as string | undefined;
      switch (layout) {
        case "aarch64":
        case "ppc64le":
        case "x86_64":
        case "s390x-virt":
          break;
        case "s390x-eckd":
        case "s390x-zfcp":
          if (!notEmpty(device)) out.push(errorAt([...c, "layout"], M.noLuksBootDevice));
          else if (!(layout === "s390x-eckd" ? /\/dev\/dasd[a-z]$/ : /\/dev\/sd[a-z]$/).test(device!)) {
            out.push(errorAt([...c, "layout"], M.luksBootDeviceBadName));
          }
          break;
        default:
          out.push(errorAt([...c, "layout"], M.unknownLayout));
      }
      if (layout.startsWith("s390x") && devices.length > 0) out.push(errorAt([...c, "layout"], M.mirrorNotSupported));
    }
  }
  if (minor >= 6 && isTrue((luks.cex as Obj | undefined)?.enabled)) {
    if (layout === undefined) out.push(errorAt([...c, "luks", "cex"], M.cexArchitecture));
    else if (!layout.startsWith("s390x")) out.push(errorAt([...c, "layout"], M.cexArchitecture));
    if (((luks.tang as unknown[] | undefined) ?? []).length > 0 || isTrue(luks.tpm2)) out.push(errorAt([...c, "luks"], M.cexWithClevis));
  }
  if (minor >= 7 && notEmpty(luks.device)) {
    const hasTang = ((luks.tang as Obj[] | undefined) ?? []).some((t) => Object.keys(t).length > 0);
    if (!hasTang && !isTrue(luks.tpm2) && !isTrue((luks.cex as Obj | undefined)?.enabled)) {
      out.push(errorAt([...c, "luks"], M.noLuksMethod));
    }
  }
  if (devices.length === 1) out.push(errorAt([...c, "mirror", "devices"], M.tooFewMirrorDevices));
}

const GUID = {
  reserved: "8DA63339-0007-60C0-C436-083AC8230908",
  bios: "21686148-6449-6E6F-744E-656564454649",
  prep: "9E1A2D38-C612-4316-AA26-8B49521E5A8B",
  esp: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
};

/**
 * Applies the fcos sugar to a translated config: boot device, then the reserved-label check on
 * the merged disks, then GRUB users. Entries with Ignition paths go to `jsonReport`.
 */
export function translateFcos(
  minor: FcosMinor,
  config: StructType,
  cfg: Obj,
  current: Translated,
  ctx: TranslateContext,
  jsonReport: PendingEntry[],
): Translated {
  let result = current;
  if (minor >= 3 && cfg.boot_device) result = processBootDevice(minor, config, cfg.boot_device as Obj, result, ctx);
  const disks = ((result.config.storage as Obj | undefined)?.disks as Obj[] | undefined) ?? [];
  disks.forEach((disk, i) => {
    const partitions = (disk.partitions as Obj[] | undefined) ?? [];
    partitions.forEach((p, j) => {
      const label = p.label;
      if (typeof label !== "string") return;
      if (minor >= 7 && label === "root") checkRootPartition(partitions, j, ["storage", "disks", i, "partitions", j], jsonReport);
      if (isTrue(disk.wipeTable)) return;
      const n = (p.number as number | undefined) ?? 0;
      const wrong =
        (label === "BIOS-BOOT" && n !== 1) ||
        (label === "PowerPC-PReP-boot" && n !== 1) ||
        (label === "EFI-SYSTEM" && n !== 2) ||
        (label === "boot" && n !== 3) ||
        (label === "root" && n !== 4);
      if (wrong) jsonReport.push(warningAt(["storage", "disks", i, "partitions", j, "label"], M.wrongPartitionNumber));
    });
  });
  const grubUsers = ((cfg.grub as Obj | undefined)?.users as Obj[] | undefined) ?? [];
  if (minor >= 5 && grubUsers.length > 0) result = addGrubUsers(config, ctx.base, grubUsers, result);
  return result;
}

/** fcos 1.7: a root partition should be 8 GiB or larger, and able to grow when it fills the disk. */
function checkRootPartition(partitions: Obj[], j: number, at: ConfigPath, out: PendingEntry[]): void {
  const size = (partitions[j]!.sizeMiB as number | undefined) ?? 0;
  if (size === 0) {
    const autoPlaced = partitions.some((q, k) => k !== j && ((q.startMiB as number | undefined) ?? 0) === 0);
    if (autoPlaced) out.push(warningAt([...at, "label"], M.rootConstrained));
  } else if (size < 8192) {
    out.push(warningAt([...at, "size_mib"], M.rootTooSmall));
  }
}

function processBootDevice(minor: FcosMinor, config: StructType, bd: Obj, current: Translated, ctx: TranslateContext): Translated {
  const luksIn = (bd.luks as Obj | undefined) ?? {};
  const devices = (((bd.mirror as Obj | undefined)?.devices as string[] | undefined) ?? []).slice();
  const cex = minor >= 6 && isTrue((luksIn.cex as Obj | undefined)?.enabled);
  const wantLuks = isTrue(luksIn.tpm2) || ((luksIn.tang as unknown[] | undefined) ?? []).length > 0 || cex;
  const wantMirror = devices.length > 0;
  if (!wantLuks && !wantMirror) return current;

  const layout = bd.layout as string | undefined;
  const wantBios = layout === undefined || layout === "x86_64";
  const wantEfi = wantBios || layout === "aarch64";
  const wantPrep = layout === "ppc64le";
  const storage: Obj = {};
  const disks: Obj[] = [];
  const filesystems: Obj[] = [];
  const ts = new TranslationSet();
  const types = typesOf(config);
  if (wantMirror) {
    devices.forEach((device, i) => {
      const n = disks.length + 1;
      const partitions: Obj[] = [];
      if (wantBios) partitions.push({ label: `bios-${n}`, sizeMiB: 1, typeGuid: GUID.bios });
      else if (wantPrep) partitions.push({ label: `prep-${n}`, sizeMiB: 4, typeGuid: GUID.prep });
      else partitions.push({ label: `reserved-${n}`, sizeMiB: 1, typeGuid: GUID.reserved });
      if (wantEfi) partitions.push({ label: `esp-${n}`, sizeMiB: 127, typeGuid: GUID.esp });
      else partitions.push({ label: `reserved-${n}`, sizeMiB: 1, typeGuid: GUID.reserved });
      partitions.push({ label: `boot-${n}`, sizeMiB: 384 }, { label: `root-${n}` });
      const disk: Obj = { device, partitions, wipeTable: true };
      ts.addFromCommonSource(["boot_device", "mirror", "devices", i], ["storage", "disks", disks.length], disk, types.disk);
      disks.push(disk);
      if (wantEfi) {
        const esp: Obj = { device: `/dev/disk/by-partlabel/esp-${n}`, format: "vfat", label: `esp-${n}`, wipeFilesystem: true };
        ts.addFromCommonSource(["boot_device", "mirror", "devices", i], ["storage", "filesystems", filesystems.length], esp, types.filesystem);
        filesystems.push(esp);
      }
    });
    ts.add(["boot_device", "mirror", "devices"], ["storage", "disks"]);
    const raidDevices = (prefix: string) => disks.map((_, i) => `/dev/disk/by-partlabel/${prefix}-${i + 1}`);
    // The boot RAID keeps its superblock at the end so BIOS GRUB can read the members as plain partitions.
    const raid: Obj[] = [
      { devices: raidDevices("boot"), level: "raid1", name: "md-boot", options: ["--metadata=1.0"] },
      { devices: raidDevices("root"), level: "raid1", name: "md-root" },
    ];
    storage.raid = raid;
    ts.addFromCommonSource(["boot_device", "mirror"], ["storage", "raid"], raid, types.raidList);
    const bootFs: Obj = { device: "/dev/md/md-boot", format: "ext4", label: "boot", wipeFilesystem: true };
    ts.addFromCommonSource(["boot_device", "mirror"], ["storage", "filesystems", filesystems.length], bootFs, types.filesystem);
    filesystems.push(bootFs);
  }
  if (wantLuks) {
    let device: string;
    if (minor >= 6 && layout === "s390x-eckd") device = `${luksIn.device as string}2`;
    else if (minor >= 6 && layout === "s390x-zfcp") device = `${luksIn.device as string}4`;
    else device = wantMirror ? "/dev/md/md-root" : "/dev/disk/by-partlabel/root";
    const lpath: ConfigPath = ["boot_device", "luks"];
    const rpath: ConfigPath = ["storage", "luks", 0];
    const luks: Obj = { device, label: "luks-root", name: "root", wipeVolume: true };
    if (luksIn.discard !== undefined) luks.discard = luksIn.discard;
    const sub = { ...ctx, ts };
    if (cex) {
      luks.cex = { enabled: true };
      ts.add([...lpath, "cex", "enabled"], [...rpath, "cex", "enabled"]);
      ts.add(lpath, [...rpath, "cex"]);
    } else {
      const clevis: Obj = {};
      for (const [name, type] of [
        ["tang", types.tangList],
        ["threshold", intType],
        ["tpm2", boolType],
      ] as const) {
        if (luksIn[name] !== undefined) clevis[name] = translateValue(type, luksIn[name], [...lpath, name], [...rpath, "clevis", name], sub);
      }
      luks.clevis = clevis;
      ts.add(lpath, [...rpath, "clevis"]);
    }
    ts.add([...lpath, "discard"], [...rpath, "discard"]);
    for (const f of ["device", "label", "name", "wipeVolume"]) ts.add(lpath, [...rpath, f]);
    ts.add(lpath, rpath);
    ts.add(lpath, ["storage", "luks"]);
    storage.luks = [luks];
  }
  const rootFs: Obj = {
    device: wantLuks ? "/dev/mapper/root" : "/dev/md/md-root",
    format: "xfs",
    label: "root",
    wipeFilesystem: true,
  };
  ts.addFromCommonSource(["boot_device"], ["storage", "filesystems", filesystems.length], rootFs, types.filesystem);
  ts.add(["boot_device"], ["storage", "filesystems"]);
  filesystems.push(rootFs);
  if (disks.length > 0) storage.disks = disks;
  storage.filesystems = filesystems;
  ts.add(["boot_device"], ["storage"]);
  return mergeTranslated(ctx.base, { storage }, ts, current.config, current.ts);
}

function addGrubUsers(config: StructType, base: BaseVersion, users: Obj[], current: Translated): Translated {
  const names = users.map((u) => (u.name as string | undefined) ?? "");
  const text =
    "# Generated by Butane\n\n" +
    `set superusers="${names.join(" ")}"\n` +
    users.map((u, i) => `password_pbkdf2 ${names[i]} ${u.password_hash as string}`).join("\n") +
    "\n";
  const { url, compression } = makeDataUrl(new TextEncoder().encode(text), undefined, true);
  const resource: Obj = { source: url };
  if (compression !== undefined) resource.compression = compression;
  const storage: Obj = {
    files: [{ path: "/boot/grub2/user.cfg", append: [resource] }],
    filesystems: [{ device: "/dev/disk/by-label/boot", format: "ext4", path: "/boot" }],
  };
  const ts = new TranslationSet();
  ts.addFromCommonSource(["grub", "users"], ["storage"], storage, typesOf(config).storage);
  return mergeTranslated(base, { storage }, ts, current.config, current.ts);
}

function typesOf(config: StructType) {
  const storageField = config.fields.find((f) => f.json === "storage")!;
  const storageType = storageField.type;
  if (storageType.kind !== "struct") throw new Error("schema: storage is not a struct");
  const listItem = (name: string) => {
    const t = storageType.struct.fields.find((f) => f.json === name)!.type;
    if (t.kind !== "list") throw new Error(`schema: storage.${name} is not a list`);
    return t;
  };
  const luksItem = listItem("luks").item;
  if (luksItem.kind !== "struct") throw new Error("schema: luks is not a struct");
  const clevis = luksItem.struct.fields.find((f) => f.json === "clevis")!.type;
  if (clevis.kind !== "struct") throw new Error("schema: clevis is not a struct");
  return {
    storage: storageType,
    disk: listItem("disks").item,
    filesystem: listItem("filesystems").item,
    raidList: listItem("raid"),
    tangList: clevis.struct.fields.find((f) => f.json === "tang")!.type,
  };
}
