// Pure planning of systemd.units: the unit files and drop-ins to write, masks and unmasks, and
// the preset file that enables or disables units on first boot. Presets are one sorted,
// deterministic file, /etc/systemd/system-preset/20-nexus.preset; instances of one template
// share a line ("enable echo@.service bar foo"), as systemd's preset syntax allows.
import type { Unit } from "../config/types.ts";

/** Where unit files and drop-ins for the system manager live. */
export const SYSTEM_UNITS_DIR = "/etc/systemd/system";
/** The preset file nexus-init writes. */
export const PRESET_PATH = "/etc/systemd/system-preset/20-nexus.preset";
/** The target of a masking symlink. */
export const MASK_TARGET = "/dev/null";

/** One action on one unit, in the order they are applied. */
export type UnitAction =
  | { kind: "write-dropin"; unit: string; dropin: string; path: string; contents: string }
  | { kind: "write-unit"; unit: string; path: string; contents: string }
  | { kind: "mask"; unit: string; path: string }
  | { kind: "unmask"; unit: string; path: string };

/** A preset decision for a unit name or a template with its instances. */
export interface PresetLine {
  /** The unit name, or the template name (`echo@.service`) for instances. */
  unit: string;
  enable: boolean;
  instances: string[];
}

/** Everything the units part of the files stage does. */
export interface UnitsPlan {
  actions: UnitAction[];
  presets: PresetLine[];
  /** Units whose enablement symlinks are removed (enabled: false). */
  disable: string[];
}

/** The path of a unit file. */
export function unitPath(name: string): string {
  return `${SYSTEM_UNITS_DIR}/${name}`;
}

/** The path of a unit's drop-in. */
export function dropinPath(unit: string, dropin: string): string {
  return `${SYSTEM_UNITS_DIR}/${unit}.d/${dropin}`;
}

/**
 * Splits an instance name `tmpl@inst.type` into its template `tmpl@.type` and instance; null
 * for plain units and templates themselves.
 */
export function splitInstance(name: string): { template: string; instance: string } | null {
  const m = /^([^@]+)@(.+)\.([^.]+)$/.exec(name);
  if (!m) return null;
  return { template: `${m[1]}@.${m[3]}`, instance: m[2]! };
}

/**
 * Plans every unit in config order: drop-ins (those with contents, even empty) then the unit
 * file (when it has contents), then its mask or unmask. Presets are collected for units with
 * `enabled` set and sorted by unit name.
 */
export function planUnits(units: readonly Unit[]): UnitsPlan {
  const actions: UnitAction[] = [];
  const presets = new Map<string, PresetLine>();
  const disable: string[] = [];
  for (const u of units) {
    const name = u.name ?? "";
    for (const d of u.dropins ?? []) {
      if (d.contents === null || d.contents === undefined) continue;
      const dn = d.name ?? "";
      actions.push({ kind: "write-dropin", unit: name, dropin: dn, path: dropinPath(name, dn), contents: d.contents });
    }
    if (u.contents !== null && u.contents !== undefined) {
      actions.push({ kind: "write-unit", unit: name, path: unitPath(name), contents: u.contents });
    }
    if (u.mask === true) actions.push({ kind: "mask", unit: name, path: unitPath(name) });
    else if (u.mask === false) actions.push({ kind: "unmask", unit: name, path: unitPath(name) });
    if (u.enabled === true || u.enabled === false) {
      const inst = splitInstance(name);
      const key = `${inst ? inst.template : name}\0${u.enabled}`;
      const line = presets.get(key) ?? { unit: inst ? inst.template : name, enable: u.enabled, instances: [] };
      if (inst && !line.instances.includes(inst.instance)) line.instances.push(inst.instance);
      presets.set(key, line);
      if (!u.enabled) disable.push(name);
    }
  }
  const sorted = [...presets.values()].sort(
    (a, b) => compare(a.unit, b.unit) || compare(a.enable ? "enable" : "disable", b.enable ? "enable" : "disable"),
  );
  for (const l of sorted) l.instances.sort(compare);
  return { actions, presets: sorted, disable };
}

/** The preset file text for these decisions (appended after any existing text). */
export function presetText(lines: readonly PresetLine[]): string {
  return lines
    .map((l) => `${l.enable ? "enable" : "disable"} ${[l.unit, ...l.instances].join(" ")}\n`)
    .join("");
}

/** Byte-wise string order, independent of locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Directories under /etc/systemd/system whose symlinks enable a unit. */
export function isEnablementDir(name: string): boolean {
  return /\.(wants|requires|upholds)$/.test(name);
}
