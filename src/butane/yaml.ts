// YAML reader for Butane configs. Butane reads YAML with go-yaml v3, whose scanner and parser
// follow libyaml's token algorithm — including where it departs from the YAML 1.2 spec (tabs,
// `\/`, `%YAML 1.2`, `|#comment`, a two-token lookahead past the first document). To read every
// config exactly as Butane does, this reader follows the same algorithm: a scanner producing
// tokens (simple keys, indentation levels), a recursive parser over them, and a node tree that
// keeps each node's position and raw scalar text; `resolve.ts` then types scalars as go-yaml
// does. Errors carry go-yaml's message (`yaml: line N: problem`, with its line quirks) and the
// real line and column. Only the first document of a stream is read, as go-yaml's Unmarshal does.
// The conformance test compares it with go-yaml on the YAML test suite (test/conformance/yaml).

/** How a scalar was written; quoted and block scalars are always strings. */
export type ScalarStyle = "plain" | "single" | "double" | "literal" | "folded";

interface NodeBase {
  /** 1-based line of the node's first character (its anchor or tag when it has one). */
  line: number;
  /** 1-based column of the node's first character. */
  col: number;
  /** Explicit tag with go-yaml's short form (`!!str` for `tag:yaml.org,2002:str`); never `!`. */
  tag?: string;
  anchor?: string;
}

/** A scalar: `value` is the text after unescaping and folding. */
export interface YamlScalar extends NodeBase {
  kind: "scalar";
  value: string;
  style: ScalarStyle;
}

/** One `key: value` entry of a mapping. */
export interface YamlPair {
  key: YamlNode;
  value: YamlNode;
}

/** A mapping, entries in document order (duplicates are kept; the decoder rejects them). */
export interface YamlMap extends NodeBase {
  kind: "map";
  pairs: YamlPair[];
}

/** A sequence. */
export interface YamlSeq extends NodeBase {
  kind: "seq";
  items: YamlNode[];
}

/** An alias (`*name`) and the anchored node it stands for. */
export interface YamlAlias extends NodeBase {
  kind: "alias";
  name: string;
  target: YamlNode;
}

/** Any node of the tree. */
export type YamlNode = YamlScalar | YamlMap | YamlSeq | YamlAlias;

/** A syntax error: go-yaml's message, and the 1-based line and column where reading stopped. */
export interface YamlError {
  message: string;
  line: number;
  col: number;
}

/** The first document's root node (null for an empty stream), or the syntax error. */
export type YamlResult = { ok: true; root: YamlNode | null } | { ok: false; error: YamlError };

/** Parses YAML text; never throws on bad input. */
export function parseYaml(text: string): YamlResult {
  try {
    return { ok: true, root: new Parser(new Scanner(text)).parseFirstDocument() };
  } catch (e) {
    if (e instanceof YamlFailure) return { ok: false, error: e.toYamlError() };
    throw e;
  }
}

/** Follows aliases to the node they stand for. */
export function derefYaml(node: YamlNode): Exclude<YamlNode, YamlAlias> {
  let n = node;
  while (n.kind === "alias") n = n.target;
  return n;
}

// ---- errors ------------------------------------------------------------------------------

/** A position: character index, 0-based line and column (libyaml's marks). */
interface Mark {
  index: number;
  line: number;
  column: number;
}

const NO_MARK: Mark = { index: 0, line: 0, column: 0 };

// go-yaml prints the line of the error's context (a collection's or a scalar's start) when it
// is not the first line, else the line of the problem, else none; scanner errors count lines
// from 1, parser errors from 0. We print the same so messages match Butane's.
class YamlFailure extends Error {
  constructor(
    readonly problem: string,
    readonly kind: "scanner" | "parser" | "plain",
    readonly contextMark: Mark,
    readonly problemMark: Mark,
  ) {
    super(problem);
  }
  toYamlError(): YamlError {
    const bump = this.kind === "scanner" ? 1 : 0;
    let line = 0;
    if (this.kind !== "plain") {
      if (this.contextMark.line !== 0) line = this.contextMark.line + bump;
      else if (this.problemMark.line !== 0) line = this.problemMark.line + bump;
    }
    const where = line !== 0 ? `line ${line}: ` : "";
    return { message: `yaml: ${where}${this.problem}`, line: this.problemMark.line + 1, col: this.problemMark.column + 1 };
  }
}

// ---- tokens ------------------------------------------------------------------------------

const T = {
  StreamStart: 0,
  StreamEnd: 1,
  VersionDirective: 2,
  TagDirective: 3,
  DocumentStart: 4,
  DocumentEnd: 5,
  BlockSequenceStart: 6,
  BlockMappingStart: 7,
  BlockEnd: 8,
  FlowSequenceStart: 9,
  FlowSequenceEnd: 10,
  FlowMappingStart: 11,
  FlowMappingEnd: 12,
  BlockEntry: 13,
  FlowEntry: 14,
  Key: 15,
  Value: 16,
  Alias: 17,
  Anchor: 18,
  Tag: 19,
  Scalar: 20,
} as const;
type TokenType = (typeof T)[keyof typeof T];

interface Token {
  type: TokenType;
  start: Mark;
  end: Mark;
  /** Scalar text, anchor or alias name, tag or directive handle. */
  value?: string;
  /** Tag suffix, or %TAG prefix. */
  suffix?: string;
  style?: ScalarStyle;
  major?: number;
  minor?: number;
}

interface SimpleKey {
  possible: boolean;
  required: boolean;
  tokenNumber: number;
  mark: Mark;
}

