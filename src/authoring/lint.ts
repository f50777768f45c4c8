// Source-level warnings the types cannot give: `mode: 644` is the decimal number 644 (0o1204),
// almost always a mistake for 0o644. Types see only a number, so the declaring files are read.
import { readFileSync } from "node:fs";
import type { PartData } from "../dsl/parts.ts";
import type { Diagnostic } from "./diagnostics.ts";

// A decimal mode of three or four octal digits (644, 0755 cannot be written in strict code).
const DECIMAL_MODE = /\bmode\s*:\s*([1-7][0-7]{2,3})\b(?![.\w])/g;
const MAYBE_DECIMAL_MODE = new RegExp(DECIMAL_MODE.source);

/**
 * The source with the insides of comments and string/template literals blanked (newlines kept),
 * so text such as a file's contents holding "mode: 644" is not taken for code.
 */
export function codeOnly(text: string): string {
  const out = text.split("");
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      blank(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      blank(i, end < 0 ? text.length : end + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      let k = i + 1;
      while (k < text.length && text[k] !== c) k += text[k] === "\\" ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else i++;
  }
  return out.join("");
}

/** Warnings for decimal modes that read like octal ones, in every file that declared a part. */
export function lintModes(parts: readonly PartData[]): Diagnostic[] {
  const files = new Set<string>();
  for (const p of parts) if (p.origin) files.add(p.origin.file);
  const out: Diagnostic[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    // Most files have no decimal mode at all: only those that might are read as code.
    if (!MAYBE_DECIMAL_MODE.test(text)) continue;
    text = codeOnly(text);
    const lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
    for (const m of text.matchAll(DECIMAL_MODE)) {
      const at = m.index! + m[0].indexOf(m[1]!);
      let line = lineStarts.findLastIndex((s) => s <= at);
      const column = at - lineStarts[line]! + 1;
      line += 1;
      const n = Number(m[1]);
      out.push({
        severity: "warning",
        message: `mode ${m[1]} is the decimal number ${n} (0o${n.toString(8)}); write 0o${m[1]} for the octal mode`,
        origins: [{ file, line, column, via: [] }],
      });
    }
  }
  return out;
}
