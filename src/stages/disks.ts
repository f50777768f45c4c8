// The disks stage: partitions, RAID arrays, LUKS volumes and filesystems, in that order, with
// Ignition's semantics. Partition tables are planned by disks/partitions.ts (a model of the
// sgdisk calls Ignition makes) and written natively in one pass per disk, with no sgdisk
// commit and therefore none of its one-second sleeps; the kernel is then told about exactly
// the partitions that changed (partx), and we wait for exactly those device nodes.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { isBlockDeviceFilesystem, type Clevis, type Config, type Disk, type Filesystem, type Luks } from "../config/types.ts";
import {
  flushDevice,
  inspectBlockDevice,
  readDeviceUsage,
  readDiskTable,
  readKernelPartitions,
  writeDisk,
  type BlockDevice,
} from "../disks/block_device.ts";
import { blkidLookup, isUdevRunning, readDeviceTimeoutMs, resolveDevice, waitForDevices } from "../disks/devices.ts";
import {
  describeFsDecision,
  parseBlkidExport,
  parseWipefsFirst,
  planFilesystem,
  type Command,
  type FsDecision,
  type FsProbe,
} from "../disks/filesystems.ts";
import { encodeDiskTable, encodeWipe, generateGuid, type GptTable } from "../disks/gpt.ts";
import {
  buildClevisBinding,
  buildLuksFormat,
  buildLuksOpen,
  canReopenWithClevis,
  describeClevisBinding,
  describePin,
  findCexRefusal,
  findLuksReuseProblem,
  formatCrypttabLine,
  formatMapperPath,
  formatTangAdvertisementUrl,
  hasClevis,
  planClevisChecks,
  type ClevisPinCheck,
  type LuksRecord,
} from "../disks/luks.ts";
import { describeTable, formatPartitionPath, planPartitions, type PartitionPlan } from "../disks/partitions.ts";
import { buildMdadmCreate, formatRaidPath } from "../disks/raid.ts";
import { step, type PlanEntry, type Stage, type StageContext } from "../executor/stage.ts";
import { journalOf, type StageJournal } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";
import { describeFilesystemChange, describeTableChange, readTableFingerprint, refuseChangedDisks, type TableFingerprint } from "./disks_journal.ts";
import { hostPath } from "../system/commands.ts";
import { pollUntil } from "../system/poll.ts";
import { check, type CommandResult } from "../system/system.ts";

/** The filesystems the disks stage creates: those on block devices (not virtiofs shares). */
function blockFilesystems(config: Config): Filesystem[] {
  return (config.storage?.filesystems ?? []).filter(isBlockDeviceFilesystem);
}

/** True when the config asks the disks stage for anything. */
export function hasDiskWork(config: Config): boolean {
  const s = config.storage;
  return (s?.disks?.length ?? 0) + (s?.raid?.length ?? 0) + blockFilesystems(config).length + (s?.luks?.length ?? 0) > 0;
}

/** Runs a command as a logged operation; fails with the command's output. */
async function runLogged(ctx: StageContext, what: string, c: Command): Promise<CommandResult> {
  return ctx.log.op(what, async () => check(await ctx.system.run(c.cmd, c.args)));
}

async function waitFor(ctx: StageContext, what: string, paths: string[]): Promise<Map<string, string>> {
  if (paths.length === 0) return new Map();
  return ctx.log.op(`waiting for ${what} devices ${paths.map((p) => `"${p}"`).join(", ")}`, () =>
    waitForDevices(paths, blkidLookup(ctx.system), readDeviceTimeoutMs(ctx.system.env)),
  );
}

// ---------------------------------------------------------------------------------------------
// Partitions

/** Reads a disk and plans it (shared by plan and run). */
function planDisk(dev: BlockDevice, disk: Disk) {
  const usage = dev.isBlock ? readDeviceUsage(dev) : { diskActive: false, activePartitions: [] };
  return planPartitions(
    { device: dev.path, sectorSize: dev.sectorSize, totalSectors: dev.totalSectors, table: readDiskTable(dev), ...usage },
    disk,
    generateGuid,
  );
}

