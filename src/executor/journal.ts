// The operation journal: what a first boot has done so far, kept so that a boot after a power
// cut resumes the run instead of tripping over its own half-made work (or booting a system
// that is only partly provisioned).
//
// What it holds (format: journal_format.ts): a "begin" record with nexus-init's version, the
// sha256 of the rendered config and of the operations planned for it; then, per operation a
// stage performs, an "intent" record before it changes anything it could not simply do again
// (with what resuming needs: the state it found, a generated key) and a "done" record after
// (with what checking it needs: a table, a filesystem UUID, a file's sha256, mode and owner);
// "resume" when a later boot takes the run over; "complete" just before it is removed.
// Appends are fsync'd: intents before the operation starts, done records of disk operations
// before the next one starts, others within 100 ms (group commit: concurrent operations share
// one fsync). A power cut can only tear the record being written, which is then cut off.
//
// Where it lives: in the top directory of the target's root filesystem, as /.nexus-init-journal
// (journal_home.ts). With `apply` that is the root directory itself. At boot the root is not
// mounted while kargs and disks run: the journal's home is then the root filesystem found by
// its spec (nexus.root=, default LABEL=root), mounted privately for each write and unmounted
// again; every record is also kept in the run directory, /run/nexus/journal, so the stages of
// one boot share it. The disks stage may re-partition the root's disk (the root partition is
// unmounted meanwhile) or re-make the root filesystem itself: the journal is then written
// anew, whole, on the new filesystem at the next record. While no root filesystem exists yet
// (a config that creates it), records wait in the run directory; a power cut before it exists
// leaves no journal, and the next boot starts over, which is safe because only the disks
// stage had run and it converges (partitions already there are kept, a filesystem of its own
// making is re-made before anything was written into it).
//
// Resume or refuse (openJournal): a journal for another config, planned differently, or
// damaged anywhere but its torn last record makes the run refuse before it changes anything;
// otherwise the stages ask recorded(key) before each operation: a done operation that still
// holds is skipped, one that does not is redone from what its records say (disk operations
// whose done record no longer matches the disk refuse instead: their effects were durable
// before the record was). After the last stage the result report is written, then the journal
// is removed: a complete run leaves nothing an uninterrupted one would not.
import type { StageName } from "./names.ts";
import { encodeRecord, FIRST_SUM, parseJournal, type JournalRecord, type RecordBody } from "./journal_format.ts";
import { DirectoryHome, type JournalHome } from "./journal_home.ts";

/** Data an operation records (never secrets in the clear, except a generated LUKS key, see disks). */
export type OpData = Record<string, unknown>;

/** What the journal knows about one operation. */
export interface RecordedOp {
  /** A done record exists. */
  done: boolean;
  /** The data of its intent record, if it had one. */
  intent?: OpData;
  /** The data of its done record. */
  result?: OpData;
}

/** The journal as a stage sees it. */
export interface StageJournal {
  /** True when this run takes over an interrupted one. */
  readonly resuming: boolean;
  /** What was recorded for an operation, by the interrupted run or earlier in this one. */
  recorded(key: string): RecordedOp | undefined;
  /** Records, durably, that an operation is about to change the target. */
  intent(key: string, data?: OpData): Promise<void>;
  /** Records that an operation completed; with `durable`, fsync'd before returning. */
  done(key: string, data?: OpData, opts?: { durable?: boolean }): Promise<void>;
}

/** The journal of a run that keeps none (plan, unit tests): nothing recorded, nothing written. */
export const NO_JOURNAL: StageJournal = {
  resuming: false,
  recorded: () => undefined,
  intent: async () => {},
  done: async () => {},
};

/** The journal a stage should use. */
export function journalOf(ctx: { journal?: StageJournal }): StageJournal {
  return ctx.journal ?? NO_JOURNAL;
}

/** A run that must not go on: the journal and this boot disagree. Carries what and how to recover. */
export class JournalRefusal extends Error {
  constructor(
    /** What does not match. */
    readonly reason: string,
    /** How to recover, for the console. */
    readonly recovery: string,
  ) {
    super(`Cannot resume the interrupted provisioning: ${reason}. To recover: ${recovery}`);
    this.name = "JournalRefusal";
  }
}

/** What identifies a run: a journal for anything else is not resumed. */
export interface RunIdentity {
  version: string;
  /** sha256 of the rendered config. */
  config: string;
  /** sha256 of the planned operations. */
  plan: string;
  /** The planned operation keys. */
  operations: readonly string[];
}

