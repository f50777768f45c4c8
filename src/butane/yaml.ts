// YAML parser for Butane configs. Bun's built-in parser neither keeps line/column positions nor
// reads YAML-1.1 octal (`0644`), so this one builds a node tree that keeps both the raw scalar
// text and every node's position; `resolve.ts` then types scalars as Butane's go-yaml does.
// Only the first document of a stream is read, as go-yaml's Unmarshal does.

/** How a scalar was written; quoted and block scalars are always strings. */
export type ScalarStyle = "plain" | "single" | "double" | "literal" | "folded";

interface NodeBase {
  /** 1-based line of the node's first character (its anchor or tag when it has one). */
  line: number;
  /** 1-based column of the node's first character. */
  col: number;
  /** Tag as written, with `!<tag:yaml.org,2002:x>` shortened to `!!x`. */
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

/** A syntax error; `message` reads like go-yaml's (`yaml: line N: problem`). */
export interface YamlError {
  message: string;
  line: number;
  col: number;
}

/** The first document's root node (null for an empty document), or the syntax error. */
export type YamlResult = { ok: true; root: YamlNode | null } | { ok: false; error: YamlError };

/** Parses YAML text; never throws on bad input. */
export function parseYaml(text: string): YamlResult {
  try {
    return { ok: true, root: new Parser(text).parseFirstDocument() };
  } catch (e) {
    if (e instanceof SyntaxFailure) return { ok: false, error: e.toYamlError() };
    throw e;
  }
}

/** Follows aliases to the node they stand for. */
export function derefYaml(node: YamlNode): Exclude<YamlNode, YamlAlias> {
  let n = node;
  while (n.kind === "alias") n = n.target;
  return n;
}

// go-yaml prints scanner errors with the 1-based line of the problem and parser errors with the
// 0-based line of the enclosing collection (a quirk of its error formatting); we do the same so
// messages match Butane's.
class SyntaxFailure extends Error {
  constructor(
    readonly problem: string,
    readonly line: number,
    readonly col: number,
    readonly reportedLine: number,
  ) {
    super(problem);
  }
  toYamlError(): YamlError {
    const where = this.reportedLine > 0 ? `line ${this.reportedLine}: ` : "";
    return { message: `yaml: ${where}${this.problem}`, line: this.line, col: this.col };
  }
}

type BlockContext = "doc" | "docLine" | "mapValue" | "seqItem" | "explicit";

interface Props {
  anchor?: string;
  tag?: string;
  line: number;
  col: number;
}

interface ContentLine {
  start: number;
  indent: number;
  first: number;
}

const FLOW_INDICATORS = ",[]{}";
const ANCHOR_CHAR = /[0-9A-Za-z_-]/;
const TAG_CHAR = /[0-9A-Za-z\-;/?:@&=+$_.~*'()%!#]/;

class Parser {
  private readonly src: string;
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly anchors = new Map<string, YamlNode>();

  constructor(text: string) {
    let s = text.replace(/\r\n?/g, "\n");
    if (s.startsWith("\uFEFF")) s = s.slice(1);
    this.src = s;
    for (let i = 0; i < s.length; i++) if (s[i] === "\n") this.lineStarts.push(i + 1);
    const bad = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/.exec(s);
    if (bad) {
      const m = this.markAt(bad.index);
      throw new SyntaxFailure("control characters are not allowed", m.line, m.col, 0);
    }
  }

  // ---- positions and characters -------------------------------------------------------

  private ch(p = this.pos): string {
    return this.src[p] ?? "";
  }

  private markAt(p: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: p - this.lineStarts[lo]! + 1 };
  }

  private colOf(p: number): number {
    return this.markAt(p).col - 1;
  }

  private lineStartOf(p: number): number {
    return this.lineStarts[this.markAt(p).line - 1]!;
  }

  private scannerError(problem: string, p = this.pos): never {
    const m = this.markAt(p);
    throw new SyntaxFailure(problem, m.line, m.col, m.line);
  }

  private parserError(problem: string, contextPos: number | null, p = this.pos): never {
    const m = this.markAt(p);
    const ctxLine = contextPos === null ? 0 : this.markAt(contextPos).line - 1;
    throw new SyntaxFailure(problem, m.line, m.col, ctxLine !== 0 ? ctxLine : m.line - 1);
  }

  private static isEOL(c: string): boolean {
    return c === "\n" || c === "";
  }

  private static isBlank(c: string): boolean {
    return c === " " || c === "\t";
  }

  private static isBlankOrEOL(c: string): boolean {
    return c === " " || c === "\t" || c === "\n" || c === "";
  }

  private skipInlineSpace(): void {
    while (Parser.isBlank(this.ch())) this.pos++;
  }

  /** Skips blanks and a comment; true when the line ends there. */
  private atLineEnd(): boolean {
    this.skipInlineSpace();
    if (this.ch() === "#") while (!Parser.isEOL(this.ch())) this.pos++;
    return Parser.isEOL(this.ch());
  }

  private isDocMarkerAt(lineStart: number): boolean {
    const three = this.src.slice(lineStart, lineStart + 3);
    return (three === "---" || three === "...") && Parser.isBlankOrEOL(this.ch(lineStart + 3));
  }

  /** The next line after the current one holding content (not blank, not only a comment). */
  private peekContentLine(from: number): ContentLine | null {
    let p = from;
    while (!Parser.isEOL(this.ch(p))) p++;
    return p < this.src.length ? this.contentLineFrom(p + 1) : null;
  }

  /** The first line holding content from the line starting at p on. */
  private contentLineFrom(p: number): ContentLine | null {
    for (;;) {
      const start = p;
      let indent = 0;
      while (this.ch(p) === " ") {
        p++;
        indent++;
      }
      let q = p;
      while (Parser.isBlank(this.ch(q))) q++;
      const c = this.ch(q);
      if (c !== "#" && !Parser.isEOL(c)) return { start, indent, first: start + indent };
      p = q;
      while (!Parser.isEOL(this.ch(p))) p++;
      if (p >= this.src.length) return null;
      p++; // past "\n"
    }
  }

  private enterLine(line: ContentLine): void {
    this.pos = line.first;
    if (this.ch() === "\t") this.scannerError("found character that cannot start any token");
  }

  // ---- documents -------------------------------------------------------------------------

  parseFirstDocument(): YamlNode | null {
    // Directives, then the optional document start marker.
    let line = this.contentLineFrom(0);
    let sawDirective = false;
    while (line && line.indent === 0 && this.ch(line.first) === "%") {
      sawDirective = true;
      this.pos = line.first;
      while (!Parser.isEOL(this.ch())) this.pos++;
      line = this.peekContentLine(this.pos);
    }
    if (!line) {
      if (sawDirective) this.scannerError("did not find expected <document start>");
      return null;
    }
    const marker = line.indent === 0 && this.isDocMarkerAt(line.start) ? this.src.slice(line.first, line.first + 3) : "";
    if (marker === "...") return null;
    let root: YamlNode;
    if (marker === "---") {
      this.pos = line.first + 3;
      root = this.parseBlockNode(-1, "docLine");
    } else {
      if (sawDirective) this.parserError("did not find expected <document start>", null, line.first);
      this.enterLine(line);
      root = this.parseBlockNode(-1, "doc");
    }
    if (!this.atLineEnd()) this.parserError("did not find expected <document start>", null);
    const next = this.peekContentLine(this.pos);
    if (next && !(next.indent === 0 && this.isDocMarkerAt(next.start))) {
      this.parserError("did not find expected <document start>", null, next.first);
    }
    return root;
  }

  // ---- block context ---------------------------------------------------------------------

  /**
   * Parses the node that follows `key:`, `- `, `---` or starts the document. `parentIndent` is
   * the indentation of the enclosing block collection (-1 at the top level).
   */
  private parseBlockNode(parentIndent: number, ctx: BlockContext): YamlNode {
    this.skipInlineSpace();
    let props = this.parseProps(false);
    let sameLine = ctx !== "doc";
    let propsAbove = false;
    // The node may start on a later line, possibly after lines holding only its properties.
    while (this.atLineEnd()) {
      const emptyAt = this.pos;
      const next = this.peekContentLine(this.pos);
      const seqAtSameIndent =
        next !== null && ctx === "mapValue" && next.indent === parentIndent && this.ch(next.first) === "-" && Parser.isBlankOrEOL(this.ch(next.first + 1));
      if (!next || (next.indent === 0 && this.isDocMarkerAt(next.start)) || !(next.indent > parentIndent || seqAtSameIndent)) {
        return this.emptyScalar(props, emptyAt);
      }
      this.enterLine(next);
      sameLine = false;
      // Properties on their own line belong to the collection below, not to its first key.
      if (props) propsAbove = true;
      const more = this.parseProps(false);
      if (more) {
        if (props && ((props.anchor && more.anchor) || (props.tag && more.tag))) this.parserError("did not find expected node content", null);
        props = props ? { ...props, ...more, line: props.line, col: props.col } : more;
      }
    }
    return this.parseInline(parentIndent, props, ctx, sameLine, propsAbove);
  }

  private emptyScalar(props: Props | undefined, at: number): YamlScalar {
    const m = props ?? this.markAt(at);
    const node: YamlScalar = { kind: "scalar", value: "", style: "plain", line: m.line, col: m.col };
    this.applyProps(node, props);
    return node;
  }

  private applyProps(node: YamlNode, props: Props | undefined): void {
    if (!props) return;
    if (props.tag !== undefined) node.tag = props.tag;
    if (props.anchor !== undefined) {
      node.anchor = props.anchor;
      node.line = props.line;
      node.col = props.col;
    } else if (props.tag !== undefined) {
      node.line = props.line;
      node.col = props.col;
    }
  }

  private register(node: YamlNode): YamlNode {
    if (node.anchor !== undefined) this.anchors.set(node.anchor, node);
    return node;
  }

  /**
   * Parses a node whose first character is at `pos`. `sameLine` is true when the node follows
   * an indicator on the same line (`key: x`, `- x`), which limits what may start there.
   */
  private parseInline(parentIndent: number, props: Props | undefined, ctx: BlockContext, sameLine: boolean, propsAbove = false): YamlNode {
    const start = this.pos;
    // A collection starting here is indented to its first token, properties included.
    const c0 = props && !propsAbove ? props.col - 1 : this.colOf(start);
    const c = this.ch();
    const next = this.ch(start + 1);
    const compactAllowed = !sameLine || ctx === "seqItem" || ctx === "explicit";

    if (c === "-" && Parser.isBlankOrEOL(next)) {
      if (!compactAllowed) this.scannerError("block sequence entries are not allowed in this context");
      return this.register(this.parseBlockSeq(c0, props));
    }
    if (c === "?" && Parser.isBlankOrEOL(next)) {
      if (!compactAllowed) this.scannerError("mapping keys are not allowed in this context");
      return this.register(this.parseBlockMap(c0, props, undefined));
    }
    if (c === "|" || c === ">") {
      const node = this.parseBlockScalar(parentIndent);
      this.applyProps(node, props);
      return this.register(node);
    }

    let node: YamlNode;
    let multiLine = false;
    if (c === "[" || c === "{") {
      const startLine = this.markAt(start).line;
      node = this.parseFlowCollection();
      multiLine = this.markAt(this.pos).line !== startLine;
    } else if (c === '"' || c === "'") {
      const startLine = this.markAt(start).line;
      node = this.parseQuoted();
      multiLine = this.markAt(this.pos).line !== startLine;
    } else if (c === "*") {
      node = this.parseAlias();
    } else {
      const plain = this.parsePlain(parentIndent, false);
      node = plain.node;
      multiLine = plain.multiLine;
    }

    // An implicit key: `node:` followed by a blank.
    const save = this.pos;
    this.skipInlineSpace();
    if (this.ch() === ":" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) {
      if (multiLine) this.scannerError("mapping values are not allowed in this context");
      if (!compactAllowed) this.scannerError("mapping values are not allowed in this context");
      if (propsAbove) return this.register(this.parseBlockMap(c0, props, node));
      if (node.kind === "alias" && props) this.scannerError("did not find expected key");
      this.applyProps(node, props);
      this.register(node);
      return this.register(this.parseBlockMap(c0, undefined, node));
    }
    this.pos = save;
    if (node.kind === "alias") {
      if (props) this.parserError("did not find expected node content", null);
      return node;
    }
    this.applyProps(node, props);
    return this.register(node);
  }

  /** Parses anchor and tag properties (in any order); undefined when there are none. */
  private parseProps(flow: boolean): Props | undefined {
    let props: Props | undefined;
    for (;;) {
      const c = this.ch();
      if (c !== "&" && c !== "!") return props;
      const m = this.markAt(this.pos);
      props ??= { line: m.line, col: m.col };
      if (c === "&") {
        if (props.anchor !== undefined) this.parserError("found duplicate anchor; first occurrence", null);
        props.anchor = this.scanAnchorName("anchor");
      } else {
        if (props.tag !== undefined) this.parserError("found duplicate tag", null);
        props.tag = this.scanTag(flow);
      }
      if (!Parser.isBlankOrEOL(this.ch()) && !(flow && FLOW_INDICATORS.includes(this.ch()))) {
        this.scannerError(`did not find expected whitespace or line break`);
      }
      this.skipInlineSpace();
    }
  }

  private scanAnchorName(what: "anchor" | "alias"): string {
    this.pos++; // & or *
    const start = this.pos;
    while (ANCHOR_CHAR.test(this.ch())) this.pos++;
    if (this.pos === start) {
      this.scannerError(`while scanning an ${what}: did not find expected alphabetic or numeric character`);
    }
    return this.src.slice(start, this.pos);
  }

  private scanTag(flow: boolean): string {
    const start = this.pos;
    this.pos++; // !
    if (this.ch() === "<") {
      const end = this.src.indexOf(">", this.pos);
      if (end < 0 || this.src.slice(this.pos, end).includes("\n")) this.scannerError("while scanning a tag: did not find the expected '>'");
      const verbatim = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
      const core = "tag:yaml.org,2002:";
      return verbatim.startsWith(core) ? "!!" + verbatim.slice(core.length) : `!<${verbatim}>`;
    }
    while (!Parser.isBlankOrEOL(this.ch()) && !(flow && FLOW_INDICATORS.includes(this.ch()))) {
      if (!TAG_CHAR.test(this.ch()) && !(!flow && FLOW_INDICATORS.includes(this.ch()))) {
        this.scannerError("while scanning a tag: did not find expected whitespace or line break");
      }
      this.pos++;
    }
    const tag = this.src.slice(start, this.pos);
    // Named handles (`!e!x`) need a %TAG directive we do not support.
    const handle = /^!([0-9A-Za-z-]+)!/.exec(tag);
    if (handle) this.scannerError("found undefined tag handle", start);
    return tag;
  }

  private parseAlias(): YamlAlias {
    const m = this.markAt(this.pos);
    const name = this.scanAnchorName("alias");
    const target = this.anchors.get(name);
    if (!target) {
      throw new SyntaxFailure(`unknown anchor '${name}' referenced`, m.line, m.col, 0);
    }
    return { kind: "alias", name, target, line: m.line, col: m.col };
  }

  /** A block sequence whose `-` indicators sit at column `indent`. */
  private parseBlockSeq(indent: number, props: Props | undefined): YamlSeq {
    const startPos = this.pos;
    const m = this.markAt(startPos);
    const seq: YamlSeq = { kind: "seq", items: [], line: m.line, col: m.col };
    this.applyProps(seq, props);
    for (;;) {
      this.pos++; // "-"
      seq.items.push(this.parseBlockNode(indent, "seqItem"));
      if (!this.atLineEnd()) this.parserError("did not find expected '-' indicator", startPos);
      const next = this.peekContentLine(this.pos);
      if (!next || (next.indent === 0 && this.isDocMarkerAt(next.start))) break;
      if (next.indent < indent) break;
      if (next.indent > indent) this.parserError("did not find expected '-' indicator", startPos, next.first);
      if (!(this.ch(next.first) === "-" && Parser.isBlankOrEOL(this.ch(next.first + 1)))) break;
      this.enterLine(next);
    }
    return seq;
  }

  /**
   * A block mapping whose keys start at column `indent`. `firstKey` is an implicit key already
   * parsed (pos is then just before its `:`); otherwise pos is at `?` or at the first key.
   */
  private parseBlockMap(indent: number, props: Props | undefined, firstKey: YamlNode | undefined): YamlMap {
    const startPos = this.pos;
    const first = firstKey ? { line: firstKey.line, col: firstKey.col } : this.markAt(startPos);
    const map: YamlMap = { kind: "map", pairs: [], line: first.line, col: first.col };
    this.applyProps(map, props);
    let key = firstKey;
    for (;;) {
      let value: YamlNode;
      if (key === undefined && this.ch() === "?" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) {
        // Explicit key: `? key` then `: value` on a line at the same indentation.
        this.pos++;
        key = this.parseBlockNode(indent, "explicit");
        if (!this.atLineEnd()) this.parserError("did not find expected key", startPos);
        const next = this.peekContentLine(this.pos);
        if (next && next.indent === indent && this.ch(next.first) === ":" && Parser.isBlankOrEOL(this.ch(next.first + 1))) {
          this.enterLine(next);
          this.pos++;
          value = this.parseBlockNode(indent, "explicit");
        } else {
          value = this.emptyScalar(undefined, this.pos);
        }
      } else {
        if (key === undefined) key = this.parseBlockKey();
        this.skipInlineSpace();
        if (!(this.ch() === ":" && Parser.isBlankOrEOL(this.ch(this.pos + 1)))) {
          this.scannerError("could not find expected ':'");
        }
        this.pos++; // ":"
        value = this.parseBlockNode(indent, "mapValue");
      }
      map.pairs.push({ key, value });
      key = undefined;
      if (!this.atLineEnd()) this.parserError("did not find expected key", startPos);
      const next = this.peekContentLine(this.pos);
      if (!next || (next.indent === 0 && this.isDocMarkerAt(next.start))) break;
      if (next.indent < indent) break;
      if (next.indent > indent) this.parserError("did not find expected key", startPos, next.first);
      this.enterLine(next);
      if (this.ch() === "-" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) {
        this.parserError("did not find expected key", startPos);
      }
    }
    return map;
  }

  /** A key of a block mapping after the first: one line, followed by `:`. */
  private parseBlockKey(): YamlNode {
    const props = this.parseProps(false);
    const c = this.ch();
    let key: YamlNode;
    if (c === '"' || c === "'") {
      const line = this.markAt(this.pos).line;
      key = this.parseQuoted();
      if (this.markAt(this.pos).line !== line) this.scannerError("could not find expected ':'");
    } else if (c === "[" || c === "{") {
      const line = this.markAt(this.pos).line;
      key = this.parseFlowCollection();
      if (this.markAt(this.pos).line !== line) this.scannerError("could not find expected ':'");
    } else if (c === "*") {
      if (props) this.scannerError("did not find expected key");
      return this.parseAlias();
    } else if (c === ":" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) {
      key = this.emptyScalar(undefined, this.pos);
    } else {
      key = this.parsePlain(-1, true).node;
    }
    this.applyProps(key, props);
    return this.register(key);
  }

  // ---- scalars ---------------------------------------------------------------------------

  private static readonly PLAIN_FORBIDDEN_START = ",[]{}#&*!|>'\"%@`";

  /**
   * A plain scalar. In block context it may continue on following lines indented more than
   * `parentIndent`; `keyOnly` stops it at the end of the line.
   */
  private parsePlain(parentIndent: number, keyOnly: boolean): { node: YamlScalar; multiLine: boolean } {
    const start = this.pos;
    const m = this.markAt(start);
    const c = this.ch();
    if (Parser.PLAIN_FORBIDDEN_START.includes(c) || ((c === "-" || c === "?" || c === ":") && Parser.isBlankOrEOL(this.ch(start + 1)))) {
      this.scannerError("found character that cannot start any token");
    }
    let text = this.scanPlainLine();
    let multiLine = false;
    if (!keyOnly && !this.stoppedAtColonOrComment()) {
      for (;;) {
        // Look for a continuation line.
        let p = this.pos;
        let breaks = 0;
        let candidate: number | null = null;
        while (Parser.isEOL(this.ch(p)) && p < this.src.length) {
          p++; // "\n"
          breaks++;
          const ls = p;
          let indent = 0;
          while (this.ch(p) === " ") {
            p++;
            indent++;
          }
          let q = p;
          while (Parser.isBlank(this.ch(q))) q++;
          if (Parser.isEOL(this.ch(q))) {
            p = q;
            continue;
          }
          if (this.ch(q) === "#") break;
          if (indent === 0 && this.isDocMarkerAt(ls)) break;
          if (indent <= parentIndent) break;
          candidate = q;
          break;
        }
        if (candidate === null) break;
        this.pos = candidate;
        const more = this.scanPlainLine();
        text += breaks === 1 ? " " + more : "\n".repeat(breaks - 1) + more;
        multiLine = true;
        if (this.stoppedAtColonOrComment()) {
          if (this.ch() === ":") this.scannerError("mapping values are not allowed in this context");
          break;
        }
      }
    }
    return { node: { kind: "scalar", value: text, style: "plain", line: m.line, col: m.col }, multiLine };
  }

  /** Scans one line of a block plain scalar; stops before `: `, ` #` or the line end. */
  private scanPlainLine(): string {
    const start = this.pos;
    let end = start;
    for (;;) {
      const c = this.ch();
      if (Parser.isEOL(c)) break;
      if (c === ":" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) break;
      if (c === "#" && this.pos > start && Parser.isBlank(this.ch(this.pos - 1))) break;
      this.pos++;
      if (!Parser.isBlank(c)) end = this.pos;
    }
    const text = this.src.slice(start, end);
    this.pos = end;
    return text;
  }

  private stoppedAtColonOrComment(): boolean {
    let p = this.pos;
    while (Parser.isBlank(this.ch(p))) p++;
    const c = this.ch(p);
    return (c === ":" && Parser.isBlankOrEOL(this.ch(p + 1))) || c === "#";
  }

  /** A single- or double-quoted scalar (either context). */
  private parseQuoted(): YamlScalar {
    const start = this.pos;
    const m = this.markAt(start);
    const quote = this.ch();
    const double = quote === '"';
    this.pos++;
    let out = "";
    for (;;) {
      const c = this.ch();
      if (c === "") this.scannerError("while scanning a quoted scalar: found unexpected end of stream", start);
      if (c === quote) {
        if (!double && this.ch(this.pos + 1) === "'") {
          out += "'";
          this.pos += 2;
          continue;
        }
        this.pos++;
        break;
      }
      if (double && c === "\\") {
        const e = this.ch(this.pos + 1);
        if (e === "\n") {
          // Escaped line break: join without a space, drop the next line's indentation.
          this.pos += 2;
          this.skipQuotedLinePrefix(start);
          continue;
        }
        out += this.scanEscape();
        continue;
      }
      if (c === "\n" || Parser.isBlank(c)) {
        // Whitespace: trailing blanks before a line break are dropped; breaks fold.
        let p = this.pos;
        while (Parser.isBlank(this.ch(p))) p++;
        if (this.ch(p) !== "\n") {
          out += this.src.slice(this.pos, p);
          this.pos = p;
          continue;
        }
        let breaks = 0;
        while (this.ch(p) === "\n") {
          breaks++;
          p++;
          this.pos = p;
          this.skipQuotedLinePrefix(start);
          p = this.pos;
          while (Parser.isBlank(this.ch(p))) p++;
          if (this.ch(p) !== "\n") break;
        }
        out += breaks === 1 ? " " : "\n".repeat(breaks - 1);
        continue;
      }
      out += c;
      this.pos++;
    }
    return { kind: "scalar", value: out, style: double ? "double" : "single", line: m.line, col: m.col };
  }

  private skipQuotedLinePrefix(start: number): void {
    const ls = this.pos;
    if (this.isDocMarkerAt(ls)) this.scannerError("while scanning a quoted scalar: found unexpected document indicator", start);
    while (Parser.isBlank(this.ch())) this.pos++;
  }

  private scanEscape(): string {
    const at = this.pos;
    const e = this.ch(this.pos + 1);
    this.pos += 2;
    const simple: Record<string, string> = {
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
      "/": "/",
      "\\": "\\",
      N: "\x85",
      _: "\xa0",
      L: "\u2028",
      P: "\u2029",
    };
    if (e in simple) return simple[e]!;
    const width = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (width === 0) this.scannerError("while parsing a quoted scalar: found unknown escape character", at);
    const hex = this.src.slice(this.pos, this.pos + width);
    if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== width) {
      this.scannerError("while parsing a quoted scalar: did not find expected hexdecimal number", at);
    }
    this.pos += width;
    const code = parseInt(hex, 16);
    if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      this.scannerError("while parsing a quoted scalar: found invalid Unicode character escape code", at);
    }
    return String.fromCodePoint(code);
  }

  /** A literal (`|`) or folded (`>`) block scalar; content must be indented past `parentIndent`. */
  private parseBlockScalar(parentIndent: number): YamlScalar {
    const start = this.pos;
    const m = this.markAt(start);
    const literal = this.ch() === "|";
    this.pos++;
    let chomp: "clip" | "strip" | "keep" = "clip";
    let increment = 0;
    for (let i = 0; i < 2; i++) {
      const c = this.ch();
      if ((c === "+" || c === "-") && chomp === "clip") {
        chomp = c === "+" ? "keep" : "strip";
        this.pos++;
      } else if (c >= "1" && c <= "9" && increment === 0) {
        increment = Number(c);
        this.pos++;
      } else if (c === "0") {
        this.scannerError("while scanning a block scalar: found an indentation indicator equal to 0");
      }
    }
    if (!Parser.isBlankOrEOL(this.ch()) || !this.atLineEnd()) {
      this.scannerError("while scanning a block scalar: did not find expected comment or line break");
    }
    let indent = increment > 0 ? (parentIndent >= 0 ? parentIndent + increment : increment) : 0;
    const col = () => this.pos - this.lineStartOf(this.pos);
    // Reads the line breaks (and indentation) before the next content line; with no explicit
    // indentation yet, the first content line sets it.
    const scanBreaks = (): string => {
      let breaks = "";
      let maxIndent = 0;
      for (;;) {
        while ((indent === 0 || col() < indent) && this.ch() === " ") this.pos++;
        maxIndent = Math.max(maxIndent, col());
        if ((indent === 0 || col() < indent) && this.ch() === "\t") {
          this.scannerError("while scanning a block scalar: found a tab character where an indentation space is expected");
        }
        if (this.ch() !== "\n") break;
        breaks += "\n";
        this.pos++;
      }
      if (indent === 0) indent = Math.max(maxIndent, parentIndent + 1, 1);
      return breaks;
    };
    let out = "";
    let leadingBreak = "";
    let trailingBreaks = "";
    let leadingBlank = false;
    if (this.ch() === "\n") {
      this.pos++;
      trailingBreaks = scanBreaks();
      while (this.pos < this.src.length && col() === indent && !(indent === 0 && this.isDocMarkerAt(this.pos))) {
        const trailingBlank = Parser.isBlank(this.ch());
        if (!literal && leadingBreak === "\n" && !leadingBlank && !trailingBlank) {
          if (trailingBreaks === "") out += " ";
        } else {
          out += leadingBreak;
        }
        leadingBreak = "";
        out += trailingBreaks;
        trailingBreaks = "";
        leadingBlank = trailingBlank;
        const s = this.pos;
        while (!Parser.isEOL(this.ch())) this.pos++;
        out += this.src.slice(s, this.pos);
        if (this.ch() === "") break;
        leadingBreak = "\n";
        this.pos++;
        trailingBreaks = scanBreaks();
      }
      // Leave pos on the line break before the first line that is not part of the scalar.
      if (!(this.pos >= this.src.length && !this.src.endsWith("\n"))) {
        this.pos = Math.max(this.lineStartOf(Math.min(this.pos, this.src.length)) - 1, 0);
        if (this.pos >= this.src.length) this.pos = this.src.length;
      }
    }
    if (chomp !== "strip") out += leadingBreak;
    if (chomp === "keep") out += trailingBreaks;
    return { kind: "scalar", value: out, style: literal ? "literal" : "folded", line: m.line, col: m.col };
  }

  // ---- flow context ----------------------------------------------------------------------

  private skipFlowSpace(): void {
    for (;;) {
      const c = this.ch();
      if (Parser.isBlank(c)) {
        this.pos++;
      } else if (c === "\n") {
        this.pos++;
        const ls = this.pos;
        if (this.isDocMarkerAt(ls)) this.scannerError("found unexpected document indicator");
      } else if (c === "#" && (this.pos === 0 || Parser.isBlankOrEOL(this.ch(this.pos - 1)))) {
        while (!Parser.isEOL(this.ch())) this.pos++;
      } else {
        return;
      }
    }
  }

  private parseFlowCollection(): YamlNode {
    const start = this.pos;
    const m = this.markAt(start);
    if (this.ch() === "[") {
      this.pos++;
      const seq: YamlSeq = { kind: "seq", items: [], line: m.line, col: m.col };
      for (;;) {
        this.skipFlowSpace();
        if (this.ch() === "]") {
          this.pos++;
          return seq;
        }
        if (this.ch() === "") this.scannerError("while parsing a flow sequence: did not find expected ',' or ']'", start);
        const item = this.parseFlowEntry(true);
        delete (item as FlowPairMap).singlePair;
        seq.items.push(item);
        this.skipFlowSpace();
        if (this.ch() === ",") {
          this.pos++;
        } else if (this.ch() !== "]") {
          this.parserError("did not find expected ',' or ']'", start);
        }
      }
    }
    this.pos++; // "{"
    const map: YamlMap = { kind: "map", pairs: [], line: m.line, col: m.col };
    for (;;) {
      this.skipFlowSpace();
      if (this.ch() === "}") {
        this.pos++;
        return map;
      }
      if (this.ch() === "") this.scannerError("while parsing a flow mapping: did not find expected ',' or '}'", start);
      const entry = this.parseFlowEntry(false);
      if (entry.kind === "map" && (entry as FlowPairMap).singlePair) {
        map.pairs.push((entry as FlowPairMap).pairs[0]!);
      } else {
        map.pairs.push({ key: entry, value: this.emptyScalar(undefined, this.pos) });
      }
      this.skipFlowSpace();
      if (this.ch() === ",") {
        this.pos++;
      } else if (this.ch() !== "}") {
        this.parserError("did not find expected ',' or '}'", start);
      }
    }
  }

  /** One entry of a flow collection: a node, or `key: value` (a one-pair mapping). */
  private parseFlowEntry(inSeq: boolean): YamlNode {
    const m = this.markAt(this.pos);
    let key: YamlNode;
    let explicit = false;
    if (this.ch() === "?" && Parser.isBlankOrEOL(this.ch(this.pos + 1))) {
      explicit = true;
      this.pos++;
      this.skipFlowSpace();
    }
    if (this.ch() === ":" && (Parser.isBlankOrEOL(this.ch(this.pos + 1)) || FLOW_INDICATORS.includes(this.ch(this.pos + 1)))) {
      key = this.emptyScalar(undefined, this.pos);
    } else if (explicit && (this.ch() === "," || this.ch() === (inSeq ? "]" : "}"))) {
      key = this.emptyScalar(undefined, this.pos);
    } else {
      key = this.parseFlowNode();
    }
    const jsonLike = key.kind !== "scalar" || key.style === "single" || key.style === "double";
    const save = this.pos;
    this.skipFlowSpace();
    const c = this.ch();
    const n = this.ch(this.pos + 1);
    if (c === ":" && (jsonLike || Parser.isBlankOrEOL(n) || FLOW_INDICATORS.includes(n))) {
      this.pos++;
      this.skipFlowSpace();
      const value =
        this.ch() === "," || this.ch() === "]" || this.ch() === "}" ? this.emptyScalar(undefined, this.pos) : this.parseFlowNode();
      const pair: FlowPairMap = { kind: "map", pairs: [{ key, value }], line: m.line, col: m.col, singlePair: true };
      return pair;
    }
    this.pos = save;
    if (explicit) {
      const pair: FlowPairMap = {
        kind: "map",
        pairs: [{ key, value: this.emptyScalar(undefined, this.pos) }],
        line: m.line,
        col: m.col,
        singlePair: true,
      };
      return pair;
    }
    return key;
  }

  private parseFlowNode(): YamlNode {
    const props = this.parseProps(true);
    const c = this.ch();
    if (props && (c === "," || c === "]" || c === "}" || c === ":" || c === "")) return this.register(this.emptyScalar(props, this.pos));
    let node: YamlNode;
    if (c === "[" || c === "{") node = this.parseFlowCollection();
    else if (c === '"' || c === "'") node = this.parseQuoted();
    else if (c === "*") {
      if (props) this.parserError("did not find expected node content", null);
      return this.parseAlias();
    } else node = this.parseFlowPlain();
    this.applyProps(node, props);
    return this.register(node);
  }

  private parseFlowPlain(): YamlScalar {
    const start = this.pos;
    const m = this.markAt(start);
    const c = this.ch();
    if (
      Parser.PLAIN_FORBIDDEN_START.includes(c) ||
      ((c === "-" || c === "?" || c === ":") && (Parser.isBlankOrEOL(this.ch(start + 1)) || FLOW_INDICATORS.includes(this.ch(start + 1))))
    ) {
      this.scannerError("found character that cannot start any token");
    }
    let text = "";
    let pendingBreaks = 0;
    for (;;) {
      // One line's worth.
      const ls = this.pos;
      let end = ls;
      for (;;) {
        const ch = this.ch();
        if (Parser.isEOL(ch) || FLOW_INDICATORS.includes(ch)) break;
        if (ch === ":") {
          const n = this.ch(this.pos + 1);
          if (Parser.isBlankOrEOL(n) || FLOW_INDICATORS.includes(n)) break;
        }
        if (ch === "#" && this.pos > ls && Parser.isBlank(this.ch(this.pos - 1))) break;
        this.pos++;
        if (!Parser.isBlank(ch)) end = this.pos;
      }
      const part = this.src.slice(ls, end);
      if (part !== "") {
        text += pendingBreaks === 0 ? part : (pendingBreaks === 1 ? " " : "\n".repeat(pendingBreaks - 1)) + part;
      }
      this.pos = end;
      // Continue on the next line when the scalar is not finished.
      let p = end;
      while (Parser.isBlank(this.ch(p))) p++;
      if (this.ch(p) !== "\n") break;
      let breaks = 0;
      while (this.ch(p) === "\n") {
        breaks++;
        p++;
        while (Parser.isBlank(this.ch(p))) p++;
      }
      const n = this.ch(p);
      if (n === "" || FLOW_INDICATORS.includes(n) || n === "#" || (n === ":" && (Parser.isBlankOrEOL(this.ch(p + 1)) || FLOW_INDICATORS.includes(this.ch(p + 1))))) {
        break;
      }
      if (this.isDocMarkerAt(this.lineStartOf(p)) && this.colOf(p) === 0) break;
      pendingBreaks = breaks;
      this.pos = p;
    }
    return { kind: "scalar", value: text, style: "plain", line: m.line, col: m.col };
  }
}

interface FlowPairMap extends YamlMap {
  singlePair?: boolean;
}