/**
 * The partx calls that bring the kernel's view of a disk in line with `after`: a partition the
 * table no longer has is deleted; one that moved is deleted and added again (partx can only
 * resize a partition in place); one whose size alone changed is updated; a missing one is
 * added. Partitions in use (`keep`) are left alone.
 */
export function planKernelSync(
  kernel: ReadonlyMap<number, { start: number; size: number }>,
  after: GptTable | null,
  keep: readonly number[],
): { delete: number[]; update: number[]; add: number[] } {
  const want = new Map((after?.partitions ?? []).map((p) => [p.number, p]));
  const out = { delete: [] as number[], update: [] as number[], add: [] as number[] };
  for (const [n, k] of kernel) {
    if (keep.includes(n)) continue;
    const w = want.get(n);
    if (!w) {
      out.delete.push(n);
    } else if (w.start !== k.start) {
      out.delete.push(n);
      out.add.push(n);
    } else if (w.size !== k.size) {
      out.update.push(n);
    }
  }
  for (const n of want.keys()) if (!kernel.has(n) && !keep.includes(n)) out.add.push(n);
  for (const l of Object.values(out)) l.sort((a, b) => a - b);
  return out;
}

/** Triggers a uevent on a device and waits until udev has processed it. */
async function waitForUdev(ctx: StageContext, device: string): Promise<void> {
  await runLogged(ctx, `waiting for udev to process "${device}"`, { cmd: "udevadm", args: ["trigger", "--settle", device] });
}

/** What still differs between the kernel's view of a disk and the table it should show. */
function kernelMismatch(dev: BlockDevice, after: GptTable | null, keep: readonly number[]): string[] {
  const kernel = readKernelPartitions(dev);
  const problems: string[] = [];
  for (const [n, k] of kernel) {
    if (!keep.includes(n) && !after?.partitions.some((p) => p.number === n)) problems.push(`partition ${n} still exists in the kernel`);
  }
  for (const w of after?.partitions ?? []) {
    if (keep.includes(w.number)) continue;
    const k = kernel.get(w.number);
    const node = formatPartitionPath(dev.path, w.number);
    if (!k) problems.push(`partition ${w.number} is not known to the kernel`);
    else if (k.start !== w.start || k.size !== w.size) problems.push(`partition ${w.number} is at ${k.start}+${k.size} in the kernel, expected ${w.start}+${w.size}`);
    else if (!existsSync(join("/dev", k.name)) && !existsSync(node)) problems.push(`"${node}" does not exist`);
  }
  return problems;
}

/**
 * Brings the kernel's view of a disk in line with its new table and waits until it shows it.
 * udev may reread the table on its own at any moment (it watches the disk being written), so
 * the kernel may already have seen some changes, or see them while partx runs: each look
 * compares the kernel's partitions with the table again and tells partx only what still
 * differs, until nothing does (Ignition PR 2234 lets partx fail and checks afterwards).
 */
async function syncKernel(ctx: StageContext, dev: BlockDevice, plan: Pick<PartitionPlan, "writesTable" | "wipeTable" | "after">, active: readonly number[]): Promise<void> {
  const wrote = plan.writesTable || plan.wipeTable;
  // Closing the disk after writing makes udevd reread it (or synthesize change events)
  // asynchronously: let that happen first, as Ignition waits for udev, so it does not undo
  // what partx does below.
  if (wrote && isUdevRunning()) await waitForUdev(ctx, dev.path);
  let problems: string[] = [];
  const inLine = await pollUntil(
    async () => {
      problems = kernelMismatch(dev, plan.after, active);
      if (problems.length === 0) return true;
      const changes = planKernelSync(readKernelPartitions(dev), plan.after, active);
      for (const [op, numbers] of [["delete", changes.delete], ["update", changes.update], ["add", changes.add]] as const) {
        for (const n of numbers) {
          // A failure here is not fatal by itself: the next look decides.
          const r = await ctx.system.run("partx", [`--${op}`, "--nr", String(n), dev.path]);
          ctx.log.info(`told the kernel to ${op} partition ${n} of "${dev.path}"${r.code !== 0 ? ` (partx: ${r.stderr.trim()})` : ""}`);
        }
      }
      if (isUdevRunning()) await waitForUdev(ctx, dev.path);
      return undefined;
    },
    { timeoutMs: Math.min(readDeviceTimeoutMs(ctx.system.env), 30_000), firstMs: 2, maxMs: 100 },
  );
  if (!inLine) throw new Error(`Cannot see the new partitions of "${dev.path}": ${problems.join("; ")}`);
}