const isBreak = (c: string) => c === "\n" || c === "\r" || c === "\x85" || c === "\u2028" || c === "\u2029";
const isBlank = (c: string) => c === " " || c === "\t";
const isBreakz = (c: string) => c === "\0" || isBreak(c);
const isBlankz = (c: string) => isBlank(c) || isBreakz(c);
const isAlpha = (c: string) => (c >= "0" && c <= "9") || (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c === "_" || c === "-";
const isDigit = (c: string) => c >= "0" && c <= "9";
const isHex = (c: string) => isDigit(c) || (c >= "A" && c <= "F") || (c >= "a" && c <= "f");
const URI_CHARS = ";/?:@&=+$,.!~*'()[]%";
// Characters go-yaml's reader refuses anywhere in the input.
const FORBIDDEN = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const MAX_DEPTH = 10000;
// How far go-yaml looks ahead for comments (its peek limit, in characters).
const COMMENT_PEEK = 512;

const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "'": "'",
  "\\": "\\",
  N: "\x85",
  _: "\xa0",
  L: "\u2028",
  P: "\u2029",
};

/** Blanks and line breaks read between the words of a flow or plain scalar. */
interface Gap {
  whitespaces: string;
  leadingBreak: string;
  trailingBreaks: string;
  /** A line break was read (the words are on different lines). */
  leadingBlanks: boolean;
}

function newGap(): Gap {
  return { whitespaces: "", leadingBreak: "", trailingBreaks: "", leadingBlanks: false };
}

/** A gap as the scalar's text: blanks kept on one line, one break folded to a space. */
function foldGap(gap: Gap): string {
  let out: string;
  if (gap.leadingBlanks) {
    out = gap.leadingBreak.startsWith("\n") ? (gap.trailingBreaks === "" ? " " : gap.trailingBreaks) : gap.leadingBreak + gap.trailingBreaks;
  } else {
    out = gap.whitespaces;
  }
  gap.whitespaces = gap.leadingBreak = gap.trailingBreaks = "";
  gap.leadingBlanks = false;
  return out;
}

/** Turns text into tokens on demand, as libyaml's scanner does (`peek`, `skip`). */
class Scanner {
  private readonly src: string;
  private pos = 0;
  private line = 0;
  private col = 0;
  /** Line breaks since the last other character (line comments only follow a token directly). */
  private newlines = 0;
  /** Tokens not yet handed out (and a few before); tokens[i] is token number base + i. */
  private tokens: Token[] = [];
  private base = 0;
  /** Number of the next token to hand out. */
  private head = 0;
  private available = false;
  private streamStartProduced = false;
  private flowLevel = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private simpleKeyAllowed = false;
  private readonly simpleKeys: SimpleKey[] = [];
  /** Simple keys (their index in simpleKeys) by the number of their first token. */
  private readonly keysByToken = new Map<number, number>();

  constructor(text: string) {
    this.src = text.startsWith("\uFEFF") ? text.slice(1) : text;
    const bad = FORBIDDEN.exec(this.src);
    if (bad) {
      const m = this.markAt(bad.index);
      throw new YamlFailure("control characters are not allowed", "plain", NO_MARK, m);
    }
  }

  private markAt(index: number): Mark {
    let line = 0;
    let start = 0;
    for (let i = 0; i < index; i++) {
      if (this.src[i] === "\n") {
        line++;
        start = i + 1;
      }
    }
    return { index, line, column: index - start };
  }

  // ---- characters ----

  private ch(offset = 0): string {
    return this.src[this.pos + offset] ?? "\0";
  }

  private mark(): Mark {
    return { index: this.pos, line: this.line, column: this.col };
  }

  private skip(): void {
    const code = this.src.charCodeAt(this.pos);
    this.pos += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    this.col++;
    this.newlines = 0;
  }

  /** Moves to `to` on the current line (no line breaks in between). */
  private skipTo(to: number): void {
    this.col += to - this.pos;
    this.pos = to;
    this.newlines = 0;
  }

  /** The end of the current line's content (the index of its break, or of the input's end). */
  private lineEnd(): number {
    const src = this.src;
    let p = this.pos;
    for (;;) {
      const c = src.charCodeAt(p);
      if (c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029 || Number.isNaN(c)) return p;
      p++;
    }
  }

  private skipLine(): void {
    if (this.ch() === "\r" && this.ch(1) === "\n") this.pos += 2;
    else if (isBreak(this.ch())) this.pos++;
    else return;
    this.col = 0;
    this.line++;
    this.newlines++;
  }

  /** Consumes one character and returns it. */
  private read(): string {
    const start = this.pos;
    this.skip();
    return this.src.slice(start, this.pos);
  }

  /** Consumes a line break; CR, CRLF and NEL read as LF. */
  private readLine(): string {
    const c = this.ch();
    this.skipLine();
    return c === "\u2028" || c === "\u2029" ? c : "\n";
  }

  private fail(context: Mark, problem: string): never {
    throw new YamlFailure(problem, "scanner", context, this.mark());
  }

  // ---- the token queue ----

  /** The next token (scanning as far as go-yaml does before handing it out). */
  peek(): Token {
    if (!this.available) this.fetchMoreTokens();
    return this.tokens[this.head - this.base]!;
  }

  /** Consumes the token `peek` returned. */
  skipToken(): void {
    this.available = false;
    this.head++;
    // Drop tokens handed out long ago, so that insertions stay cheap.
    if (this.head - this.base > 256) {
      this.tokens = this.tokens.slice(this.head - this.base);
      this.base = this.head;
    }
  }

  /** Number the next token pushed will get. */
  private get count(): number {
    return this.base + this.tokens.length;
  }

  private insert(at: number, token: Token): void {
    if (at < 0 || at >= this.count) this.tokens.push(token);
    else this.tokens.splice(at - this.base, 0, token);
  }