/** How a journal is opened. */
export interface JournalOptions {
  home: JournalHome;
  /** The copy in the run directory shared by the stages of one boot (none for apply). */
  copy?: DirectoryHome;
  identity: RunIdentity;
  /** NEXUS_TEST_CRASH_AFTER_OP is read here. */
  env: Record<string, string | undefined>;
  now(): number;
  /** Called with one line per notable event (resuming, torn record cut off). */
  note(line: string): void;
}

/** How long a record may wait before it is written (and fsync'd) with the next ones. */
const LAZY_MS = 100;

/** The journal of one process; see the file comment. */
export class Journal {
  private buf = Buffer.alloc(4096);
  private len = 0;
  private stored = 0;
  private synced = 0;
  private syncWanted = 0;
  private copied = 0;
  private lastSum = FIRST_SUM;
  private seq = 0;
  private readonly ops = new Map<string, RecordedOp>();
  private pumping: Promise<void> = Promise.resolve();
  private lazy: ReturnType<typeof setTimeout> | null = null;
  private doneCount = 0;
  private readonly crashAfter: number;
  /** An operation was recorded by this process: the journal must be stored. */
  private dirty = false;
  private readonly planned: ReadonlySet<string>;

  private constructor(
    private readonly opts: JournalOptions,
    readonly resuming: boolean,
    records: readonly JournalRecord[],
    /** The bytes those records were read from (kept as they are, so a home holding them stays valid). */
    initial: Uint8Array,
    /** How many of them the home is known to hold. */
    storedBytes: number,
  ) {
    this.planned = new Set(opts.identity.operations);
    for (const r of records) this.add(r);
    this.put(initial);
    this.stored = storedBytes;
    this.synced = storedBytes;
    const n = Number(opts.env.NEXUS_TEST_CRASH_AFTER_OP);
    this.crashAfter = Number.isInteger(n) && n > 0 ? n : 0;
  }

  /** Opens the journal for a run (see openJournal). */
  static async open(opts: JournalOptions): Promise<Journal> {
    // Within one boot, a later stage continues what the first one opened and checked.
    const copied = opts.copy ? await opts.copy.read() : null;
    if (copied && copied.length > 0) {
      const p = parseJournal(copied);
      if (p.ok && p.records.length > 0) {
        const j = new Journal(opts, p.records.some((r) => r.t === "resume"), p.records, copied.subarray(0, p.goodBytes), 0);
        j.copied = p.goodBytes;
        return j;
      }
    }
    const found = await opts.home.read();
    const where = opts.home.describe();
    if (found === null || found === "unavailable" || found.length === 0) return Journal.fresh(opts);
    const p = parseJournal(found);
    if (!p.ok) {
      throw new JournalRefusal(
        `the journal ${where} is damaged (${p.problem})`,
        `reimage the disk and provision again; deleting ${where} provisions over what the interrupted run left, at your own risk`,
      );
    }
    const last = p.records[p.records.length - 1];
    if (!last || last.t === "complete") return Journal.fresh(opts);
    const begin = p.records[0] as JournalRecord & { t: "begin" };
    const id = opts.identity;
    const startOver = `boot with the config of the interrupted run to finish it, or reimage the disk and provision again; deleting ${where} provisions over what the interrupted run left, at your own risk`;
    if (begin.config !== id.config) {
      throw new JournalRefusal(`the interrupted run recorded in ${where} applied another config (${begin.config.slice(0, 23)}…, this one is ${id.config.slice(0, 23)}…)`, startOver);
    }
    if (begin.plan !== id.plan) {
      throw new JournalRefusal(
        `the interrupted run recorded in ${where} (nexus-init ${begin.version}) planned other operations than this nexus-init ${id.version} plans for the same config`,
        `finish it with nexus-init ${begin.version}, or ${startOver}`,
      );
    }
    const planned = new Set(id.operations);
    const stray = p.records.find((r) => (r.t === "intent" || r.t === "done") && !planned.has(r.key));
    if (stray && (stray.t === "intent" || stray.t === "done")) {
      throw new JournalRefusal(`the journal ${where} records operation "${stray.key}", which the config does not plan`, startOver);
    }
    if (p.torn) opts.note(`journal: the last record of ${where} was torn by the interruption and is cut off`);
    const j = new Journal(opts, true, p.records, found.subarray(0, p.goodBytes), p.goodBytes);
    const done = [...j.ops.values()].filter((o) => o.done).length;
    const started = [...j.ops.values()].filter((o) => !o.done).length;
    opts.note(`journal: resuming the run interrupted after ${done} operation(s)${started ? ` (${started} begun but not finished)` : ""}, recorded in ${where}`);
    // Stored with the first operation this run records: a run that refuses later (a disk
    // changed since) leaves the journal exactly as it found it.
    j.append({ t: "resume", version: id.version, at: new Date(opts.now()).toISOString() });
    return j;
  }