async function partitionDisk(ctx: StageContext, device: string, disk: Disk) {
  const dev = inspectBlockDevice(device);
  const r = planDisk(dev, disk);
  if (!r.ok) throw new Error(r.error);
  const plan = r.plan;
  for (const line of describeTable(plan.before)) ctx.log.info(`"${dev.path}" before: ${line}`);
  for (const a of plan.actions) {
    ctx.log.info(`partition ${a.number}: ${a.kind}${a.reason ? ` (${a.reason})` : ""}`);
  }
  if (!plan.wipeTable && !plan.writesTable) {
    ctx.log.info(`"${dev.path}": partition table already as configured`);
  } else {
    if (plan.wipeTable) {
      await ctx.log.op(`wiping the partition table of "${dev.path}"`, () => writeDisk(dev, encodeWipe(dev.sectorSize, dev.totalSectors, plan.before ?? undefined)));
    }
    if (plan.after && plan.writesTable) {
      const after = plan.after;
      await ctx.log.op(`writing the partition table of "${dev.path}"`, () => writeDisk(dev, encodeDiskTable(after, plan.mbrSector)));
    }
    for (const line of describeTable(plan.after)) ctx.log.info(`"${dev.path}" after: ${line}`);
  }
  if (dev.isBlock) {
    const usage = readDeviceUsage(dev);
    await ctx.log.op(`updating the kernel's partitions of "${dev.path}"`, () => syncKernel(ctx, dev, plan, usage.activePartitions));
  }
}

async function createPartitions(ctx: StageContext): Promise<void> {
  const disks = ctx.config.storage?.disks ?? [];
  if (disks.length === 0) return;
  const resolved = await waitFor(ctx, "disk", disks.map((d) => d.device ?? ""));
  const journal = journalOf(ctx);
  const recorded = (d: Disk) => journal.recorded(opKey.disk(d.device ?? ""));
  refuseChangedDisks(
    disks.flatMap((d) => {
      const rec = recorded(d);
      if (!rec?.done) return [];
      const change = describeTableChange(rec.result!.table as TableFingerprint, readTableFingerprint(resolved.get(d.device ?? "")!));
      return change ? [`the partition table of "${d.device}": ${change}`] : [];
    }),
  );
  for (const disk of disks) {
    const device = resolved.get(disk.device ?? "")!;
    if (recorded(disk)?.done) {
      // Its table is the one the interrupted run wrote (planning it again could differ: a
      // wipe, partitions numbered 0): only the kernel is told about it.
      ctx.log.info(`"${disk.device}": partitioned by the interrupted run, and its table is as it left it`);
      const dev = inspectBlockDevice(device);
      const table = readDiskTable(dev);
      if (dev.isBlock) {
        const after = table.kind === "gpt" ? table.table : null;
        await ctx.log.op(`updating the kernel's partitions of "${dev.path}"`, () =>
          syncKernel(ctx, dev, { after, writesTable: false, wipeTable: false }, readDeviceUsage(dev).activePartitions),
        );
      }
      continue;
    }
    await ctx.log.op(`partitioning "${disk.device}"`, () => partitionDisk(ctx, device, disk));
    await journal.done(opKey.disk(disk.device ?? ""), { table: readTableFingerprint(device) }, { durable: true });
  }
}

// ---------------------------------------------------------------------------------------------
// RAID

/** The UUID of an assembled array, or "" when it is not there. */
async function raidUuid(ctx: StageContext, path: string): Promise<string> {
  const r = await ctx.system.run("mdadm", ["--detail", "--export", path]);
  return r.code === 0 ? (/^MD_UUID=(.*)$/m.exec(r.stdout)?.[1]?.trim() ?? "") : "";
}