  private fetchMoreTokens(): void {
    for (;;) {
      // go-yaml keeps two tokens beyond the head, more while the head may still be a simple key.
      if (this.head < this.count - 2) {
        const k = this.keysByToken.get(this.head);
        if (k === undefined || !this.simpleKeyIsValid(this.simpleKeys[k]!)) break;
      }
      this.fetchNextToken();
    }
    this.available = true;
  }

  private fetchNextToken(): void {
    if (!this.streamStartProduced) {
      this.indent = -1;
      this.simpleKeys.push({ possible: false, required: false, tokenNumber: 0, mark: this.mark() });
      this.simpleKeyAllowed = true;
      this.streamStartProduced = true;
      this.push(T.StreamStart, this.mark(), this.mark());
      return;
    }
    const scanPos = this.pos;
    const scanLine = this.line;
    const scanCol = this.col;
    this.scanToNextToken();
    if (this.indent > this.col && this.flowLevel === 0) this.unrollIndent(this.col, { index: scanPos, line: scanLine, column: scanCol });
    const c = this.ch();
    if (c === "\0" && this.pos >= this.src.length) return this.fetchStreamEnd();
    if (this.col === 0) {
      if (c === "%") return this.fetchDirective();
      const three = this.src.slice(this.pos, this.pos + 3);
      if ((three === "---" || three === "...") && isBlankz(this.ch(3))) {
        return this.fetchDocumentIndicator(three === "---" ? T.DocumentStart : T.DocumentEnd);
      }
    }
    this.fetchContentToken(c);
    if (this.tokens[this.tokens.length - 1]!.type !== T.BlockEntry) this.skipLineComment();
  }

  private fetchContentToken(c: string): void {
    const n = this.ch(1);
    switch (c) {
      case "[":
        return this.fetchFlowCollectionStart(T.FlowSequenceStart);
      case "{":
        return this.fetchFlowCollectionStart(T.FlowMappingStart);
      case "]":
        return this.fetchFlowCollectionEnd(T.FlowSequenceEnd);
      case "}":
        return this.fetchFlowCollectionEnd(T.FlowMappingEnd);
      case ",":
        return this.fetchFlowEntry();
      case "*":
        return this.fetchAnchor(T.Alias);
      case "&":
        return this.fetchAnchor(T.Anchor);
      case "!":
        return this.fetchTag();
      case "'":
      case '"':
        return this.fetchFlowScalar(c === "'");
    }
    if (c === "-" && isBlankz(n)) return this.fetchBlockEntry();
    if (c === "?" && (this.flowLevel > 0 || isBlankz(n))) return this.fetchKey();
    if (c === ":" && (this.flowLevel > 0 || isBlankz(n))) return this.fetchValue();
    if ((c === "|" || c === ">") && this.flowLevel === 0) return this.fetchBlockScalar(c === "|");
    if (
      !(isBlankz(c) || "-?:,[]{}#&*!|>'\"%@`".includes(c)) ||
      (c === "-" && !isBlank(n)) ||
      (this.flowLevel === 0 && (c === "?" || c === ":") && !isBlankz(n))
    ) {
      return this.fetchPlainScalar();
    }
    this.fail(this.mark(), "found character that cannot start any token");
  }

  private push(type: TokenType, start: Mark, end: Mark, value?: string, suffix?: string): void {
    this.tokens.push({ type, start, end, value, suffix });
  }

  // ---- simple keys and indentation ----

  private simpleKeyIsValid(k: SimpleKey): boolean {
    if (!k.possible) return false;
    if (k.mark.line < this.line || k.mark.index + 1024 < this.pos) {
      if (k.required) this.fail(k.mark, "could not find expected ':'");
      k.possible = false;
      return false;
    }
    return true;
  }

  private saveSimpleKey(): void {
    if (!this.simpleKeyAllowed) return;
    const key: SimpleKey = {
      possible: true,
      required: this.flowLevel === 0 && this.indent === this.col,
      tokenNumber: this.count,
      mark: this.mark(),
    };
    this.removeSimpleKey();
    this.simpleKeys[this.simpleKeys.length - 1] = key;
    this.keysByToken.set(key.tokenNumber, this.simpleKeys.length - 1);
  }

  private removeSimpleKey(): void {
    const k = this.simpleKeys[this.simpleKeys.length - 1]!;
    if (!k.possible) return;
    if (k.required) this.fail(k.mark, "could not find expected ':'");
    k.possible = false;
    this.keysByToken.delete(k.tokenNumber);
  }

  private increaseFlowLevel(): void {
    this.simpleKeys.push({ possible: false, required: false, tokenNumber: this.count, mark: this.mark() });
    this.flowLevel++;
    if (this.flowLevel > MAX_DEPTH) this.fail(this.simpleKeys[this.simpleKeys.length - 1]!.mark, `exceeded max depth of ${MAX_DEPTH}`);
  }

  private decreaseFlowLevel(): void {
    if (this.flowLevel === 0) return;
    this.flowLevel--;
    this.keysByToken.delete(this.simpleKeys.pop()!.tokenNumber);
  }

  private rollIndent(column: number, at: number, type: TokenType, mark: Mark): void {
    if (this.flowLevel > 0 || this.indent >= column) return;
    this.indents.push(this.indent);
    this.indent = column;
    if (this.indents.length > MAX_DEPTH) this.fail(this.simpleKeys[this.simpleKeys.length - 1]!.mark, `exceeded max depth of ${MAX_DEPTH}`);
    this.insert(at, { type, start: mark, end: mark });
  }

  private unrollIndent(column: number, scanMark: Mark): void {
    if (this.flowLevel > 0) return;
    const mark = { ...scanMark, index: scanMark.index - 1 };
    while (this.indent > column) {
      this.push(T.BlockEnd, mark, mark);
      this.indent = this.indents.pop()!;
    }
  }

