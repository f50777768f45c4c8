// systemd unit contents parsing with the acceptance rules Ignition applies to `contents` of units
// and drop-ins (go-systemd's unit deserializer). It reports which options exist in which section
// (for the [Install] checks) or why the text is rejected.
//
// Hazard: that deserializer rejects "long lines" by peeking at its 4 KiB read buffer before each
// lexing step, so whether a long line is caught depends on buffer state. The reader below models
// the buffer exactly so the same inputs are accepted and rejected.

/** One `Name=value` assignment and the section it appeared in. */
export interface UnitOption {
  section: string;
  name: string;
  value: string;
}

/** The options of a unit file, or why it does not parse. */
export type UnitParseResult = { ok: true; options: UnitOption[] } | { ok: false; reason: string };

const BUFFER_SIZE = 4096;
const LINE_MAX = 2048;

/** Parses unit file text; never throws. */
export function parseUnitContents(text: string): UnitParseResult {
  return new UnitLexer(new TextEncoder().encode(text)).run();
}

// A model of a buffered reader over an in-memory byte source: [r, w) is what is buffered.
class BufferedBytes {
  r = 0;
  w = 0;
  private eofPending = false;
  private lastRuneSize = -1;
  constructor(readonly src: Uint8Array) {}

  buffered(): number {
    return this.w - this.r;
  }

  private fill(): void {
    // Reading from an in-memory source returns as much as fits, or EOF once exhausted.
    if (this.w >= this.src.length) {
      this.eofPending = true;
      return;
    }
    this.w = Math.min(this.src.length, this.r + BUFFER_SIZE);
  }

  private takeErr(): boolean {
    const e = this.eofPending;
    this.eofPending = false;
    return e;
  }

  /** Next code point and its byte size, or null at end of input. */
  readRune(): { cp: number; size: number } | null {
    while (this.r + 4 > this.w && !fullRune(this.src, this.r, this.w) && !this.eofPending && this.w - this.r < BUFFER_SIZE) this.fill();
    this.lastRuneSize = -1;
    if (this.r === this.w) {
      this.takeErr();
      return null;
    }
    const d = decodeRune(this.src, this.r, this.w);
    this.r += d.size;
    this.lastRuneSize = d.size;
    return d;
  }

  unreadRune(): void {
    if (this.lastRuneSize >= 0) this.r -= this.lastRuneSize;
    this.lastRuneSize = -1;
  }

  /** Bytes up to and including delim; `eof` when the input ended first. */
  readBytes(delim: number): { bytes: Uint8Array; eof: boolean } {
    const start = this.r;
    let scanFrom = this.r;
    for (;;) {
      const i = this.src.subarray(scanFrom, this.w).indexOf(delim);
      if (i >= 0) {
        this.r = scanFrom + i + 1;
        this.lastRuneSize = -1;
        return { bytes: this.src.subarray(start, this.r), eof: false };
      }
      if (this.eofPending) {
        this.r = this.w;
        this.takeErr();
        this.lastRuneSize = -1;
        return { bytes: this.src.subarray(start, this.r), eof: true };
      }
      if (this.buffered() >= BUFFER_SIZE) {
        // Buffer full: the caller keeps collecting; model it as consuming the buffer.
        this.r = this.w;
        scanFrom = this.w;
        this.fill();
        continue;
      }
      scanFrom = this.w;
      this.fill();
    }
  }

  /** True when the next LINE_MAX buffered bytes contain no line break. */
  longLineAhead(): boolean {
    if (this.buffered() < LINE_MAX) return false;
    for (let i = this.r; i < this.r + LINE_MAX; i++) {
      const b = this.src[i]!;
      if (b === 0x0a || b === 0x0d) return false;
    }
    return true;
  }
}

function fullRune(src: Uint8Array, r: number, w: number): boolean {
  if (r >= w) return false;
  return w - r >= runeLength(src[r]!);
}

// Bytes a UTF-8 sequence starting with b claims; 1 for ASCII and invalid lead bytes.
function runeLength(b: number): number {
  if (b < 0xc2) return 1;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  if (b < 0xf5) return 4;
  return 1;
}

