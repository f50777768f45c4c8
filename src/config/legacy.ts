// Behaviour older spec versions promise that the internal model must keep. Runs after
// validation, so warnings still describe what the user wrote.
import type { Config, SpecVersion } from "./types.ts";
import { SPEC_VERSIONS, SPECIAL_MODE_BITS_SINCE } from "./types.ts";

/** The setuid, setgid and sticky bits. */
const SPECIAL_MODE_BITS = 0o7000;

type WithMode = { mode?: number | null };
const hasSpecialBits = (n: WithMode): boolean => typeof n.mode === "number" && (n.mode & SPECIAL_MODE_BITS) !== 0;
const masked = <T extends WithMode>(n: T): T => (hasSpecialBits(n) ? { ...n, mode: n.mode! & ~SPECIAL_MODE_BITS } : n);

/**
 * Before spec 3.6.0 Ignition set a node's mode before its owner, so the kernel cleared setuid
 * and setgid again and the bits never worked (upstream issue 2024). Current Ignition masks all
 * three special bits out of every file and directory mode of a 3.0–3.5 config when it
 * translates it (mode & ~07000), and its validation warns at each such mode; so does this.
 * 3.6.0 and newer keep them: the files stage sets the mode after the owner.
 */
export function applyLegacySemantics(config: Config, version: SpecVersion): Config {
  if (SPEC_VERSIONS.indexOf(version) >= SPEC_VERSIONS.indexOf(SPECIAL_MODE_BITS_SINCE)) return config;
  const storage = config.storage;
  if (!storage?.files?.some(hasSpecialBits) && !storage?.directories?.some(hasSpecialBits)) return config;
  return {
    ...config,
    storage: {
      ...storage,
      ...(storage.files ? { files: storage.files.map(masked) } : {}),
      ...(storage.directories ? { directories: storage.directories.map(masked) } : {}),
    },
  };
}