  // ---- whitespace and comments ----

  private scanToNextToken(): void {
    for (;;) {
      if (this.col === 0 && this.ch() === "\uFEFF") this.skip();
      while (this.ch() === " " || ((this.flowLevel > 0 || !this.simpleKeyAllowed) && this.ch() === "\t")) this.skip();
      if (this.ch() === "#") this.skipComments();
      if (!isBreak(this.ch())) return;
      this.skipLine();
      if (this.flowLevel === 0) this.simpleKeyAllowed = true;
    }
  }

  // go-yaml reads a comment together with the comment lines after it (to attach them to nodes),
  // skipping whatever blanks, tabs and empty lines lie between them.
  private skipComments(): void {
    for (;;) {
      this.skipTo(this.lineEnd());
      let p = this.pos;
      let found = -1;
      for (let peek = 0; peek < COMMENT_PEEK; peek++, p++) {
        const c = this.src[p] ?? "\0";
        if (isBlank(c) || isBreak(c)) continue;
        if (c === "#") found = p;
        break;
      }
      if (found < 0) return;
      while (this.pos < found) {
        if (isBreak(this.ch())) this.skipLine();
        else this.skip();
      }
    }
  }

  // After most tokens go-yaml reads a comment on the same line right away, blanks and tabs before
  // it included.
  private skipLineComment(): void {
    if (this.newlines > 0) return;
    for (let p = this.pos; p - this.pos < COMMENT_PEEK; p++) {
      const c = this.src[p] ?? "\0";
      if (isBlank(c)) continue;
      if (c !== "#") return;
      while (this.pos < p) this.skip();
      while (!isBreakz(this.ch())) this.skip();
      return;
    }
  }

  // ---- fetching tokens ----

  private fetchStreamEnd(): void {
    if (this.col !== 0) {
      this.col = 0;
      this.line++;
    }
    this.unrollIndent(-1, this.mark());
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    this.push(T.StreamEnd, this.mark(), this.mark());
  }

  private fetchDirective(): void {
    this.unrollIndent(-1, this.mark());
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    this.tokens.push(this.scanDirective());
  }

  private fetchDocumentIndicator(type: TokenType): void {
    this.unrollIndent(-1, this.mark());
    this.removeSimpleKey();
    this.simpleKeyAllowed = false;
    const start = this.mark();
    this.skip();
    this.skip();
    this.skip();
    this.push(type, start, this.mark());
  }

  private fetchFlowCollectionStart(type: TokenType): void {
    this.saveSimpleKey();
    this.increaseFlowLevel();
    this.simpleKeyAllowed = true;
    this.fetchIndicator(type);
  }

  private fetchFlowCollectionEnd(type: TokenType): void {
    this.removeSimpleKey();
    this.decreaseFlowLevel();
    this.simpleKeyAllowed = false;
    this.fetchIndicator(type);
  }

  private fetchFlowEntry(): void {
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    this.fetchIndicator(T.FlowEntry);
  }

  private fetchIndicator(type: TokenType): void {
    const start = this.mark();
    this.skip();
    this.push(type, start, this.mark());
  }