async function createRaids(ctx: StageContext): Promise<void> {
  const arrays = ctx.config.storage?.raid ?? [];
  if (arrays.length === 0) return;
  const resolved = await waitFor(ctx, "RAID member", arrays.flatMap((a) => a.devices ?? []));
  const journal = journalOf(ctx);
  const problems: string[] = [];
  for (const raid of arrays) {
    const rec = journal.recorded(opKey.raid(raid.name ?? ""));
    if (!rec?.done) continue;
    const path = formatRaidPath(raid.name ?? "");
    // At boot udev assembles arrays it finds; elsewhere the array may need assembling.
    if ((await raidUuid(ctx, path)) === "") {
      await ctx.system.run("mdadm", ["--assemble", path, ...(raid.devices ?? []).map((d) => resolved.get(d)!)]);
    }
    const uuid = await raidUuid(ctx, path);
    if (uuid !== rec.result?.uuid) problems.push(`RAID array "${raid.name}": ${uuid === "" ? "it cannot be assembled" : `its UUID is ${uuid}, the journal has ${String(rec.result?.uuid)}`}`);
  }
  refuseChangedDisks(problems);
  for (const raid of arrays) {
    const key = opKey.raid(raid.name ?? "");
    if (journal.recorded(key)?.done) {
      ctx.log.info(`RAID array "${raid.name}": created by the interrupted run, and still there`);
      continue;
    }
    const cmd = buildMdadmCreate(raid, (raid.devices ?? []).map((d) => resolved.get(d)!));
    if (cmd instanceof Error) throw cmd;
    await runLogged(ctx, `creating RAID array "${raid.name}"`, cmd);
    await waitFor(ctx, "RAID", [formatRaidPath(raid.name ?? "")]);
    flushDevice(formatRaidPath(raid.name ?? ""));
    await journal.done(key, { uuid: await raidUuid(ctx, formatRaidPath(raid.name ?? "")) }, { durable: true });
  }
}

// ---------------------------------------------------------------------------------------------
// LUKS

async function isLuks2(ctx: StageContext, device: string): Promise<boolean> {
  if ((await ctx.system.run("cryptsetup", ["isLuks", "--type", "luks2", device])).code === 0) return true;
  if ((await ctx.system.run("cryptsetup", ["isLuks", device])).code === 0) {
    throw new Error(`Cannot reuse "${device}": it is a LUKS1 volume and only LUKS2 volumes can be reused`);
  }
  return false;
}

/**
 * Checks every pin of a clevis binding before anything is written to the device (see
 * planClevisChecks); a failure names the volume and the pin.
 */
async function checkClevisPins(ctx: StageContext, luks: Luks & { clevis: Clevis }): Promise<void> {
  const name = luks.name ?? "";
  const fail = (pin: ClevisPinCheck, why: string, cause?: unknown): never => {
    throw new Error(`Cannot bind LUKS volume "${name}" with the ${describePin(pin)}: ${why}`, cause === undefined ? undefined : { cause });
  };
  const probe = await ctx.system.run("clevis", []);
  if (probe.code === 127) {
    throw new Error(`Cannot bind LUKS volume "${name}" with clevis: clevis is not installed (${probe.stderr.trim()})`);
  }
  for (const pin of planClevisChecks(luks.clevis)) {
    if (pin.pin === "tpm2") {
      const device = hostPath("tpmDevice", ctx.system.env);
      if (!existsSync(device)) fail(pin, `there is no TPM 2.0 device "${device}"`);
    } else if (pin.pin === "tang") {
      if (pin.fetchAdvertisement) {
        const adv = formatTangAdvertisementUrl(pin.url);
        try {
          await ctx.log.op(`fetching the tang advertisement "${adv}" for LUKS volume "${name}"`, () => ctx.fetcher.fetchBytes({ source: adv }));
        } catch (e) {
          fail(pin, `the tang server is unreachable (${(e as Error).message})`, e);
        }
      }
      // clevis refuses a thumbprint that no signing key of the advertisement has.
      const r = await ctx.log.op(`checking the thumbprint of the tang pin "${pin.url}" for LUKS volume "${name}"`, () =>
        ctx.system.run("clevis", ["encrypt", "tang", pin.config], { stdin: "nexus-init: trial" }),
      );
      if (r.code !== 0) fail(pin, `clevis cannot encrypt to it (bad thumbprint or advertisement?): ${r.stderr.trim() || `exit code ${r.code}`}`);
    }
  }
}

