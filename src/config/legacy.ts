// Behaviour older spec versions promise that the internal model must keep. Runs after
// validation, so warnings still describe what the user wrote.
import type { Config, SpecVersion } from "./types.ts";
import { SPEC_VERSIONS, SPECIAL_MODE_BITS_SINCE } from "./types.ts";

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/**
 * Before spec 3.6.0, Ignition set a file's mode before its owner, and the kernel drops setuid
 * (and setgid on group-executable files) on chown — so those bits never survived. Configs of
 * older versions keep that outcome (upstream issue 2042); 3.6.0 and newer get the bits.
 */
export function applyLegacySemantics(config: Config, version: SpecVersion): Config {
  if (SPEC_VERSIONS.indexOf(version) >= SPEC_VERSIONS.indexOf(SPECIAL_MODE_BITS_SINCE)) return config;
  const files = config.storage?.files;
  if (!files?.some((f) => typeof f.mode === "number" && (f.mode & (S_ISUID | S_ISGID)) !== 0)) return config;
  return {
    ...config,
    storage: {
      ...config.storage,
      files: files.map((f) => {
        if (typeof f.mode !== "number") return f;
        let mode = f.mode & ~S_ISUID;
        if (mode & S_IXGRP) mode &= ~S_ISGID;
        return mode === f.mode ? f : { ...f, mode };
      }),
    },
  };
}