  private fetchBlockEntry(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) this.fail(this.mark(), "block sequence entries are not allowed in this context");
      this.rollIndent(this.col, -1, T.BlockSequenceStart, this.mark());
    }
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    this.fetchIndicator(T.BlockEntry);
  }

  private fetchKey(): void {
    if (this.flowLevel === 0) {
      if (!this.simpleKeyAllowed) this.fail(this.mark(), "mapping keys are not allowed in this context");
      this.rollIndent(this.col, -1, T.BlockMappingStart, this.mark());
    }
    this.removeSimpleKey();
    this.simpleKeyAllowed = this.flowLevel === 0;
    this.fetchIndicator(T.Key);
  }

  private fetchValue(): void {
    const key = this.simpleKeys[this.simpleKeys.length - 1]!;
    if (this.simpleKeyIsValid(key)) {
      this.insert(key.tokenNumber, { type: T.Key, start: key.mark, end: key.mark });
      this.rollIndent(key.mark.column, key.tokenNumber, T.BlockMappingStart, key.mark);
      key.possible = false;
      this.keysByToken.delete(key.tokenNumber);
      this.simpleKeyAllowed = false;
    } else {
      if (this.flowLevel === 0) {
        if (!this.simpleKeyAllowed) this.fail(this.mark(), "mapping values are not allowed in this context");
        this.rollIndent(this.col, -1, T.BlockMappingStart, this.mark());
      }
      this.simpleKeyAllowed = this.flowLevel === 0;
    }
    this.fetchIndicator(T.Value);
  }

  private fetchAnchor(type: TokenType): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    const start = this.mark();
    this.skip();
    const from = this.pos;
    while (isAlpha(this.ch())) this.skip();
    const name = this.src.slice(from, this.pos);
    const end = this.mark();
    if (name === "" || !(isBlankz(this.ch()) || "?:,]}%@`".includes(this.ch()))) {
      this.fail(start, "did not find expected alphabetic or numeric character");
    }
    this.push(type, start, end, name);
  }

  private fetchTag(): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    const start = this.mark();
    let handle = "";
    let suffix: string;
    if (this.ch(1) === "<") {
      this.skip();
      this.skip();
      suffix = this.scanTagUri(false, "", start);
      if (this.ch() !== ">") this.fail(start, "did not find the expected '>'");
      this.skip();
    } else {
      handle = this.scanTagHandle(false, start);
      if (handle.length > 1 && handle.endsWith("!")) {
        suffix = this.scanTagUri(false, "", start);
      } else {
        suffix = this.scanTagUri(false, handle, start);
        handle = "!";
        if (suffix === "") [handle, suffix] = ["", "!"];
      }
    }
    if (!isBlankz(this.ch())) this.fail(start, "did not find expected whitespace or line break");
    this.push(T.Tag, start, this.mark(), handle, suffix);
  }

  private scanTagHandle(directive: boolean, start: Mark): string {
    if (this.ch() !== "!") this.fail(start, "did not find expected '!'");
    let s = this.read();
    while (isAlpha(this.ch())) s += this.read();
    if (this.ch() === "!") s += this.read();
    else if (directive && s !== "!") this.fail(start, "did not find expected '!'");
    return s;
  }

  /** A tag's URI part; `head` is a handle read before that turned out to be part of it. */
  private scanTagUri(directive: boolean, head: string, start: Mark): string {
    let s = head.slice(1);
    let hasTag = head.length > 0;
    for (;;) {
      const c = this.ch();
      if (!(isAlpha(c) || URI_CHARS.includes(c))) break;
      s += c === "%" ? this.scanUriEscapes(directive, start) : this.read();
      hasTag = true;
    }
    if (!hasTag) this.fail(start, "did not find expected tag URI");
    return s;
  }

  private scanUriEscapes(directive: boolean, start: Mark): string {
    void directive;
    const bytes: number[] = [];
    let want = -1;
    while (want !== 0) {
      if (!(this.ch() === "%" && isHex(this.ch(1)) && isHex(this.ch(2)))) this.fail(start, "did not find URI escaped octet");
      const octet = parseInt(this.src.slice(this.pos + 1, this.pos + 3), 16);
      if (want < 0) {
        want = (octet & 0x80) === 0 ? 1 : (octet & 0xe0) === 0xc0 ? 2 : (octet & 0xf0) === 0xe0 ? 3 : (octet & 0xf8) === 0xf0 ? 4 : 0;
        if (want === 0) this.fail(start, "found an incorrect leading UTF-8 octet");
      } else if ((octet & 0xc0) !== 0x80) {
        this.fail(start, "found an incorrect trailing UTF-8 octet");
      }
      bytes.push(octet);
      this.skip();
      this.skip();
      this.skip();
      want--;
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }

  private scanDirective(): Token {
    const start = this.mark();
    this.skip();
    const from = this.pos;
    while (isAlpha(this.ch())) this.skip();
    const name = this.src.slice(from, this.pos);
    if (name === "") this.fail(start, "could not find expected directive name");
    if (!isBlankz(this.ch())) this.fail(start, "found unexpected non-alphabetical character");
    let token: Token;
    if (name === "YAML") {
      while (isBlank(this.ch())) this.skip();
      const major = this.scanVersionNumber(start);
      if (this.ch() !== ".") this.fail(start, "did not find expected digit or '.' character");
      this.skip();
      const minor = this.scanVersionNumber(start);
      token = { type: T.VersionDirective, start, end: this.mark(), major, minor };
    } else if (name === "TAG") {
      while (isBlank(this.ch())) this.skip();
      const handle = this.scanTagHandle(true, start);
      if (!isBlank(this.ch())) this.fail(start, "did not find expected whitespace");
      while (isBlank(this.ch())) this.skip();
      const prefix = this.scanTagUri(true, "", start);
      if (!isBlankz(this.ch())) this.fail(start, "did not find expected whitespace or line break");
      token = { type: T.TagDirective, start, end: this.mark(), value: handle, suffix: prefix };
    } else {
      this.fail(start, "found unknown directive name");
    }
    while (isBlank(this.ch())) this.skip();
    if (this.ch() === "#") while (!isBreakz(this.ch())) this.skip();
    if (!isBreakz(this.ch())) this.fail(start, "did not find expected comment or line break");
    this.skipLine();
    return token;
  }

  private scanVersionNumber(start: Mark): number {
    let digits = "";
    while (isDigit(this.ch())) {
      if (digits.length === 2) this.fail(start, "found extremely long version number");
      digits += this.read();
    }
    if (digits === "") this.fail(start, "did not find expected version number");
    return Number(digits);
  }

  // ---- scalars ----

  private fetchBlockScalar(literal: boolean): void {
    this.removeSimpleKey();
    this.simpleKeyAllowed = true;
    this.tokens.push(this.scanBlockScalar(literal));
  }

  private scanBlockScalar(literal: boolean): Token {
    const start = this.mark();
    this.skip();
    let chomp = 0;
    let increment = 0;
    const readChomp = () => {
      if (this.ch() === "+" || this.ch() === "-") {
        chomp = this.ch() === "+" ? 1 : -1;
        this.skip();
        return true;
      }
      return false;
    };
    const readIncrement = () => {
      if (!isDigit(this.ch())) return;
      if (this.ch() === "0") this.fail(start, "found an indentation indicator equal to 0");
      increment = Number(this.ch());
      this.skip();
    };
    if (readChomp()) readIncrement();
    else if (isDigit(this.ch())) {
      readIncrement();
      readChomp();
    }
    while (isBlank(this.ch())) this.skip();
    if (this.ch() === "#") while (!isBreakz(this.ch())) this.skip();
    if (!isBreakz(this.ch())) this.fail(start, "did not find expected comment or line break");
    this.skipLine();
    let end = this.mark();
    let indent = increment > 0 ? (this.indent >= 0 ? this.indent + increment : increment) : 0;
    // Reads empty lines (and indentation) up to the next content line; without an indentation
    // indicator the first content line sets the indentation.
    const scanBreaks = (): string => {
      let breaks = "";
      let maxIndent = 0;
      end = this.mark();
      for (;;) {
        while ((indent === 0 || this.col < indent) && this.ch() === " ") this.skip();
        if (this.col > maxIndent) maxIndent = this.col;
        if ((indent === 0 || this.col < indent) && this.ch() === "\t") {
          this.fail(start, "found a tab character where an indentation space is expected");
        }
        if (!isBreak(this.ch())) break;
        breaks += this.readLine();
        end = this.mark();
      }
      if (indent === 0) indent = Math.max(maxIndent, this.indent + 1, 1);
      return breaks;
    };
    let out = "";
    let leadingBreak = "";
    let trailingBreaks = scanBreaks();
    let leadingBlank = false;
    while (this.col === indent && !(this.ch() === "\0" && this.pos >= this.src.length)) {
      const trailingBlank = isBlank(this.ch());
      if (!literal && !leadingBlank && !trailingBlank && leadingBreak.startsWith("\n")) {
        if (trailingBreaks === "") out += " ";
      } else {
        out += leadingBreak;
      }
      leadingBreak = "";
      out += trailingBreaks;
      trailingBreaks = "";
      leadingBlank = isBlank(this.ch());
      const from = this.pos;
      this.skipTo(this.lineEnd());
      out += this.src.slice(from, this.pos);
      if (this.pos >= this.src.length) break;
      leadingBreak = this.readLine();
      trailingBreaks = scanBreaks();
    }
    if (chomp !== -1) out += leadingBreak;
    if (chomp === 1) out += trailingBreaks;
    return { type: T.Scalar, start, end, value: out, style: literal ? "literal" : "folded" };
  }

  private fetchFlowScalar(single: boolean): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    this.tokens.push(this.scanFlowScalar(single));
  }

  private atDocumentIndicator(): boolean {
    if (this.col !== 0) return false;
    const three = this.src.slice(this.pos, this.pos + 3);
    return (three === "---" || three === "...") && isBlankz(this.ch(3));
  }

  private scanFlowScalar(single: boolean): Token {
    const start = this.mark();
    const quote = single ? "'" : '"';
    this.skip();
    let out = "";
    const gap = newGap();
    for (;;) {
      if (this.atDocumentIndicator()) this.fail(start, "found unexpected document indicator");
      if (this.ch() === "\0" && this.pos >= this.src.length) this.fail(start, "found unexpected end of stream");
      gap.leadingBlanks = false;
      while (!isBlankz(this.ch())) {
        const c = this.ch();
        if (single && c === "'" && this.ch(1) === "'") {
          out += "'";
          this.skip();
          this.skip();
        } else if (c === quote) {
          break;
        } else if (!single && c === "\\" && isBreak(this.ch(1))) {
          this.skip();
          this.skipLine();
          gap.leadingBlanks = true;
          break;
        } else if (!single && c === "\\") {
          out += this.scanEscape(start);
        } else {
          const from = this.pos;
          const src = this.src;
          let p = from;
          for (let d = src[p] ?? "\0"; !isBlankz(d) && d !== quote && d !== "\\" && d !== "'"; d = src[++p] ?? "\0");
          if (p === from) p++;
          this.skipTo(p);
          out += src.slice(from, p);
        }
      }
      if (this.ch() === quote) break;
      this.readGap(gap, null);
      out += foldGap(gap);
    }
    this.skip();
    return { type: T.Scalar, start, end: this.mark(), value: out, style: single ? "single" : "double" };
  }

  private scanEscape(start: Mark): string {
    const e = this.ch(1);
    const simple = ESCAPES[e];
    const width = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (simple === undefined && width === 0) this.fail(start, "found unknown escape character");
    this.skip();
    this.skip();
    if (simple !== undefined) return simple;
    let code = 0;
    for (let k = 0; k < width; k++) {
      if (!isHex(this.ch(k))) this.fail(start, "did not find expected hexdecimal number");
      code = code * 16 + parseInt(this.ch(k), 16);
    }
    if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) this.fail(start, "found invalid Unicode character escape code");
    for (let k = 0; k < width; k++) this.skip();
    return String.fromCodePoint(code);
  }

  /** Reads the blanks and line breaks between words; `onIndentTab` sees tabs after a break. */
  private readGap(gap: Gap, onIndentTab: (() => void) | null): void {
    while (isBlank(this.ch()) || isBreak(this.ch())) {
      if (isBlank(this.ch())) {
        if (gap.leadingBlanks && onIndentTab && this.ch() === "\t") onIndentTab();
        if (!gap.leadingBlanks) gap.whitespaces += this.read();
        else this.skip();
      } else if (!gap.leadingBlanks) {
        gap.whitespaces = "";
        gap.leadingBreak = this.readLine();
        gap.leadingBlanks = true;
      } else {
        gap.trailingBreaks += this.readLine();
      }
    }
  }

  private fetchPlainScalar(): void {
    this.saveSimpleKey();
    this.simpleKeyAllowed = false;
    this.tokens.push(this.scanPlainScalar());
  }

  private scanPlainScalar(): Token {
    const start = this.mark();
    let end = this.mark();
    const indent = this.indent + 1;
    let out = "";
    const gap = newGap();
    const flow = this.flowLevel > 0;
    for (;;) {
      if (this.atDocumentIndicator() || this.ch() === "#") break;
      while (!isBlankz(this.ch())) {
        const c = this.ch();
        if ((c === ":" && isBlankz(this.ch(1))) || (flow && ",?[]{}".includes(c))) break;
        out += foldGap(gap);
        const from = this.pos;
        const src = this.src;
        let p = from;
        for (;;) {
          const d = src[p] ?? "\0";
          if (isBlankz(d) || (d === ":" && isBlankz(src[p + 1] ?? "\0")) || (flow && ",?[]{}".includes(d))) break;
          p++;
        }
        if (p === from) p++;
        this.skipTo(p);
        out += src.slice(from, p);
        end = this.mark();
      }
      if (!(isBlank(this.ch()) || isBreak(this.ch()))) break;
      this.readGap(gap, () => {
        if (this.col < indent) this.fail(start, "found a tab character that violates indentation");
      });
      if (!flow && this.col < indent) break;
    }
    if (gap.leadingBlanks) this.simpleKeyAllowed = true;
    return { type: T.Scalar, start, end, value: out, style: "plain" };
  }
}

