// RFC 2397 data URL checking with the acceptance rules of the decoder Ignition validates
// `data:` sources with: a media type made of MIME tokens, `;attr=value` parameters (quoted or
// %-escaped), an optional `;base64` marker, then a comma and URL-safe (or base64) data.

/** Null when the data URL decodes, else the reason it does not. */
export function checkDataUrl(s: string): string | null {
  // Fast path for the common shapes ("data:,", "data:type/sub;base64,"); anything else, and
  // every rejection, goes through the full lexer so reasons stay precise.
  const m = COMMON_HEADER.exec(s);
  if (m && (m[1] === undefined || DISCRETE.some((t) => m[1]!.startsWith(t)) || /^[xX]-/.test(m[1]))) {
    const data = s.slice(m[0].length);
    const ok = m[2] ? BASE64_DATA.test(data) : PLAIN_DATA.test(data) && checkPercentEscapes(data) === null;
    if (ok) return null;
  }
  return new DataUrlLexer(s).run();
}

const TOKEN = "[!#-'*+\\-.0-9A-Z^-~]+";
const COMMON_HEADER = new RegExp(`^data:(?:(${TOKEN})/${TOKEN})?(;base64)?,`);
const BASE64_DATA = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Printable ASCII except delimiters and "unwise" characters.
const PLAIN_DATA = /^[!$-;=?-Z_a-z~]*$/;

const TSPECIALS = "()<>@,;:\\\"/[]?=";

function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return c.length === 1 && code > 0x20 && code < 0x7f && !TSPECIALS.includes(c);
}

const DISCRETE = ["text", "image", "audio", "video", "application", "message", "multipart"];

// A small state machine over code points; each state returns the next one or a final result.
type Step = (() => Step) | { done: string | null };

// Works on UTF-16 code units: every state rejects non-ASCII text the same way per unit or per
// code point, so splitting into code points (slow for megabyte-sized data) is unnecessary.
class DataUrlLexer {
  private pos = 0;
  private start = 0;
  private base64 = false;

  constructor(private readonly input: string) {}

  run(): string | null {
    if (!this.input.startsWith("data:")) return "it must start with \"data:\"";
    this.pos = this.start = 5;
    let step: Step = () => this.afterPrefix();
    while (typeof step === "function") step = step();
    return step.done;
  }

  private next(): string | undefined {
    return this.pos < this.input.length ? this.input[this.pos++] : (this.pos++, undefined);
  }
  private backup(): void {
    this.pos--;
  }
  private text(): string {
    return this.input.slice(this.start, this.pos);
  }
  private emit(): string {
    const t = this.text();
    this.start = this.pos;
    return t;
  }
  private fail(reason: string): Step {
    return { done: reason };
  }

  private afterPrefix(): Step {
    const c = this.next();
    if (c === ";") return this.paramSemicolon();
    if (c === ",") return this.dataComma();
    if (c === undefined) return this.fail("the comma before the data is missing");
    if (c === "x" || c === "X") {
      if (this.next() === "-") return () => this.mediaTypeToken(false);
      return () => this.mediaTypeToken(true);
    }
    if (isTokenChar(c)) return () => this.mediaTypeToken(true);
    return this.fail("invalid character after \"data:\"");
  }

  /**
   * Reads token characters up to one of `stops`, then gives that character (left unread) to
   * `onStop`; the end of input or any other character fails with `missing` or `invalid`.
   */
  private tokenUntil(stops: string, onStop: (c: string) => Step, missing: string, invalid: string): Step {
    for (;;) {
      const c = this.next();
      if (c !== undefined && stops.includes(c)) {
        this.backup();
        return onStop(c);
      }
      if (c === undefined) return this.fail(missing);
      if (!isTokenChar(c)) return this.fail(invalid);
    }
  }

  private mediaTypeToken(mustBeKnown: boolean): Step {
    const onSlash = (): Step => {
      if (mustBeKnown && !DISCRETE.some((t) => this.text().startsWith(t))) return this.fail(`invalid media type "${this.text()}"`);
      this.emit();
      this.next();
      this.emit();
      return () => this.subtype();
    };
    return this.tokenUntil("/", onSlash, "the media type is missing \"/\"", "invalid character in the media type");
  }

  private subtype(): Step {
    const onEnd = (): Step => {
      this.emit();
      return () => this.afterParamOrSubtype();
    };
    return this.tokenUntil(";,", onEnd, "the media type is incomplete", "invalid character in the media subtype");
  }

