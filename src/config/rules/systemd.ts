// Rules for systemd.units and their drop-ins: names, parseable contents, [Install] sections of
// enabled units and templates, and storage nodes that would overwrite unit files.
import type { IssuePath } from "../issues.ts";
import { MESSAGES, quote } from "../messages.ts";
import type { Config, Unit } from "../types.ts";
import { isBlank, type RuleContext } from "./context.ts";
import { pathExtension } from "../../system/paths.ts";
import { hasInstallSection, parseUnitContents } from "./unit_file.ts";

const UNIT_TYPES = [".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target", ".path", ".timer", ".snapshot", ".slice", ".scope"];

/** Where Ignition writes unit files and drop-ins. */
export const SYSTEMD_UNIT_DIR = "/etc/systemd/system/";

/** Validates every unit and drop-in. */
export function checkUnits(ctx: RuleContext, units: readonly Unit[]): void {
  units.forEach((u, i) => checkUnit(ctx, ["systemd", "units", i], u));
  checkTemplates(ctx, units);
}

function checkUnit(ctx: RuleContext, at: IssuePath, u: Unit): void {
  const name = u.name ?? "";
  if (!UNIT_TYPES.includes(pathExtension(name))) ctx.error([...at, "name"], MESSAGES.unitNameSuffix(name));
  if (u.contents !== undefined && u.contents !== null) {
    const parsed = parseUnitContents(u.contents);
    if (!parsed.ok) ctx.error([...at, "contents"], MESSAGES.unitContentsInvalid(parsed.reason));
    // A unit whose contents set no option at all is not checked (nothing to enable either way).
    else if (u.enabled === true && u.contents !== "" && parsed.options.length > 0 && !hasInstallSection(parsed.options)) {
      ctx.warning([...at, "contents"], MESSAGES.unitNoInstallSection(name));
    }
  }
  (u.dropins ?? []).forEach((d, k) => {
    const dat = [...at, "dropins", k];
    if (d.contents !== undefined && d.contents !== null) {
      const parsed = parseUnitContents(d.contents);
      if (!parsed.ok) ctx.error([...dat, "contents"], MESSAGES.unitContentsInvalid(parsed.reason));
    }
    if (pathExtension(d.name ?? "") !== ".conf") ctx.error([...dat, "name"], MESSAGES.dropinNameSuffix(d.name ?? ""));
  });
}

const INSTANCE = /^(.+?)@(.+?)\.service$/;

// Enabling foo@bar.service needs [Install] in foo@.service when the config writes that template.
function checkTemplates(ctx: RuleContext, units: readonly Unit[]): void {
  const byName = new Map<string, Unit>();
  for (const u of units) byName.set(u.name ?? "", u);
  units.forEach((u, i) => {
    const m = INSTANCE.exec(u.name ?? "");
    if (!m || u.enabled !== true) return;
    const templateName = `${m[1]}@.service`;
    const template = byName.get(templateName);
    if (!template || isBlank(template.contents)) return;
    const parsed = parseUnitContents(template.contents!);
    if (!parsed.ok) return;
    if (!hasInstallSection(parsed.options)) ctx.warning(["systemd", "units", i, "contents"], MESSAGES.templateNoInstallSection(templateName, u.name!));
  });
}

/** Files, directories and links must not target a path a unit or drop-in is written to. */
export function checkSystemdPathConflicts(ctx: RuleContext, config: Config): void {
  const written = new Map<string, string>();
  for (const u of config.systemd?.units ?? []) {
    const name = u.name ?? "";
    if (!isBlank(u.contents)) written.set(SYSTEMD_UNIT_DIR + name, `systemd unit ${quote(name)}`);
    for (const d of u.dropins ?? []) {
      if (!isBlank(d.contents)) written.set(`${SYSTEMD_UNIT_DIR}${name}.d/${d.name ?? ""}`, `drop-in ${quote(d.name ?? "")} of systemd unit ${quote(name)}`);
    }
  }
  if (written.size === 0) return;
  const storage = config.storage;
  for (const kind of ["files", "directories", "links"] as const) {
    (storage?.[kind] ?? []).forEach((n, i) => {
      const what = written.get(n.path ?? "");
      if (what) ctx.error(["storage", kind, i, "path"], MESSAGES.pathConflictsSystemd(n.path!, what));
    });
  }
}
