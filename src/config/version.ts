// Spec version detection: which schema reads a config, and clear errors for the rest.
import { SPEC_VERSIONS, type SpecVersion } from "./types.ts";

export type VersionResult = { ok: true; version: SpecVersion } | { ok: false; message: string };

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const SUPPORTED = "3.0.0 to 3.6.0, or 3.7.0-experimental";

/** Decides which spec version reads a config from its ignition.version value. */
export function detectVersion(value: unknown): VersionResult {
  if (value === undefined || value === null) {
    return { ok: false, message: `the config's spec version is required (for example "3.6.0")` };
  }
  if (typeof value !== "string") {
    return { ok: false, message: `expected the spec version as a string such as "3.6.0", got ${typeName(value)}` };
  }
  const m = SEMVER.exec(value);
  if (!m) return { ok: false, message: `"${value}" is not a valid version; expected a semantic version such as "3.6.0"` };
  if ((SPEC_VERSIONS as readonly string[]).includes(value)) return { ok: true, version: value as SpecVersion };
  const major = Number(m[1]);
  if (major < 3) {
    return {
      ok: false,
      message: `spec version "${value}" is no longer supported: nexus-init reads spec ${SUPPORTED}; translate 2.x configs to 3.x first`,
    };
  }
  if (m[4] !== undefined) {
    return {
      ok: false,
      message: `unsupported experimental spec version "${value}": the only experimental version read is 3.7.0-experimental`,
    };
  }
  return { ok: false, message: `unsupported spec version "${value}": nexus-init reads spec ${SUPPORTED}` };
}

/** A short name of a JSON value's type for messages. */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a number";
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return "a boolean";
  return typeof v;
}
