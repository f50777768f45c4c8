// Uniqueness of keyed lists: every list entry is identified by a key (a path, a name, a device…)
// and a key may appear once. Files, directories and links share one key space, as do
// kernelArguments.shouldExist and shouldNotExist. Lists of command options may repeat.
import type { IssuePath } from "../issues.ts";
import { MESSAGES, quote, quoteUrl } from "../messages.ts";
import type { Config } from "../types.ts";
import { describeAt, type RuleContext } from "./context.ts";

/** One list entry: its key and where it is. */
export interface KeyedEntry {
  key: string;
  path: IssuePath;
}

/** Reports every entry whose key an earlier entry already has. `show` renders the key. */
export function checkUnique(
  ctx: RuleContext,
  what: string,
  entries: readonly KeyedEntry[],
  show: (key: string) => string = quote,
  note?: string,
): void {
  const first = new Map<string, IssuePath>();
  for (const e of entries) {
    const seen = first.get(e.key);
    if (seen) ctx.error(e.path, MESSAGES.duplicate(what, show(e.key), describeAt(seen), note), [seen]);
    else first.set(e.key, e.path);
  }
}

function keyed<T>(list: readonly T[] | null | undefined, base: IssuePath, key: (item: T) => string | null | undefined): KeyedEntry[] {
  return (list ?? []).map((item, i) => ({ key: key(item) ?? "", path: [...base, i] }));
}

function strings(list: readonly string[] | null | undefined, base: IssuePath): KeyedEntry[] {
  return keyed(list, base, (s) => s);
}

/** Checks every keyed list of the config except HTTP headers (see resource.ts) and partitions (disks.ts). */
export function checkDuplicates(ctx: RuleContext, config: Config): void {
  const ign = config.ignition;
  checkUnique(ctx, "config reference with source", keyed(ign?.config?.merge, ["ignition", "config", "merge"], (r) => r.source), quoteUrl);
  checkUnique(
    ctx,
    "certificate authority with source",
    keyed(ign?.security?.tls?.certificateAuthorities, ["ignition", "security", "tls", "certificateAuthorities"], (r) => r.source),
    quoteUrl,
  );
  checkUnique(ctx, "noProxy entry", strings(ign?.proxy?.noProxy, ["ignition", "proxy", "noProxy"]));

  const st = config.storage;
  checkUnique(ctx, "disk device", keyed(st?.disks, ["storage", "disks"], (d) => d.device));
  checkUnique(ctx, "RAID array name", keyed(st?.raid, ["storage", "raid"], (r) => r.name));
  (st?.raid ?? []).forEach((r, i) => checkUnique(ctx, "RAID member device", strings(r.devices, ["storage", "raid", i, "devices"])));
  checkUnique(ctx, "filesystem device", keyed(st?.filesystems, ["storage", "filesystems"], (f) => f.device));
  checkUnique(
    ctx,
    "path",
    [
      ...keyed(st?.files, ["storage", "files"], (n) => n.path),
      ...keyed(st?.directories, ["storage", "directories"], (n) => n.path),
      ...keyed(st?.links, ["storage", "links"], (n) => n.path),
    ],
    quote,
    "files, directories and links share one set of paths",
  );
  checkUnique(ctx, "LUKS device name", keyed(st?.luks, ["storage", "luks"], (l) => l.name));
  (st?.luks ?? []).forEach((l, i) => {
    checkUnique(ctx, "LUKS open option", strings(l.openOptions, ["storage", "luks", i, "openOptions"]));
    checkUnique(ctx, "tang server URL", keyed(l.clevis?.tang, ["storage", "luks", i, "clevis", "tang"], (t) => t.url), quoteUrl);
  });

  const units = config.systemd?.units;
  checkUnique(ctx, "unit name", keyed(units, ["systemd", "units"], (u) => u.name));
  (units ?? []).forEach((u, i) => checkUnique(ctx, "drop-in name", keyed(u.dropins, ["systemd", "units", i, "dropins"], (d) => d.name)));

  const pw = config.passwd;
  checkUnique(ctx, "user name", keyed(pw?.users, ["passwd", "users"], (u) => u.name));
  (pw?.users ?? []).forEach((u, i) => {
    checkUnique(ctx, "SSH key", strings(u.sshAuthorizedKeys, ["passwd", "users", i, "sshAuthorizedKeys"]));
    checkUnique(ctx, "supplementary group", strings(u.groups, ["passwd", "users", i, "groups"]));
  });
  checkUnique(ctx, "group name", keyed(pw?.groups, ["passwd", "groups"], (g) => g.name));

  const ka = config.kernelArguments;
  checkUnique(
    ctx,
    "kernel argument",
    [...strings(ka?.shouldExist, ["kernelArguments", "shouldExist"]), ...strings(ka?.shouldNotExist, ["kernelArguments", "shouldNotExist"])],
    quote,
    "an argument is listed once, in shouldExist or in shouldNotExist",
  );
}
