// The journal's on-disk format: one record per line, each line
//
//     NXJ1 <seq> <sum> <json>\n
//
// where <seq> counts records from 1, <json> is the record body (JSON.stringify: never a raw
// newline) and <sum> is the first 16 hex digits of sha256("<previous sum> <seq> <json>"),
// the first record chaining from sixteen zeros. The chain makes every record vouch for all
// before it: a record that was changed, dropped or moved breaks every sum after it. A power
// cut can only tear the record being appended, so a bad *last* line (no newline, a wrong sum,
// zeros left by delayed allocation) is a torn record and is cut off; a bad line followed by a
// good-looking one means the journal is damaged. Pure.
import { createHash } from "node:crypto";
import type { StageName } from "./names.ts";

/** The first word of every line: format version 1. */
export const RECORD_MAGIC = "NXJ1";
/** The sum the first record chains from. */
export const FIRST_SUM = "0".repeat(16);

/** What a record says. */
export type RecordBody =
  | {
      /** The journal's first record: the run it belongs to. */
      t: "begin";
      tool: "nexus-init";
      /** nexus-init's version. */
      version: string;
      /** sha256 of the rendered config (canonical JSON). */
      config: string;
      /** sha256 of the operations planned for it (see plannedOperations). */
      plan: string;
      /** How many operations were planned. */
      ops: number;
      at: string;
    }
  | { t: "resume"; version: string; at: string }
  | {
      /** An operation is about to change the target; data says what resuming needs to know. */
      t: "intent";
      stage: StageName;
      key: string;
      data?: Record<string, unknown>;
    }
  | {
      /** An operation completed; data says what checking it against the target needs. */
      t: "done";
      stage: StageName;
      key: string;
      data?: Record<string, unknown>;
    }
  | { t: "complete"; at: string };

/** A record as read back: its body, sequence number and sum. */
export type JournalRecord = RecordBody & { seq: number; sum: string };

/** The chained sum of one record. */
export function recordSum(prev: string, seq: number, json: string): string {
  return createHash("sha256").update(`${prev} ${seq} ${json}`).digest("hex").slice(0, 16);
}

/** Encodes one record after the record with sum `prev`. */
export function encodeRecord(prev: string, seq: number, body: RecordBody): { line: string; record: JournalRecord } {
  const json = JSON.stringify(body);
  const sum = recordSum(prev, seq, json);
  return { line: `${RECORD_MAGIC} ${seq} ${sum} ${json}\n`, record: { ...body, seq, sum } as JournalRecord };
}

/** A parsed journal: its records, and where a torn last record starts (then cut it there). */
export type ParsedJournal =
  | { ok: true; records: JournalRecord[]; goodBytes: number; torn: boolean }
  | { ok: false; problem: string };

const isRecordKind = (t: unknown): t is RecordBody["t"] => t === "begin" || t === "resume" || t === "intent" || t === "done" || t === "complete";

/** Parses one line (without its newline) after the record with sum `prev`; a reason when it is not a valid record. */
function parseLine(line: string, seq: number, prev: string): JournalRecord | string {
  const parts = /^NXJ1 (\d+) ([0-9a-f]{16}) (\{.*\})$/.exec(line);
  if (!parts) return "it is not a journal record";
  if (Number(parts[1]) !== seq) return `it is numbered ${parts[1]}, expected ${seq}`;
  if (recordSum(prev, seq, parts[3]!) !== parts[2]) return "its checksum does not match";
  let body: RecordBody;
  try {
    body = JSON.parse(parts[3]!) as RecordBody;
  } catch {
    return "its body is not JSON";
  }
  if (!isRecordKind(body?.t)) return "its kind is unknown";
  if ((body.t === "intent" || body.t === "done") && typeof body.key !== "string") return "it names no operation";
  return { ...body, seq, sum: parts[2]! } as JournalRecord;
}

/** Parses a whole journal file (see the file comment for what counts as torn and as damaged). */
export function parseJournal(bytes: Uint8Array): ParsedJournal {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const records: JournalRecord[] = [];
  let prev = FIRST_SUM;
  let offset = 0;
  let goodBytes = 0;
  while (offset < text.length) {
    const nl = text.indexOf("\n", offset);
    const line = text.slice(offset, nl === -1 ? text.length : nl);
    const parsed = nl === -1 ? "it is not complete" : parseLine(line, records.length + 1, prev);
    if (typeof parsed === "string") {
      // Torn only if nothing that looks like a record follows.
      const rest = nl === -1 ? "" : text.slice(nl + 1);
      if (/(^|\n)NXJ1 /.test(rest)) return { ok: false, problem: `record ${records.length + 1} is damaged: ${parsed}` };
      return finish(records, goodBytes, true);
    }
    records.push(parsed);
    prev = parsed.sum;
    offset = nl + 1;
    goodBytes = Buffer.byteLength(text.slice(0, offset));
  }
  return finish(records, goodBytes, false);
}

function finish(records: JournalRecord[], goodBytes: number, torn: boolean): ParsedJournal {
  if (records.length === 0) return torn ? { ok: true, records, goodBytes: 0, torn } : { ok: true, records, goodBytes, torn };
  if (records[0]!.t !== "begin") return { ok: false, problem: "its first record does not begin a run" };
  return { ok: true, records, goodBytes, torn };
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** "sha256:<hex>" of a string. */
export function sha256Text(text: string): string {
  return "sha256:" + createHash("sha256").update(text).digest("hex");
}
