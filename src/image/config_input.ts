// The config an image embeds, from what the user hands `nexus image`: a typed program (compiled
// as `nexus provision` does), Ignition JSON (embedded as given) or Butane YAML (translated, so
// the machine boots Ignition JSON). Each is validated by the pipeline `nexus validate` uses; an
// invalid config yields its diagnostics and no bytes, so nothing is built.
import { readFileSync } from "node:fs";
import { parseAnyConfig } from "../acquire/document.ts";
import { formatIgnitionJson } from "../butane/emit.ts";
import { translateButane } from "../butane/index.ts";
import { formatIssue } from "../config/index.ts";
import { isProgramPath } from "../config/program.ts";
import { formatDiagnostic, provision, type ProvisionOptions } from "../authoring/provision.ts";

/** The validated config's bytes, or the messages saying why there are none. */
export type ImageConfig = { ok: true; bytes: Uint8Array; kind: "program" | "ignition" | "butane"; messages: string[] } | { ok: false; messages: string[] };

/** Reads and validates the config at `path` (program options apply to programs only). */
export async function loadImageConfig(path: string, program: Omit<ProvisionOptions, "programs"> = {}): Promise<ImageConfig> {
  if (isProgramPath(path)) {
    const r = await provision({ ...program, programs: [path] });
    const messages = r.diagnostics.map((d) => formatDiagnostic(d));
    return r.ok ? { ok: true, bytes: new TextEncoder().encode(r.json), kind: "program", messages } : { ok: false, messages };
  }
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(readFileSync(path));
  } catch (e) {
    return { ok: false, messages: [`Cannot read config "${path}": ${(e as Error).message}`] };
  }
  const r = parseAnyConfig(raw);
  const messages = r.issues.map((i) => `${path}: ${formatIssue(i)}`);
  if (!r.ok) return { ok: false, messages };
  if (r.format === "ignition") return { ok: true, bytes: raw, kind: "ignition", messages };
  const t = translateButane(new TextDecoder().decode(raw));
  if (!t.ok) return { ok: false, messages: [...messages, `${path}: ${t.fatal}`] };
  return { ok: true, bytes: new TextEncoder().encode(formatIgnitionJson(t.ignition)), kind: "butane", messages };
}
