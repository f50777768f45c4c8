// nexus-init verify --root DIR [--json] [--devices] [--device FROM=TO]... CONFIG|-
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { createFetcher, fetcherForConfig } from "../resource/index.ts";
import { realSystem, selfCommand } from "../system/real.ts";
import type { System } from "../system/system.ts";
import { formatVerifyReport, verifyRoot } from "../verify/verify.ts";
import { issuesJson, loadInputs } from "./apply.ts";
import { parseCommandArgs, program, usageError } from "./args.ts";

export const summary = "Report every difference between a provisioned root (and its disks) and a config";

const USAGE = `Usage: nexus-init verify --root DIR [--json] [--devices] [--device FROM=TO]... CONFIG|-

Compares the provisioned root DIR with everything CONFIG declares: files (contents, mode,
owner), directories, links, users and groups (every field the config sets), SSH keys, units
(contents, drop-ins, masks, enablement); with --devices also the disks the config names
(partitions, filesystems, LUKS volumes, RAID arrays). Only what the config sets is compared.
Nothing is written, not even access times: as root it reads DIR through a read-only, noatime
view in a mount namespace of its own; otherwise files are opened O_NOATIME where permitted.
Contents and password hashes are never printed ("contents differ").
Exit status: 0 nothing differs, 1 something differs or could not be checked (or an invalid
config), 2 usage error.

Options:
  --root DIR          the provisioned root directory (required)
  --json              print {"ok":bool,"checked":N,"differences":[…],"unchecked":[…]} on standard output
  --devices           also compare the disks, partitions, filesystems, LUKS volumes and RAID arrays
  --device FROM=TO    read device FROM of the config at TO (an image attached elsewhere); implies --devices`;

/** Set in the isolated child: the view of the root it verifies. */
const VIEW_ENV = "NEXUS_VERIFY_VIEW";

/** Runs the verify command. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandArgs("verify", USAGE, args, {
    root: { type: "string" },
    json: { type: "boolean" },
    devices: { type: "boolean" },
    device: { type: "string", multiple: true },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed as unknown as { values: { root?: string; json?: boolean; devices?: boolean; device?: string[] }; positionals: string[] };
  if (!values.root) return usageError("verify", USAGE, "--root DIR is required");
  if (positionals.length !== 1) return usageError("verify", USAGE, 'expected exactly one config file (or "-")');
  const deviceMap = new Map<string, string>();
  for (const d of values.device ?? []) {
    const i = d.indexOf("=");
    if (i <= 0 || i === d.length - 1) return usageError("verify", USAGE, `--device wants FROM=TO, got "${d}"`);
    deviceMap.set(d.slice(0, i), d.slice(i + 1));
  }
  const json = values.json === true;
  const input = loadInputs("verify", { root: values.root, json, configArg: positionals[0]! });
  if (!input.ok) {
    if (json && input.code === 1) process.stdout.write(JSON.stringify({ ok: false, issues: issuesJson(input.issues) }) + "\n");
    return input.code;
  }
  const system = realSystem();
  if (process.getuid?.() === 0 && system.env[VIEW_ENV] === undefined && positionals[0] !== "-") {
    const isolated = await runIsolated(system, args);
    if (isolated !== null) return isolated;
  }
  const view = system.env[VIEW_ENV];
  let root = values.root;
  let cleanup = async () => {};
  if (view !== undefined && view !== "") {
    const made = await makeReadOnlyView(system, values.root, view);
    if (typeof made === "string") {
      process.stderr.write(`${program.name} verify: ${made}\n`);
      return 1;
    }
    root = view;
    cleanup = made;
  }
  try {
    return await verify(input.config, root, { json, devices: values.devices === true || deviceMap.size > 0, deviceMap, system });
  } finally {
    await cleanup();
  }
}

async function verify(config: Config, root: string, o: { json: boolean; devices: boolean; deviceMap: Map<string, string>; system: System }): Promise<number> {
  const fetcher = await fetcherForConfig(createFetcher({ env: o.system.env }), config);
  const report = await verifyRoot(config, root, { fetcher, system: o.system, devices: o.devices, deviceMap: o.deviceMap });
  const ok = report.differences.length === 0 && report.unchecked.length === 0;
  if (o.json) process.stdout.write(JSON.stringify({ ok, ...report }) + "\n");
  else process.stdout.write(formatVerifyReport(report));
  return ok ? 0 : 1;
}

/**
 * Runs this command again in a private mount namespace (unshare), where it verifies a
 * read-only, noatime bind of the root: nothing in the root can change, not even an access
 * time of a symlink it follows. Null when no namespace can be made (then it reads directly).
 */
async function runIsolated(system: System, args: string[]): Promise<number | null> {
  const view = mkdtempSync(join(tmpdir(), "nexus-verify-"));
  try {
    const r = await system.run("unshare", ["--mount", "--propagation", "private", "--", ...selfCommand(), "verify", ...args], { env: { [VIEW_ENV]: view } });
    if (r.code === 127 || /unshare failed|cannot change root|Operation not permitted/.test(r.stderr)) return null;
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } finally {
    try {
      rmdirSync(view);
    } catch {
      // Not empty or gone: nothing of the root's is in it.
    }
  }
}

/** In the private namespace: binds the root (with what is mounted below it) at view, read-only and noatime. */
async function makeReadOnlyView(system: System, root: string, view: string): Promise<string | (() => Promise<void>)> {
  const bind = await system.run("mount", ["--rbind", root, view]);
  if (bind.code !== 0) return `Cannot make a read-only view of "${root}": ${bind.stderr.trim()}`;
  const below = await system.run("findmnt", ["-R", "-rn", "-o", "TARGET", view]);
  for (const target of below.stdout.split("\n").filter(Boolean).map((t) => t.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))))) {
    const r = await system.run("mount", ["-o", "remount,bind,ro,noatime", target]);
    if (r.code !== 0) return `Cannot make the view of "${target}" read-only: ${r.stderr.trim()}`;
  }
  return async () => {
    await system.run("umount", ["-R", view]);
  };
}
