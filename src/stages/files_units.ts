// systemd.units: unit files and drop-ins (0644, root), masks (a symlink to /dev/null), unmasks,
// then the preset file and, for units with enabled: false, removal of their enablement
// symlinks so the preset decides on first boot.
import { dirname } from "node:path";
import type { Unit } from "../config/types.ts";
import type { PlanEntry, StageContext } from "../executor/stage.ts";
import type { Root } from "../system/root.ts";
import { runLimited, writeConcurrency } from "./run_limited.ts";
import { isEnablementDir, MASK_TARGET, planUnits, PRESET_PATH, presetText, SYSTEM_UNITS_DIR, type UnitAction } from "../units/plan.ts";

const UNIT_FILE_MODE = 0o644;
const encoder = new TextEncoder();

/** Writes a small file atomically, creating its parents (0755). */
function writeSmallFile(root: Root, path: string, text: string, attrs = { mode: UNIT_FILE_MODE, uid: 0, gid: 0 }): Promise<void> {
  return root.writeFileWithParents(path, attrs, (sink) => sink.write(encoder.encode(text)));
}

/** Applies one unit action. */
async function applyUnitAction(root: Root, a: UnitAction): Promise<void> {
  switch (a.kind) {
    case "write-dropin":
    case "write-unit":
      await writeSmallFile(root, a.path, a.contents);
      return;
    case "mask":
      await root.inDirectory(dirname(a.path), () => {
        root.removeAll(a.path);
        return root.symlink(MASK_TARGET, a.path);
      });
      return;
    case "unmask": {
      const st = root.lstat(a.path);
      if (st?.isSymbolicLink() && root.readlink(a.path) === MASK_TARGET) root.unlink(a.path);
      return;
    }
  }
}

/** The operation name logged for a unit action. */
function describeUnitAction(a: UnitAction): string {
  switch (a.kind) {
    case "write-dropin":
      return `writing drop-in "${a.dropin}" of unit "${a.unit}" at "${a.path}"`;
    case "write-unit":
      return `writing unit "${a.unit}" at "${a.path}"`;
    case "mask":
      return `masking unit "${a.unit}"`;
    case "unmask":
      return `unmasking unit "${a.unit}"`;
  }
}

/**
 * Removes the symlinks that enable a unit: entries named after it in the .wants, .requires and
 * .upholds directories of /etc/systemd/system, and alias symlinks there pointing at it. A
 * directory left empty goes too, as `systemctl disable` (which Ignition runs) removes it.
 * Returns the paths removed.
 */
export function removeEnablementSymlinks(root: Root, unit: string): string[] {
  const removed: string[] = [];
  for (const name of root.readdir(SYSTEM_UNITS_DIR)) {
    const path = `${SYSTEM_UNITS_DIR}/${name}`;
    const st = root.lstat(path);
    if (!st) continue;
    if (st.isDirectory() && isEnablementDir(name)) {
      const link = `${path}/${unit}`;
      if (root.lstat(link)?.isSymbolicLink()) {
        root.unlink(link);
        removed.push(link);
        if (root.readdir(path).length === 0) {
          root.removeAll(path);
          removed.push(path);
        }
      }
    } else if (st.isSymbolicLink() && name !== unit) {
      const target = root.readlink(path);
      if (target !== MASK_TARGET && target.split("/").pop() === unit) {
        root.unlink(path);
        removed.push(path);
      }
    }
  }
  return removed;
}

/** Writes, masks and unmasks units in config order, then presets and disables. */
export async function applyUnits(ctx: StageContext, root: Root, units: readonly Unit[]): Promise<void> {
  const plan = planUnits(units);
  // Different units touch different paths: they are written concurrently, each unit's own
  // actions in order (drop-ins, unit file, then mask or unmask).
  const byUnit = new Map<string, UnitAction[]>();
  for (const a of plan.actions) byUnit.set(a.unit, [...(byUnit.get(a.unit) ?? []), a]);
  await runLimited([...byUnit.values()], writeConcurrency(ctx.system.env), async (actions) => {
    for (const a of actions) await ctx.log.op(describeUnitAction(a), () => applyUnitAction(root, a));
  });
  if (plan.presets.length > 0) {
    await ctx.log.op(`writing presets for ${plan.presets.length} unit(s) to "${PRESET_PATH}"`, async () => {
      const st = root.lstat(PRESET_PATH);
      const old = st?.isFile() ? root.readFile(PRESET_PATH)!.toString("utf8") : "";
      const sep = old === "" || old.endsWith("\n") ? "" : "\n";
      const attrs = st?.isFile() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : { mode: UNIT_FILE_MODE, uid: 0, gid: 0 };
      await writeSmallFile(root, PRESET_PATH, old + sep + presetText(plan.presets), attrs);
    });
  }
  for (const name of plan.disable) {
    await ctx.log.op(`removing enablement symlink(s) for "${name}"`, () => {
      removeEnablementSymlinks(root, name);
    });
  }
}

/** The plan lines for units. */
export function planUnitEntries(units: readonly Unit[]): PlanEntry[] {
  const plan = planUnits(units);
  const out: PlanEntry[] = plan.actions.map((a) => {
    switch (a.kind) {
      case "write-dropin":
        return { stage: "files", action: "write-dropin", target: a.path, detail: `drop-in ${a.dropin} of ${a.unit}, mode 0644` };
      case "write-unit":
        return { stage: "files", action: "write-unit", target: a.path, detail: `unit ${a.unit}, mode 0644` };
      case "mask":
        return { stage: "files", action: "mask", target: a.path, detail: `symlink to ${MASK_TARGET}` };
      case "unmask":
        return { stage: "files", action: "unmask", target: a.path, detail: `removed if it is a symlink to ${MASK_TARGET}` };
    }
  });
  for (const p of plan.presets) {
    out.push({
      stage: "files",
      action: p.enable ? "enable" : "disable",
      target: p.instances.length > 0 ? `${p.unit} ${p.instances.join(" ")}` : p.unit,
      detail: `preset in ${PRESET_PATH}${p.enable ? "" : "; enablement symlinks removed"}`,
    });
  }
  return out;
}
