// Validates the generated Ignition config with nexus-init's config engine and reports each
// problem in Butane's words: Butane prints Ignition's own messages ("duplicate entry defined"),
// so issues from the engine's message catalogue are mapped back to Ignition's wording.
import { parseConfig } from "../config/index.ts";
import { MESSAGES } from "../config/messages.ts";
import { formatIgnitionJson } from "./emit.ts";
import type { ConfigPath, PendingEntry } from "./report.ts";

type MessageKey = keyof typeof MESSAGES;

// Ignition's message for each catalogue entry; `$1`… are the entry's captured arguments.
const IGNITION_WORDING: Partial<Record<MessageKey, string>> = {
  pathRequired: "path not specified",
  pathRelative: "path not absolute",
  pathUnclean: "path is not fully simplified",
  sourceRequired: "source is required",
  urlUnparsable: "unable to parse url",
  urlSchemeMissing: "invalid url scheme",
  urlSchemeUnsupported: "invalid url scheme",
  s3VersionIdEmpty: "invalid S3 object VersionId",
  s3ArnInvalid: "invalid S3 ARN format",
  dataUrlInvalid: "unable to parse url",
  compressionInvalid: "invalid compression method",
  verificationWithoutSource: "source must be specified if verification is specified",
  hashMalformed: "malformed hash specifier",
  hashFunctionUnsupported: "unrecognized hash function",
  hashWrongLength: "incorrect size for hash sum",
  headerNameEmpty: "HTTP header name can't be empty",
  headersNeedSource: "cannot use HTTP headers with this source scheme",
  headersSchemeUnsupported: "cannot use HTTP headers with this source scheme",
  headersUrlUnparsable: "unable to parse url",
  proxyUnparsable: "unable to parse url",
  proxySchemeUnsupported: "proxies must be http(s)",
  proxyInsecure: "insecure plaintext HTTP proxy specified for HTTPS resources",
  modeOutOfRange: "illegal file mode",
  modeSpecialBits: "setuid/setgid/sticky bits are not supported in spec versions older than 3.4.0",
  overwriteWithoutSource: "overwrite must be false if source is unspecified",
  ownerIdAndName: "cannot set both id and name",
  linkTargetRequired: "link target is required",
  hardLinkToDirectory: "hard link target is a directory",
  hardLinkOwnerIgnored: "user/group ignored for hard link",
  pathConflictsSystemd: "path conflicts with systemd unit or dropin",
  duplicate: "duplicate entry defined",
  diskDeviceRequired: "disk device is required",
  partitionNumberCollides: "partition numbers collide",
  partitionLabelCollides: "cannot use the same partition label twice",
  partitionsOverlap: "partitions overlap",
  partitionShouldNotExistWithOthers: "shouldExist specified false with other options also specified",
  partitionNeedsNumberOrLabel: "a partition number >= 1 or a label must be specified",
  partitionLabelTooLong: "partition labels may not exceed 36 characters",
  partitionLabelColon: "partition label will be truncated to text before the colon",
  guidInvalid: 'doesn\'t match the form "01234567-89AB-CDEF-EDCB-A98765432101"',
  raidLevelRequired: "raid level is required",
  raidLevelUnknown: "unrecognized raid level",
  raidSparesUnsupported: "spares unsupported for linear and raid0 arrays",
  raidDevicesRequired: "raid devices required",
  fsFormatUnknown: "invalid filesystem format",
  fsFormatRequired: "format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified",
  fsLabelNeedsFormat: "filesystem must specify format if label is specified",
  fsLabelNotSupported: "filesystem labels cannot be set when using virtiofs",
  virtiofsTagTooLong: "virtiofs device tag cannot be longer than 36 bytes",
  fsUuidNeedsBlockDevice: "filesystem uuid cannot be set for non-block-device filesystems",
  fsWipeNeedsBlockDevice: "wipeFilesystem cannot be set for non-block-device filesystems",
  fsOptionsNeedBlockDevice: "filesystem options (mkfs) cannot be set for non-block-device filesystems",
  fsOverwritesPartitions: "filesystem overwrites partitioned device",
  fsImplicitWipe: "device matches disk with wipeTable enabled; filesystem will be wiped",
  luksNameSlash: "device names cannot contain slashes",
  luksLabelTooLong: "luks device labels cannot be longer than 47 characters",
  clevisCustomWithOthers: "cannot use custom clevis config with tpm2, tang, or threshold",
  clevisPinRequired: "missing required custom clevis pin",
  clevisPinUnknown: "unsupported clevis pin",
  clevisConfigRequired: "missing required custom clevis config",
  tangUrlUnparsable: "unable to parse url",
  tangUrlScheme: "invalid url scheme",
  tangThumbprintRequired: "thumbprint is required",
  tangAdvertisementInvalid: "advertisement is not valid JSON",
  cexWithClevis: "cannot use cex with clevis",
  unitNameSuffix: "invalid systemd unit extension",
  dropinNameSuffix: "invalid systemd drop-in extension",
  unitNoInstallSection: 'unit "$1" is enabled, but has no install section so enable does nothing',
  templateNoInstallSection: 'template unit "$1" for "$2" doesn\'t have Install section',
};