function decodeRune(src: Uint8Array, r: number, w: number): { cp: number; size: number } {
  const b = src[r]!;
  if (b < 0x80) return { cp: b, size: 1 };
  const need = runeLength(b);
  if (need === 1 || r + need > w) return { cp: 0xfffd, size: 1 };
  const cp = new TextDecoder().decode(src.subarray(r, r + need)).codePointAt(0) ?? 0xfffd;
  return { cp, size: need };
}

// Unicode white space as Go's unicode.IsSpace defines it.
function isSpace(cp: number): boolean {
  if (cp <= 0xff) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  return cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

const isComment = (cp: number) => cp === 0x23 /* # */ || cp === 0x3b; /* ; */

type Step = (() => Step | null) | null;

class UnitLexer {
  private readonly buf: BufferedBytes;
  private readonly options: UnitOption[] = [];
  private readonly dec = new TextDecoder();
  private error: string | null = null;

  constructor(src: Uint8Array) {
    this.buf = new BufferedBytes(src);
  }

  run(): UnitParseResult {
    let step: Step = () => this.nextSection();
    while (step) {
      if (this.buf.longLineAhead()) return { ok: false, reason: `a line is longer than ${LINE_MAX} bytes` };
      step = step();
      if (this.error !== null) return { ok: false, reason: this.error };
    }
    return { ok: true, options: this.options };
  }

  private fail(reason: string): null {
    this.error = reason;
    return null;
  }

  private toEol(): { line: Uint8Array; eof: boolean } {
    const { bytes, eof } = this.buf.readBytes(0x0a);
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0a) end--;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    return { line: bytes.subarray(0, end), eof };
  }

  private nextSection(): Step {
    const r = this.buf.readRune();
    if (r === null) return null;
    if (r.cp === 0x5b /* [ */) return () => this.sectionName();
    if (isComment(r.cp)) return () => this.ignoreLine(() => this.nextSection());
    return () => this.nextSection();
  }

  private sectionName(): Step {
    const { bytes, eof } = this.buf.readBytes(0x5d /* ] */);
    if (eof) return this.fail("a section header is missing its closing \"]\"");
    const section = this.dec.decode(bytes.subarray(0, bytes.length - 1));
    return () => {
      const { line } = this.toEol();
      if (this.dec.decode(line).trim() !== "") return this.fail(`unexpected text after section header [${section}]`);
      return () => this.nextSectionOrOption(section);
    };
  }

  private ignoreLine(next: () => Step): Step {
    for (;;) {
      const { line } = this.toEol();
      let end = line.length;
      if (end > 0 && line[end - 1] === 0x20) end--;
      if (!(end > 0 && line[end - 1] === 0x5c /* \ */)) break;
    }
    return next;
  }

  private nextSectionOrOption(section: string): Step {
    const r = this.buf.readRune();
    if (r === null) return null;
    if (isSpace(r.cp)) return () => this.nextSectionOrOption(section);
    if (r.cp === 0x5b) return () => this.sectionName();
    if (isComment(r.cp)) return () => this.ignoreLine(() => this.nextSectionOrOption(section));
    this.buf.unreadRune();
    return () => this.optionName(section);
  }

  private optionName(section: string): Step {
    let name = "";
    for (;;) {
      const r = this.buf.readRune();
      if (r === null) return this.fail(`the last line "${name.trim()}" has no "=" (expected Name=value)`);
      if (r.cp === 0x0a || r.cp === 0x0d) return this.fail(`line "${name.trim()}" has no "=" (expected Name=value)`);
      if (r.cp === 0x3d /* = */) break;
      name += String.fromCodePoint(r.cp);
    }
    const trimmed = name.trim();
    return () => this.optionValue(section, trimmed, "");
  }

  private optionValue(section: string, name: string, partial: string): Step {
    const { line, eof } = this.toEol();
    const text = this.dec.decode(line);
    if (text.trim() !== "") {
      partial += text;
      const slash = line.lastIndexOf(0x5c);
      if (slash !== -1 && slash === line.length - 1) {
        if (!eof) partial += "\n";
        return () => this.optionValue(section, name, partial);
      }
    }
    const value = partial.endsWith("\n") ? partial.trim() + "\n" : partial.trim();
    this.options.push({ section, name, value });
    return () => this.nextSectionOrOption(section);
  }
}

/** True when some option belongs to the [Install] section. */
export function hasInstallSection(options: readonly UnitOption[]): boolean {
  return options.some((o) => o.section === "Install");
}