// ---- parser and tree -----------------------------------------------------------------------

const CORE_PREFIX = "tag:yaml.org,2002:";

/** Builds the first document's tree from the tokens, in the order go-yaml's parser reads them. */
class Parser {
  private readonly anchors = new Map<string, YamlNode>();
  private tagDirectives: { handle: string; prefix: string }[] = [];

  constructor(private readonly s: Scanner) {}

  private fail(problem: string, problemMark: Mark, contextMark: Mark = NO_MARK): never {
    throw new YamlFailure(problem, "parser", contextMark, problemMark);
  }

  private is(t: Token, a: TokenType, b: TokenType, c: TokenType = a, d: TokenType = a, e: TokenType = a): boolean {
    const x = t.type;
    return x === a || x === b || x === c || x === d || x === e;
  }

  parseFirstDocument(): YamlNode | null {
    this.s.skipToken(); // stream start
    let token = this.s.peek();
    let root: YamlNode;
    if (!this.is(token, T.VersionDirective, T.TagDirective, T.DocumentStart, T.StreamEnd)) {
      this.processDirectives();
      root = this.parseNode(true, false);
    } else if (token.type !== T.StreamEnd) {
      this.processDirectives();
      token = this.s.peek();
      if (token.type !== T.DocumentStart) this.fail("did not find expected <document start>", token.start);
      this.s.skipToken();
      token = this.s.peek();
      root = this.is(token, T.VersionDirective, T.TagDirective, T.DocumentStart, T.DocumentEnd, T.StreamEnd)
        ? this.emptyScalar(token.start)
        : this.parseNode(true, false);
    } else {
      return null;
    }
    // The document's end: go-yaml looks at the next token (and so scans a little further).
    if (this.s.peek().type === T.DocumentEnd) this.s.skipToken();
    return root;
  }