const FS_LABEL_LIMITS: Record<string, string> = {
  ext4: "filesystem labels cannot be longer than 16 characters when using ext4",
  btrfs: "filesystem labels cannot be longer than 256 characters when using btrfs",
  xfs: "filesystem labels cannot be longer than 12 characters when using xfs",
  swap: "filesystem labels cannot be longer than 15 characters when using swap",
  vfat: "filesystem labels cannot be longer than 11 characters when using vfat",
};

interface Matcher {
  key: MessageKey;
  re: RegExp;
}

let matchers: Matcher[] | undefined;

/** Builds, once, a pattern per catalogue entry by rendering it with placeholder arguments. */
function getMatchers(): Matcher[] {
  if (matchers) return matchers;
  const out: Matcher[] = [];
  for (const key of Object.keys(MESSAGES) as MessageKey[]) {
    const fn = MESSAGES[key] as (...args: string[]) => string;
    // Optional trailing arguments change the text, so render every arity.
    for (let arity = 0; arity <= 4; arity++) {
      const args = Array.from({ length: arity }, (_, i) => `\u0001ARG${i}\u0001`);
      let sample: string;
      try {
        sample = fn(...args);
      } catch {
        continue;
      }
      let pattern = sample.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      for (const arg of args) {
        const quoted = JSON.stringify(arg).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        pattern = pattern.split(quoted).join('"(.*?)"').split(arg).join("(.*?)");
      }
      if (pattern.includes("\u0001") || out.some((m) => m.re.source === `^${pattern}$`)) continue;
      out.push({ key, re: new RegExp(`^${pattern}$`, "s") });
    }
  }
  // Longer patterns first, so a specific entry wins over a general one.
  matchers = out.sort((a, b) => b.re.source.length - a.re.source.length);
  return matchers;
}

/** The catalogue entry an engine message came from, and Ignition's wording of it. */
export function ignitionWording(message: string): { key?: MessageKey; text: string } {
  for (const m of getMatchers()) {
    const hit = m.re.exec(message);
    if (!hit) continue;
    if (m.key === "fsLabelTooLong") return { key: m.key, text: FS_LABEL_LIMITS[unquote(hit[1] ?? "")] ?? message };
    const wording = IGNITION_WORDING[m.key];
    if (!wording) return { key: m.key, text: message };
    return { key: m.key, text: wording.replace(/\$(\d)/g, (_, n: string) => unquote(hit[Number(n)] ?? "")) };
  }
  return { text: message };
}

function unquote(s: string): string {
  try {
    return JSON.parse(`"${s}"`) as string;
  } catch {
    return s;
  }
}

/**
 * Validates generated Ignition JSON; returns entries on Ignition paths. Experimental output
 * versions are checked with the rules of the matching stable version.
 */
export function checkIgnitionConfig(ignition: Record<string, unknown>, version: string): PendingEntry[] {
  const checked = version.replace(/-experimental$/, "");
  const doc = { ...ignition, ignition: { ...(ignition.ignition as object), version: checked } };
  const result = parseConfig(formatIgnitionJson(doc));
  const out: PendingEntry[] = [];
  for (const issue of result.issues) {
    if (issue.message.startsWith("unknown key")) continue;
    // Integers beyond 2^53 (exact in Butane's output) exceed what the engine reads; Ignition has
    // no such limit and bounds only modes.
    if (/^Too (big|small): expected int/.test(issue.message)) {
      if (issue.path[issue.path.length - 1] === "mode") out.push({ kind: "error", path: issue.path as ConfigPath, message: IGNITION_WORDING.modeOutOfRange!, json: true });
      continue;
    }
    const { key, text } = ignitionWording(issue.message);
    // Ignition warns about setuid/setgid/sticky bits only in specs before 3.4.0, which could
    // not express them; later specs accept them silently, and so does Butane.
    if (key === "modeSpecialBits" && compareVersions(checked, "3.4.0") >= 0) continue;
    // Advice Ignition itself does not give (e.g. a clevis threshold above the pin count) would
    // make --strict fail where Butane passes; errors are kept whatever their wording.
    if (issue.severity === "warning" && key !== undefined && IGNITION_WORDING[key] === undefined) continue;
    out.push({ kind: issue.severity, path: issue.path as ConfigPath, message: text, json: true });
  }
  return out;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
