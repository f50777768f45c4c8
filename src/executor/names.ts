// The stage names: the explicit registry order (stages/index.ts maps each to its stage).

/** Every stage, in the order Ignition runs them at boot. */
export const STAGE_NAMES = ["fetch-offline", "fetch", "kargs", "disks", "mount", "files", "umount"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** True for a known stage name (used by the CLI to validate --stage). */
export function isStageName(s: string): s is StageName {
  return (STAGE_NAMES as readonly string[]).includes(s);
}