/** Opens the volume and binds it with clevis, proves the binding opens it, drops the generated key. */
async function bindClevis(
  ctx: StageContext,
  luks: Luks & { clevis: Clevis },
  device: string,
  keyFile: string,
  binding: { pin: string; config: string },
  generated: boolean,
): Promise<void> {
  const name = luks.name ?? "";
  await runLogged(ctx, `binding LUKS volume "${name}" with clevis: ${describeClevisBinding(luks.clevis)}`, {
    cmd: "clevis",
    args: ["luks", "bind", "-f", "-k", keyFile, "-d", device, binding.pin, binding.config],
  });
  // Only when enough pins work offline (tang without an advertisement is reached now, at boot).
  if (canReopenWithClevis(luks.clevis)) {
    await runLogged(ctx, `closing LUKS volume "${name}"`, { cmd: "cryptsetup", args: ["luksClose", name] });
    await runLogged(ctx, `reopening LUKS volume "${name}" with clevis`, { cmd: "clevis", args: ["luks", "unlock", "-d", device, "-n", name] });
  }
  if (generated) {
    await runLogged(ctx, `removing the generated key of LUKS volume "${name}" from its key slot`, { cmd: "cryptsetup", args: ["luksRemoveKey", device, keyFile] });
  }
}

async function createOneLuks(ctx: StageContext, luks: Luks, device: string, keyDir: string): Promise<void> {
  const name = luks.name ?? "";
  const journal = journalOf(ctx);
  const op = opKey.luks(name);
  const earlier = journal.recorded(op);
  const cexRefusal = findCexRefusal(luks, process.arch === "x64" ? "x86_64" : process.arch);
  if (cexRefusal) throw new Error(cexRefusal);
  // A clevis binding that cannot be made must fail before anything on the device changes.
  const clevis = hasClevis(luks.clevis) ? { ...luks, clevis: luks.clevis } : undefined;
  const clevisBinding = clevis ? buildClevisBinding(clevis.clevis) : undefined;
  if (clevisBinding instanceof Error) throw clevisBinding;
  if (clevis && !earlier?.done) await checkClevisPins(ctx, clevis);

  const keyFile = join(keyDir, name);
  let generated = false;
  try {
    if (luks.keyFile?.source) {
      const bytes = await ctx.log.op(`fetching the key file of LUKS volume "${name}"`, () => ctx.fetcher.fetchBytes(luks.keyFile!));
      writeFileSync(keyFile, bytes, { mode: 0o400 });
    } else if (typeof earlier?.intent?.key === "string") {
      // The interrupted run's volume opens with the key it generated.
      writeFileSync(keyFile, Buffer.from(earlier.intent.key, "base64"), { mode: 0o400 });
      generated = true;
    } else {
      const raw = new Uint8Array(4096);
      crypto.getRandomValues(raw);
      writeFileSync(keyFile, Buffer.from(raw).toString("hex"), { mode: 0o400 });
      generated = true;
    }
    const record: LuksRecord = { name, crypttab: "", key: readFileSync(keyFile).toString("base64") };

    let reused = false;
    if (earlier?.done) {
      // Made by the interrupted run (createLuks checked its UUID): open it again if needed.
      if (!existsSync(formatMapperPath(name))) {
        const viaClevis = clevis !== undefined && (earlier.result?.clevis === true || !generated);
        await runLogged(ctx, `opening LUKS volume "${name}" made by the interrupted run`, viaClevis ? { cmd: "clevis", args: ["luks", "unlock", "-d", device, "-n", name] } : buildLuksOpen(luks, device, keyFile));
      }
      ctx.log.info(`LUKS volume "${name}": made by the interrupted run, and still there`);
      reused = true;
    } else if (earlier?.intent) {
      // Begun by the interrupted run and not finished: made again from scratch.
      if (existsSync(formatMapperPath(name))) await ctx.system.run("cryptsetup", ["luksClose", name]);
      await runLogged(ctx, `wiping signatures from "${device}"`, { cmd: "wipefs", args: ["-a", device] });
    } else if (luks.wipeVolume !== true) {
      if (await isLuks2(ctx, device)) {
        const probe = await probeFilesystem(ctx, device);
        const uuid = (await ctx.system.run("cryptsetup", ["luksUUID", device])).stdout.trim();
        const dump = await ctx.system.run("cryptsetup", ["luksDump", "--dump-json-metadata", device]);
        let flags: string[] = [];
        try {
          flags = (JSON.parse(dump.stdout) as { config?: { flags?: string[] } }).config?.flags ?? [];
        } catch {
          // Older cryptsetup without JSON dumps: treat as no flags.
        }
        const problem = findLuksReuseProblem(luks, { label: probe.label, uuid, allowDiscards: flags.includes("allow-discards") });
        if (problem) throw new Error(`Cannot reuse LUKS volume "${device}": ${problem}, and wipeVolume is false`);
        const open = await ctx.system.run("cryptsetup", buildLuksOpen(luks, device, keyFile).args);
        if (open.code !== 0) throw new Error(`Cannot reuse LUKS volume "${device}": the key file does not open it, and wipeVolume is false`);
        ctx.log.info(`LUKS volume "${device}" is already as configured; reusing it`);
        reused = true;
      } else {
        const found = await probeFilesystem(ctx, device);
        if (found.type !== "") {
          throw new Error(`Cannot create LUKS volume "${name}" on "${device}": it holds ${found.type} and wipeVolume is false`);
        }
      }
    } else {
      await runLogged(ctx, `wiping signatures from "${device}"`, { cmd: "wipefs", args: ["-a", device] });
    }

    if (!reused) {
      // The UUID is chosen here (when the config leaves it open) and recorded, with a generated
      // key, before the volume is made: resuming, a volume with it is this run's own.
      const made = { ...luks, uuid: luks.uuid ?? (earlier?.intent?.uuid as string | undefined) ?? crypto.randomUUID() };
      if (!earlier?.intent) await journal.intent(op, { uuid: made.uuid, ...(generated ? { key: record.key } : {}) });
      await runLogged(ctx, `creating LUKS volume "${name}" on "${device}"`, buildLuksFormat(made, device, keyFile));
      await runLogged(ctx, `opening LUKS volume "${name}"`, buildLuksOpen(luks, device, keyFile));
      if (clevis && clevisBinding) await bindClevis(ctx, clevis, device, keyFile, clevisBinding, generated);
    }
    // A clevis volume keeps no key file in the target (a given key stays in its slot).
    if (clevis) delete record.key;
    const uuid = check(await ctx.system.run("cryptsetup", ["luksUUID", device])).stdout.trim();
    record.crypttab = formatCrypttabLine(luks, uuid);
    if (isUdevRunning()) await waitForUdev(ctx, device);
    ctx.state.luks = [...ctx.state.luks.filter((r) => r.name !== name), record];
    await waitFor(ctx, "LUKS", [formatMapperPath(name)]);
    if (!earlier?.done) {
      flushDevice(device);
      await journal.done(op, { uuid, clevis: clevis !== undefined }, { durable: true });
    }
  } finally {
    // The temporary key file goes as soon as this volume is done, whatever happened.
    rmSync(keyFile, { force: true });
  }
}