  private processDirectives(): void {
    let version = false;
    for (let token = this.s.peek(); this.is(token, T.VersionDirective, T.TagDirective); token = this.s.peek()) {
      if (token.type === T.VersionDirective) {
        if (version) this.fail("found duplicate %YAML directive", token.start);
        if (token.major !== 1 || token.minor !== 1) this.fail("found incompatible YAML document", token.start);
        version = true;
      } else {
        if (this.tagDirectives.some((d) => d.handle === token.value)) this.fail("found duplicate %TAG directive", token.start);
        this.tagDirectives.push({ handle: token.value!, prefix: token.suffix! });
      }
      this.s.skipToken();
    }
    for (const [handle, prefix] of [["!", "!"], ["!!", CORE_PREFIX]] as const) {
      if (!this.tagDirectives.some((d) => d.handle === handle)) this.tagDirectives.push({ handle, prefix });
    }
  }

  private emptyScalar(mark: Mark): YamlScalar {
    return { kind: "scalar", value: "", style: "plain", line: mark.line + 1, col: mark.column + 1 };
  }

  /** A node with its properties; `indentless` allows a `- ` sequence at a mapping's indentation. */
  private parseNode(block: boolean, indentless: boolean): YamlNode {
    let token = this.s.peek();
    if (token.type === T.Alias) {
      this.s.skipToken();
      const target = this.anchors.get(token.value!);
      if (!target) throw new YamlFailure(`unknown anchor '${token.value}' referenced`, "plain", NO_MARK, token.start);
      return { kind: "alias", name: token.value!, target, line: token.start.line + 1, col: token.start.column + 1 };
    }
    const start = token.start;
    let anchor: string | undefined;
    let tagToken: Token | undefined;
    if (token.type === T.Anchor) {
      anchor = token.value;
      this.s.skipToken();
      token = this.s.peek();
      if (token.type === T.Tag) {
        tagToken = token;
        this.s.skipToken();
        token = this.s.peek();
      }
    } else if (token.type === T.Tag) {
      tagToken = token;
      this.s.skipToken();
      token = this.s.peek();
      if (token.type === T.Anchor) {
        anchor = token.value;
        this.s.skipToken();
        token = this.s.peek();
      }
    }
    let tag = "";
    if (tagToken) {
      if (tagToken.value === "") tag = tagToken.suffix!;
      else {
        const d = this.tagDirectives.find((x) => x.handle === tagToken.value);
        if (!d) this.fail("found undefined tag handle", tagToken.start, start);
        tag = d.prefix + tagToken.suffix;
      }
    }
    const shortTag = tag === "" || tag === "!" ? undefined : tag.startsWith(CORE_PREFIX) ? "!!" + tag.slice(CORE_PREFIX.length) : tag;
    const line = start.line + 1;
    const col = start.column + 1;
    let node: YamlNode | undefined;
    if (indentless && token.type === T.BlockEntry) node = { kind: "seq", items: [], line, col };
    else if (token.type === T.Scalar) node = { kind: "scalar", value: token.value!, style: token.style!, line, col };
    else if (token.type === T.FlowSequenceStart || (block && token.type === T.BlockSequenceStart)) node = { kind: "seq", items: [], line, col };
    else if (token.type === T.FlowMappingStart || (block && token.type === T.BlockMappingStart)) node = { kind: "map", pairs: [], line, col };
    else if (anchor !== undefined || tag !== "") node = { kind: "scalar", value: "", style: "plain", line, col };
    if (node === undefined) this.fail("did not find expected node content", token.start, start);
    if (shortTag !== undefined) node.tag = shortTag;
    if (anchor !== undefined) {
      node.anchor = anchor;
      this.anchors.set(anchor, node);
    }
    if (node.kind === "scalar") {
      if (token.type === T.Scalar) this.s.skipToken();
      return node;
    }
    switch (token.type) {
      case T.BlockEntry:
        return this.parseIndentlessSequence(node as YamlSeq);
      case T.FlowSequenceStart:
        return this.parseFlowSequence(node as YamlSeq);
      case T.FlowMappingStart:
        return this.parseFlowMapping(node as YamlMap);
      case T.BlockSequenceStart:
        return this.parseBlockSequence(node as YamlSeq);
      default:
        return this.parseBlockMapping(node as YamlMap);
    }
  }

