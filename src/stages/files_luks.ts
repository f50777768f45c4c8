// The LUKS volumes the disks stage made, persisted into the target root as Ignition's files
// stage does: each key file as /etc/luks/<name> (0600; the directory 0700 when it is created;
// an existing key file is an error, never overwritten), and one /etc/crypttab line per volume
// appended to the file (0600). The keys are then dropped from the state, so they live only in
// the target.
import { LUKS_KEY_DIR } from "../disks/luks.ts";
import type { StageContext } from "../executor/stage.ts";
import type { Root } from "../system/root.ts";
import { createHash } from "node:crypto";
import { journalOf } from "../executor/journal.ts";
import { opKey } from "../executor/journal_ops.ts";
import { appendStart } from "./files_journal.ts";

const CRYPTTAB = "/etc/crypttab";

/** Writes the key files and crypttab lines of the recorded LUKS volumes, then forgets the keys. */
export async function writeLuksTargetFiles(ctx: StageContext, root: Root): Promise<void> {
  const records = ctx.state.luks;
  if (records.length === 0) return;
  const journal = journalOf(ctx);
  for (const r of records) {
    if (r.key === undefined) continue;
    const path = `${LUKS_KEY_DIR}/${r.name}`;
    const key = Buffer.from(r.key, "base64");
    const op = opKey.luksKeyFile(r.name);
    const rec = journal.recorded(op);
    const sum = createHash("sha256").update(key).digest("hex");
    const st = root.lstat(path);
    if (rec?.done && st?.isFile() && (st.mode & 0o7777) === 0o600 && createHash("sha256").update(root.readFile(path)!).digest("hex") === sum) {
      ctx.log.info(`key file "${path}": written by the interrupted run and still so`);
      continue;
    }
    // An existing key file is an error, unless it is the interrupted run's own.
    if (st && !rec) throw new Error(`Cannot write the key file "${path}": a file exists there already`);
    if (!rec) await journal.intent(op, { decision: "create" });
    await ctx.log.op(`writing the key file "${path}"`, () =>
      root.writeFileWithParents(path, { mode: 0o600, uid: 0, gid: 0 }, (sink) => sink.write(key), { parentMode: 0o700 }),
    );
    await journal.done(op, { sha256: sum });
  }
  const op = opKey.crypttab();
  const start = appendStart(root, CRYPTTAB, journal.recorded(op));
  if (start === "done") {
    ctx.log.info(`"${CRYPTTAB}": written by the interrupted run and still so`);
  } else {
    if (start.intent) await journal.intent(op, start.intent);
    const existing = start.keep === null ? Buffer.alloc(0) : (root.readFile(CRYPTTAB) ?? Buffer.alloc(0)).subarray(0, start.keep);
    const text = Buffer.concat([existing, Buffer.from(records.map((r) => r.crypttab).join(""))]);
    await ctx.log.op(`appending ${records.length} line(s) to "${CRYPTTAB}"`, () =>
      root.writeFileWithParents(CRYPTTAB, { mode: 0o600, uid: 0, gid: 0 }, (sink) => sink.write(text)),
    );
    await journal.done(op, { sha256: createHash("sha256").update(text).digest("hex") });
  }
  for (const r of records) delete r.key;
}