  private static fresh(opts: JournalOptions): Journal {
    const j = new Journal(opts, false, [], new Uint8Array(0), 0);
    const id = opts.identity;
    j.append({ t: "begin", tool: "nexus-init", version: id.version, config: id.config, plan: id.plan, ops: id.operations.length, at: new Date(opts.now()).toISOString() });
    return j;
  }

  /** Notes a record in the per-operation view. */
  private add(r: JournalRecord): void {
    this.seq = r.seq;
    this.lastSum = r.sum;
    if (r.t !== "intent" && r.t !== "done") return;
    const op = this.ops.get(r.key) ?? { done: false };
    if (r.t === "intent") this.ops.set(r.key, { done: false, intent: r.data ?? {} });
    else this.ops.set(r.key, { ...op, done: true, result: r.data ?? {} });
  }

  private put(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (this.len + bytes.length > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + bytes.length));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private append(body: RecordBody): void {
    const { line, record } = encodeRecord(this.lastSum, this.seq + 1, body);
    this.put(line);
    this.add(record);
  }

  /** What is recorded for an operation. */
  recorded(key: string): RecordedOp | undefined {
    return this.ops.get(key);
  }

  private checkPlanned(key: string): void {
    if (!this.planned.has(key)) throw new Error(`Cannot journal operation "${key}": it is not among the planned operations`);
  }

  /** Records an intent, durably. */
  async intent(stage: StageName, key: string, data?: OpData): Promise<void> {
    this.checkPlanned(key);
    this.dirty = true;
    this.append({ t: "intent", stage, key, ...(data ? { data } : {}) });
    await this.flush();
  }

  /** Records a completed operation (durably with `durable`, else within LAZY_MS). */
  async done(stage: StageName, key: string, data?: OpData, durable = false): Promise<void> {
    this.checkPlanned(key);
    this.dirty = true;
    this.append({ t: "done", stage, key, ...(data ? { data } : {}) });
    this.doneCount++;
    if (this.crashAfter > 0 && this.doneCount === this.crashAfter) await this.crash();
    if (durable) await this.flush();
    else this.lazy ??= setTimeout(() => void this.flush().catch(() => {}), LAZY_MS);
  }

  /** The test-only fault point: everything recorded is stored, then the process dies at once. */
  private async crash(): Promise<never> {
    await this.flush();
    process.kill(process.pid, "SIGKILL");
    return new Promise<never>(() => {});
  }

  /** Stores everything recorded so far, durably. */
  flush(): Promise<void> {
    if (this.lazy) {
      clearTimeout(this.lazy);
      this.lazy = null;
    }
    this.syncWanted = this.len;
    const run = this.pumping.catch(() => {}).then(() => this.pumpOnce());
    this.pumping = run;
    return run;
  }

  /** One store of what is not stored yet; the first of concurrent flushes does everyone's work. */
  private async pumpOnce(): Promise<void> {
    // A journal is written only once this process records an operation: a run that changes
    // nothing leaves none, or leaves the interrupted run's as it was.
    if (!this.dirty) return;
    const upto = this.len;
    if (this.stored >= upto && this.synced >= this.syncWanted && this.copied >= upto) return;
    const text = this.buf.subarray(0, upto);
    if (this.opts.copy && this.copied < upto) {
      await this.opts.copy.store(text, this.copied, false);
      this.copied = upto;
    }
    if (this.stored >= upto && this.synced >= this.syncWanted) return;
    const sync = this.synced < this.syncWanted;
    if (!(await this.opts.home.store(text, this.stored, sync))) return;
    this.stored = upto;
    if (sync) this.synced = upto;
  }

  /** Ends a successful run: a last record, then the journal is removed (and its copy). */
  async complete(): Promise<void> {
    if (!this.dirty && !this.resuming && !this.copied) return;
    this.dirty = true;
    this.append({ t: "complete", at: new Date(this.opts.now()).toISOString() });
    await this.flush();
    await this.opts.home.remove();
    await this.opts.copy?.remove();
  }

  /** A view of the journal for one stage. */
  forStage(stage: StageName): StageJournal {
    return {
      resuming: this.resuming,
      recorded: (key) => this.recorded(key),
      intent: (key, data) => this.intent(stage, key, data),
      done: (key, data, opts) => this.done(stage, key, data, opts?.durable === true),
    };
  }
}

