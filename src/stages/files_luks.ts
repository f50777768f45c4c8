// The LUKS volumes the disks stage made, persisted into the target root as Ignition's files
// stage does: each key file as /etc/luks/<name> (0600; the directory 0700 when it is created;
// an existing key file is an error, never overwritten), and one /etc/crypttab line per volume
// appended to the file (0600). The keys are then dropped from the state, so they live only in
// the target.
import { LUKS_KEY_DIR } from "../disks/luks.ts";
import type { StageContext } from "../executor/stage.ts";
import type { Root } from "../system/root.ts";

const CRYPTTAB = "/etc/crypttab";

/** Writes the key files and crypttab lines of the recorded LUKS volumes, then forgets the keys. */
export async function writeLuksTargetFiles(ctx: StageContext, root: Root): Promise<void> {
  const records = ctx.state.luks;
  if (records.length === 0) return;
  for (const r of records) {
    if (r.key === undefined) continue;
    const path = `${LUKS_KEY_DIR}/${r.name}`;
    if (root.lstat(path)) throw new Error(`Cannot write the key file "${path}": a file exists there already`);
    const key = Buffer.from(r.key, "base64");
    await ctx.log.op(`writing the key file "${path}"`, () =>
      root.writeFileWithParents(path, { mode: 0o600, uid: 0, gid: 0 }, (sink) => sink.write(key), { parentMode: 0o700 }),
    );
  }
  const existing = root.readFile(CRYPTTAB) ?? Buffer.alloc(0);
  const added = Buffer.from(records.map((r) => r.crypttab).join(""));
  await ctx.log.op(`appending ${records.length} line(s) to "${CRYPTTAB}"`, () =>
    root.writeFileWithParents(CRYPTTAB, { mode: 0o600, uid: 0, gid: 0 }, (sink) => {
      sink.write(existing);
      sink.write(added);
    }),
  );
  for (const r of records) delete r.key;
}