/** The UUID of the LUKS2 volume on a device, or "" when it holds none. */
async function luksUuid(ctx: StageContext, device: string): Promise<string> {
  if ((await ctx.system.run("cryptsetup", ["isLuks", "--type", "luks2", device])).code !== 0) return "";
  return (await ctx.system.run("cryptsetup", ["luksUUID", device])).stdout.trim();
}

/** Refuses when a volume the interrupted run made is not on its device any more. */
async function checkJournaledLuks(ctx: StageContext, journal: StageJournal, volumes: readonly Luks[], resolved: Map<string, string>): Promise<void> {
  const problems: string[] = [];
  for (const luks of volumes) {
    const rec = journal.recorded(opKey.luks(luks.name ?? ""));
    if (!rec?.done) continue;
    const uuid = await luksUuid(ctx, resolved.get(luks.device ?? "")!);
    if (uuid !== rec.result?.uuid) problems.push(`LUKS volume "${luks.name}" on "${luks.device}": ${uuid === "" ? "it is gone" : `its UUID is ${uuid}, the journal has ${String(rec.result?.uuid)}`}`);
  }
  refuseChangedDisks(problems);
}

async function createLuks(ctx: StageContext): Promise<void> {
  const volumes = ctx.config.storage?.luks ?? [];
  if (volumes.length === 0) return;
  const resolved = await waitFor(ctx, "LUKS", volumes.map((l) => l.device ?? ""));
  await checkJournaledLuks(ctx, journalOf(ctx), volumes, resolved);
  // Key files live in a private directory that is removed whatever happens.
  const keyDir = mkdtempSync(join(tmpdir(), "nexus-luks-"));
  chmodSync(keyDir, 0o700);
  try {
    for (const luks of volumes) {
      await ctx.log.op(`creating LUKS volume "${luks.name}"`, () => createOneLuks(ctx, luks, resolved.get(luks.device ?? "")!, keyDir));
    }
  } finally {
    rmSync(keyDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Filesystems

/** Probes a device the way Ignition's libblkid call does, allowing ambivalent results last. */
export async function probeFilesystem(ctx: StageContext, device: string): Promise<FsProbe> {
  const r = await ctx.system.run("blkid", ["-p", "-o", "export", device]);
  if (r.code === 0) return parseBlkidExport(r.stdout);
  if (r.code === 2) return { type: "", uuid: "", label: "" };
  if (r.code === 8) {
    const all = check(await ctx.system.run("wipefs", ["--no-act", "--json", device]));
    const first = parseWipefsFirst(all.stdout);
    ctx.log.warn(`"${device}" carries several signatures (ambivalent probe); using the first: ${first.type}`);
    return first;
  }
  throw new Error(`Cannot probe "${device}": blkid exited with ${r.code}: ${r.stderr.trim()}`);
}

async function createFilesystem(ctx: StageContext, fs: Filesystem, device: string): Promise<void> {
  if (!fs.format) return;
  const journal = journalOf(ctx);
  const op = opKey.filesystem(fs.device ?? "");
  const earlier = journal.recorded(op);
  if (earlier?.done) {
    ctx.log.info(`"${fs.device}": ${earlier.result?.type || "nothing"} made by the interrupted run, and still there`);
    return;
  }
  const found = await ctx.log.op(`determining the filesystem type of "${fs.device}"`, () => probeFilesystem(ctx, device));
  ctx.log.info(`found ${found.type || "no filesystem"} at "${fs.device}" with UUID "${found.uuid}" and label "${found.label}"`);
  // One the interrupted run began is its own, half made: made again.
  const d = planFilesystem(earlier?.intent ? { ...fs, wipeFilesystem: true } : fs, device, found);
  if (!d.ok) throw new Error(d.error);
  ctx.log.info(`"${fs.device}": ${describeFsDecision(fs, d.decision)}`);
  if (d.decision.action === "create") {
    if (!earlier?.intent) await journal.intent(op);
    await runLogged(ctx, `wiping filesystem signatures from "${device}"`, d.decision.wipe);
    if (d.decision.mkfs) await runLogged(ctx, `creating ${fs.format} filesystem on "${device}"`, d.decision.mkfs);
    flushDevice(device);
  }
  const made = d.decision.action === "create" ? await probeFilesystem(ctx, device) : found;
  await journal.done(op, { type: made.type, uuid: made.uuid }, { durable: d.decision.action === "create" });
}

/** Refuses when a filesystem the interrupted run made is not on its device any more. */
async function checkJournaledFilesystems(ctx: StageContext, fss: readonly Filesystem[], resolved: Map<string, string>): Promise<void> {
  const journal = journalOf(ctx);
  const problems: string[] = [];
  for (const fs of fss) {
    const rec = journal.recorded(opKey.filesystem(fs.device ?? ""));
    if (!rec?.done || !fs.format) continue;
    const change = describeFilesystemChange(rec.result ?? {}, await probeFilesystem(ctx, resolved.get(fs.device ?? "")!));
    if (change) problems.push(`the filesystem on "${fs.device}": ${change}`);
  }
  refuseChangedDisks(problems);
}

async function createFilesystems(ctx: StageContext): Promise<void> {
  const fss = blockFilesystems(ctx.config);
  if (fss.length === 0) return;
  const resolved = await waitFor(ctx, "filesystem", fss.map((f) => f.device ?? ""));
  await checkJournaledFilesystems(ctx, fss, resolved);
  // Filesystems are created concurrently, as in Ignition; every failure is reported.
  const queue = [...fss];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let fs = queue.shift(); fs; fs = queue.shift()) {
      try {
        await createFilesystem(ctx, fs, resolved.get(fs.device ?? "")!);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(fss.length, Math.max(1, availableParallelism())) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 0) throw new Error(errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; "));
}

// ---------------------------------------------------------------------------------------------
// Plan

async function planEntries(ctx: StageContext): Promise<PlanEntry[]> {
  const out: PlanEntry[] = [];
  const add = (action: string, target: string, detail?: string) => out.push({ stage: "disks", action, target, ...(detail ? { detail } : {}) });
  const lookup = blkidLookup(ctx.system);
  const repartitioned = new Set<string>();
  for (const disk of ctx.config.storage?.disks ?? []) {
    const device = await resolveDevice(disk.device ?? "", lookup);
    if (!device) {
      add("wait", disk.device ?? "", "device not present; it will be partitioned when it appears");
      continue;
    }
    const r = planDisk(inspectBlockDevice(device), disk);
    if (!r.ok) {
      add("fail", device, r.error);
      continue;
    }
    const p = r.plan;
    const random = new Set(p.actions.filter((a) => a.generatedGuid).map((a) => a.number));
    for (const line of describeTable(p.before)) add("table-before", device, line);
    if (p.wipeTable) add("wipe-table", device);
    for (const a of p.actions) {
      const node = formatPartitionPath(device, a.number);
      const what = a.after ?? a.before;
      add(`${a.kind}-partition`, node, what ? describeTable({ ...(p.after ?? p.before)!, partitions: [what] }, random)[0] : undefined);
      if (a.kind !== "keep" && a.kind !== "absent") repartitioned.add(node);
    }
    for (const line of describeTable(p.after, random)) add("table-after", device, line);
  }
  for (const raid of ctx.config.storage?.raid ?? []) {
    add("create-raid", formatRaidPath(raid.name ?? ""), `level ${raid.level} from ${(raid.devices ?? []).join(", ")}`);
  }
  for (const luks of ctx.config.storage?.luks ?? []) {
    add(luks.wipeVolume ? "create-luks" : "create-or-reuse-luks", luks.device ?? "", `volume "${luks.name}"${hasClevis(luks.clevis) ? " bound with clevis" : ""}`);
  }
  for (const fs of blockFilesystems(ctx.config)) {
    if (!fs.format) continue;
    const device = await resolveDevice(fs.device ?? "", lookup);
    if (!device || repartitioned.has(device) || !statSync(device).isBlockDevice()) {
      add("mkfs", fs.device ?? "", `${fs.format} on a device created or changed by this run${fs.wipeFilesystem ? "" : " (reused if it already matches)"}`);
      continue;
    }
    const found = await probeFilesystem(ctx, device);
    const d = planFilesystem(fs, device, found);
    if (!d.ok) add("fail", fs.device ?? "", d.error);
    else add(actionOf(d.decision), fs.device ?? "", describeFsDecision(fs, d.decision));
  }
  return out;
}

function actionOf(d: FsDecision): string {
  if (d.action === "create") return d.mkfs ? "mkfs" : "wipe";
  return d.action === "reuse" ? "reuse-filesystem" : "skip";
}

/** The disks stage. */
export const disksStage: Stage = {
  name: "disks",
  async plan(ctx) {
    if (!hasDiskWork(ctx.config)) return [];
    return planEntries(ctx);
  },
  async run(ctx) {
    // Nothing to do means nothing touched, not even a udev settle.
    if (!hasDiskWork(ctx.config)) return;
    await step("create partitions", () => createPartitions(ctx));
    await step("create RAID arrays", () => createRaids(ctx));
    await step("create LUKS volumes", () => createLuks(ctx));
    await step("create filesystems", () => createFilesystems(ctx));
    if (isUdevRunning()) await runLogged(ctx, "waiting for udev to settle", { cmd: "udevadm", args: ["settle"] });
  },
};