  private parseBlockSequence(seq: YamlSeq): YamlSeq {
    const mark = this.s.peek().start;
    this.s.skipToken();
    for (;;) {
      const token = this.s.peek();
      if (token.type === T.BlockEntry) {
        this.s.skipToken();
        const next = this.s.peek();
        seq.items.push(this.is(next, T.BlockEntry, T.BlockEnd) ? this.emptyScalar(token.end) : this.parseNode(true, false));
      } else if (token.type === T.BlockEnd) {
        this.s.skipToken();
        return seq;
      } else {
        this.fail("did not find expected '-' indicator", token.start, mark);
      }
    }
  }

  private parseIndentlessSequence(seq: YamlSeq): YamlSeq {
    for (let token = this.s.peek(); token.type === T.BlockEntry; token = this.s.peek()) {
      this.s.skipToken();
      const next = this.s.peek();
      seq.items.push(this.is(next, T.BlockEntry, T.Key, T.Value, T.BlockEnd) ? this.emptyScalar(token.end) : this.parseNode(true, false));
    }
    return seq;
  }

  private parseBlockMapping(map: YamlMap): YamlMap {
    const mark = this.s.peek().start;
    this.s.skipToken();
    for (;;) {
      let token = this.s.peek();
      let key: YamlNode;
      if (token.type === T.Key) {
        this.s.skipToken();
        const next = this.s.peek();
        key = this.is(next, T.Key, T.Value, T.BlockEnd) ? this.emptyScalar(token.end) : this.parseNode(true, true);
      } else if (token.type === T.BlockEnd) {
        this.s.skipToken();
        return map;
      } else {
        this.fail("did not find expected key", token.start, mark);
      }
      token = this.s.peek();
      let value: YamlNode;
      if (token.type === T.Value) {
        this.s.skipToken();
        const next = this.s.peek();
        value = this.is(next, T.Key, T.Value, T.BlockEnd) ? this.emptyScalar(token.end) : this.parseNode(true, true);
      } else {
        value = this.emptyScalar(token.start);
      }
      map.pairs.push({ key, value });
    }
  }

  /**
   * The first token of a flow collection's next entry, past its `,`; null at the collection's
   * end (`end`), which is then consumed.
   */
  private nextFlowEntry(end: TokenType, first: boolean, mark: Mark): Token | null {
    let token = this.s.peek();
    if (token.type !== end && !first) {
      if (token.type !== T.FlowEntry) this.fail(`did not find expected ',' or '${end === T.FlowSequenceEnd ? "]" : "}"}'`, token.start, mark);
      this.s.skipToken();
      token = this.s.peek();
    }
    if (token.type !== end) return token;
    this.s.skipToken();
    return null;
  }

  private parseFlowSequence(seq: YamlSeq): YamlSeq {
    const mark = this.s.peek().start;
    this.s.skipToken();
    for (let first = true; ; first = false) {
      let token = this.nextFlowEntry(T.FlowSequenceEnd, first, mark);
      if (token === null) return seq;
      if (token.type !== T.Key) {
        seq.items.push(this.parseNode(false, false));
        continue;
      }
      // `[key: value]`: a single-pair mapping.
      const map: YamlMap = { kind: "map", pairs: [], line: token.start.line + 1, col: token.start.column + 1 };
      this.s.skipToken();
      token = this.s.peek();
      let key: YamlNode;
      if (this.is(token, T.Value, T.FlowEntry, T.FlowSequenceEnd)) {
        // go-yaml consumes the token after an empty key here, whatever it is.
        this.s.skipToken();
        key = this.emptyScalar(token.end);
      } else {
        key = this.parseNode(false, false);
      }
      const valueToken = this.s.peek();
      let value: YamlNode | undefined;
      if (valueToken.type === T.Value) {
        this.s.skipToken();
        if (!this.is(this.s.peek(), T.FlowEntry, T.FlowSequenceEnd)) value = this.parseNode(false, false);
      }
      map.pairs.push({ key, value: value ?? this.emptyScalar(valueToken.start) });
      seq.items.push(map);
    }
  }

  private parseFlowMapping(map: YamlMap): YamlMap {
    const mark = this.s.peek().start;
    this.s.skipToken();
    for (let first = true; ; first = false) {
      let token = this.nextFlowEntry(T.FlowMappingEnd, first, mark);
      if (token === null) return map;
      let key: YamlNode;
      let value: YamlNode;
      if (token.type === T.Key) {
        this.s.skipToken();
        token = this.s.peek();
        key = this.is(token, T.Value, T.FlowEntry, T.FlowMappingEnd) ? this.emptyScalar(token.start) : this.parseNode(false, false);
        token = this.s.peek();
        if (token.type === T.Value) {
          this.s.skipToken();
          token = this.s.peek();
          value = this.is(token, T.FlowEntry, T.FlowMappingEnd) ? this.emptyScalar(token.start) : this.parseNode(false, false);
        } else {
          value = this.emptyScalar(token.start);
        }
      } else {
        key = this.parseNode(false, false);
        value = this.emptyScalar(this.s.peek().start);
      }
      map.pairs.push({ key, value });
    }
  }
}