  private afterParamOrSubtype(): Step {
    const c = this.next();
    if (c === ";") return this.paramSemicolon();
    if (c === ",") return this.dataComma();
    if (c === undefined) return this.fail("the comma before the data is missing");
    return this.fail("expected \";\" or \",\"");
  }

  // Called with the ";" already consumed.
  private paramSemicolon(): Step {
    this.emit();
    const c = this.next();
    if (c === undefined || c === "=" || c === ",") return this.fail("a parameter is unterminated");
    if (!isTokenChar(c)) return this.fail("invalid character in a parameter name");
    this.backup();
    return () => this.paramAttr();
  }

  private paramAttr(): Step {
    const onStop = (c: string): Step => {
      if (c === "=") {
        this.emit();
        this.next();
        this.emit();
        return () => this.afterParamEqual();
      }
      const attr = this.text();
      if (this.pos > this.start) {
        if (attr !== "base64") return this.fail(`expected "base64", got "${attr}"`);
        this.base64 = true;
        this.emit();
      }
      this.next();
      return this.dataComma();
    };
    return this.tokenUntil("=,", onStop, "a parameter is unterminated", "invalid character in a parameter name");
  }

  private afterParamEqual(): Step {
    const c = this.next();
    if (c === "\"") {
      this.emit();
      return () => this.quotedValue();
    }
    if (c === undefined) return this.fail("the comma before the data is missing");
    if (isTokenChar(c)) return () => this.plainValue();
    return this.fail("invalid character in a parameter value");
  }

  private quotedValue(): Step {
    for (;;) {
      const c = this.next();
      if (c === undefined) return this.fail("a quoted string is not closed");
      if (c === "\\") {
        const e = this.next();
        if (e === undefined || e.charCodeAt(0) <= 0x7f) continue;
        return this.fail("invalid escaped character");
      }
      if (c === "\"") {
        this.backup();
        const bad = checkGoQuoted(this.text());
        if (bad) return this.fail(bad);
        this.next();
        this.emit();
        return () => this.afterParamOrSubtype();
      }
      if (c.charCodeAt(0) > 0x7f) return this.fail("invalid character in a parameter value");
    }
  }

  private plainValue(): Step {
    const onEnd = (): Step => {
      const bad = checkPercentEscapes(this.text());
      if (bad) return this.fail(bad);
      this.emit();
      return () => this.afterParamOrSubtype();
    };
    return this.tokenUntil(";,", onEnd, "the comma before the data is missing", "invalid character in a parameter value");
  }

  // Called with the "," already consumed.
  private dataComma(): Step {
    this.emit();
    const data = this.input.slice(this.pos);
    if (this.base64) {
      if (!/^[A-Za-z0-9+/=]*$/.test(data)) return this.fail("invalid character in the base64 data");
      if (!BASE64_DATA.test(data)) return this.fail("the base64 data is malformed or badly padded");
      return { done: null };
    }
    if (!PLAIN_DATA.test(data)) return this.fail("the data contains a character that must be %-escaped");
    return { done: checkPercentEscapes(data) };
  }
}

function checkPercentEscapes(s: string): string | null {
  for (let i = s.indexOf("%"); i >= 0 && i < s.length; i = s.indexOf("%", i + 1)) {
    if (!isHexPair(s, i + 1)) return `invalid escape "${s.slice(i, i + 3)}"`;
    i += 2;
  }
  return null;
}

function isHexPair(s: string, i: number): boolean {
  return isHexCode(s.charCodeAt(i)) && isHexCode(s.charCodeAt(i + 1));
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Checks the body of a Go double-quoted string literal (escapes, no raw newline). */
function checkGoQuoted(body: string): string | null {
  if (body.includes("\n")) return "a quoted parameter value contains a newline";
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") continue;
    const e = body[i + 1];
    if (e !== undefined && "abfnrtv\\\"".includes(e)) {
      i += 1;
      continue;
    }
    const hexLen = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
    if (hexLen > 0) {
      const digits = body.slice(i + 2, i + 2 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(digits)) return "a quoted parameter value has a bad escape";
      const v = parseInt(digits, 16);
      if (e !== "x" && (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))) return "a quoted parameter value has a bad escape";
      i += 1 + hexLen;
      continue;
    }
    if (e !== undefined && e >= "0" && e <= "7") {
      const digits = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) return "a quoted parameter value has a bad escape";
      i += 3;
      continue;
    }
    return "a quoted parameter value has a bad escape";
  }
  return null;
}
