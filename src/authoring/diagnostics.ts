// What the authoring pipeline reports: findings with the user's lines behind them, printed
// compiler-style (`file:line:col: error: …`), never with a secret's bytes.
import type { IssuePath } from "../config/index.ts";
import { formatOrigin, type Origin } from "../dsl/origin.ts";
import { knownSecrets, secretValue } from "../dsl/values.ts";

/** One finding, with the user's lines behind it. */
export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  origins: Origin[];
  /** The JSON path of the output it concerns, when it concerns one. */
  path?: IssuePath;
  /** Further lines below the message: each declaration of a conflict (with its value), a hint. */
  detail?: ({ origin?: Origin; shown: string } | string)[];
}

/** Replaces every secret's bytes (as text, base64 or percent-escaped) in a message. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const s of knownSecrets()) {
    const bytes = secretValue(s);
    if (bytes.length < 4) continue;
    const forms = [new TextDecoder().decode(bytes), Buffer.from(bytes).toString("base64"), encodeURIComponent(new TextDecoder().decode(bytes))];
    for (const f of forms) if (f.length >= 4) out = out.split(f).join(`[secret ${s.name}]`);
  }
  return out;
}

/** A diagnostic as printed: `file:line:col: error: message [json.path]`, then further lines. */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const [first, ...rest] = d.origins;
  const where = first ? `${formatOrigin(first, cwd)}: ` : "";
  const path = d.path && d.path.length > 0 ? ` [${d.path.join(".")}]` : "";
  const detail = (d.detail ?? []).map((x) => (typeof x === "string" ? `  ${x}` : `  at ${formatOrigin(x.origin, cwd)}${x.shown ? `: ${x.shown}` : ""}`));
  const lines = [`${where}${d.severity}: ${d.message}${path}`, ...rest.map((o) => `  also declared at ${formatOrigin(o, cwd)}`), ...detail];
  return redactSecrets(lines.join("\n"));
}
