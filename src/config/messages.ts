// The catalogue of every message config validation reports, in one place so wording stays
// consistent: lower-case start, no final period, what was expected and what was found.
// Values that may hold secrets (URLs, unit contents) are redacted or never echoed.
import { redactUrl } from "../log/redact.ts";

/** Quotes a user value for a message; long values are shortened. */
export function quote(v: string): string {
  const s = v.length > 120 ? v.slice(0, 117) + "…" : v;
  return JSON.stringify(s);
}

/** Quotes a URL for a message with credentials and data redacted. */
export function quoteUrl(url: string): string {
  return quote(redactUrl(url));
}

const octal = (n: number) => "0" + n.toString(8);

/** English list: "a, b or c". */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** English list: "a, b and c". */
export function listAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Every validation message, by rule. */
export const MESSAGES = {
  // ignition
  versionRequired: () => `the spec version is required (for example "3.6.0")`,

  // paths ("what" names the field: path, device, …)
  pathRequired: (what: string) => `${what} is required`,
  pathRelative: (what: string, p: string) => `${what} must be absolute, got ${quote(p)}`,
  pathUnclean: (what: string, p: string, clean: string) =>
    `${what} must be in canonical form without empty, "." or ".." segments or a trailing "/": expected ${quote(clean)}, got ${quote(p)}`,

  // resources and URLs
  sourceRequired: () => `source is required`,
  urlUnparsable: (url: string, reason: string) => `cannot parse URL ${quoteUrl(url)}: ${reason}`,
  urlSchemeMissing: (url: string, allowed: readonly string[]) => `URL ${quoteUrl(url)} has no scheme; expected one of ${listOr(allowed)}`,
  urlSchemeUnsupported: (scheme: string, version: string, allowed: readonly string[]) =>
    `unsupported URL scheme ${quote(scheme)} in spec ${version}; expected one of ${listOr(allowed)}`,
  s3VersionIdEmpty: () => `the S3 "versionId" query parameter must not be empty`,
  s3ArnInvalid: () =>
    `invalid S3 ARN; expected "arn:<partition>:s3:::<bucket>/<object>" or "arn:<partition>:s3:<region>:<account>:accesspoint/<name>/object/<key>"`,
  dataUrlInvalid: (reason: string) => `invalid data URL: ${reason}`,
  compressionInvalid: (value: string) => `unsupported compression ${quote(value)}; expected "gzip", or "" or no value for uncompressed data`,
  verificationWithoutSource: () => `a verification hash needs a source to verify; set source or remove the hash`,
  hashMalformed: () => `malformed hash; expected "<function>-<hex digest>", for example "sha512-" followed by 128 hex digits`,
  hashFunctionUnsupported: (fn: string, version: string, allowed: readonly string[]) =>
    `unsupported hash function ${quote(fn)} in spec ${version}; expected ${listOr(allowed.map((a) => quote(a)))}`,
  hashWrongLength: (fn: string, expected: number, got: number) => `a ${fn} digest must be ${expected} hex digits, got ${got}`,
  hashNotHex: (fn: string) => `the ${fn} digest contains characters that are not hex digits; verification of the download will fail`,
  headerNameEmpty: () => `HTTP header name must not be empty`,
  headerValueEmpty: (name: string) => `HTTP header ${quote(name)} has an empty value; omit "value" to drop an inherited header instead`,
  headersNeedSource: () => `HTTP headers need an http or https source, but source is not set`,
  headersSchemeUnsupported: (scheme: string) => `HTTP headers can only be sent to http or https sources, got scheme ${quote(scheme)}`,
  headersUrlUnparsable: (url: string, reason: string) => `HTTP headers need a valid http or https source; cannot parse URL ${quoteUrl(url)}: ${reason}`,

  // proxy
  proxyUnparsable: (url: string, reason: string) => `cannot parse proxy URL ${quoteUrl(url)}: ${reason}`,
  proxySchemeUnsupported: (scheme: string) => `proxy URL must use http or https, got ${scheme === "" ? "no scheme" : `scheme ${quote(scheme)}`}`,
  proxyInsecure: () => `httpsProxy uses plain http, so requests for https resources reach the proxy unencrypted`,

  // files, directories, links
  modeOutOfRange: (mode: number) => `mode must be between 0 and 07777 (decimal 4095), got ${mode}${mode >= 0 ? ` (${octal(mode)})` : ""}`,
  modeSpecialBits: (mode: number, version: string) =>
    `mode ${octal(mode)} sets setuid, setgid or sticky bits, which spec ${version} does not support: they are dropped (supported from spec 3.6.0)`,
  overwriteWithoutSource: () => `overwrite is true but contents.source is not set; set a source or set overwrite to false`,
  ownerIdAndName: () => `set either id or name, not both`,
  linkTargetRequired: () => `link target is required`,
  hardLinkToDirectory: (target: string) => `hard link target ${quote(target)} is a directory in this config; hard links to directories are not possible`,
  hardLinkOwnerIgnored: () => `user and group are ignored for hard links`,
  pathThroughLink: (kind: string, linkPath: string, at: string) =>
    `${kind} path goes through ${quote(linkPath)}, which this config creates as a link (${at})`,
  pathConflictsSystemd: (p: string, what: string) => `path ${quote(p)} is also written by ${what}; configure it in one place only`,

  // duplicates
  duplicate: (what: string, key: string, firstAt: string, note?: string) =>
    `duplicate ${what} ${key}: already defined at ${firstAt}${note ? ` (${note})` : ""}`,

  // disks and partitions
  diskDeviceRequired: () => `disk device is required`,
  partitionNumberCollides: (n: number, firstAt: string) => `partition number ${n} is already used at ${firstAt}`,
  partitionLabelCollides: (label: string, firstAt: string) => `partition label ${quote(label)} is already used at ${firstAt}`,
  partitionsOverlap: (otherAt: string) => `partition overlaps ${otherAt} (both have a fixed startMiB and sizeMiB)`,
  partitionShouldNotExistWithOthers: (fields: readonly string[]) =>
    `a partition with shouldExist false is only identified by its number; remove ${listOr(fields)}`,
  partitionNeedsNumberOrLabel: () => `a partition needs a number of 1 or more, or a label`,
  partitionLabelTooLong: (bytes: number) => `partition label must be at most 36 bytes, got ${bytes}`,
  partitionLabelColon: (label: string) => `partition label ${quote(label)} must not contain ":" (the partitioning tool cuts the label there)`,
  guidInvalid: (value: string) => `${quote(value)} is not a GUID; expected the form "01234567-89AB-CDEF-EDCB-A98765432101"`,

  // RAID
  raidLevelRequired: () => `RAID level is required`,
  raidLevelUnknown: (level: string) => `unsupported RAID level ${quote(level)}; expected linear, raid0, raid1, raid4, raid5, raid6 or raid10`,
  raidSparesUnsupported: (level: string) => `spares are not supported for ${level} arrays`,
  raidDevicesRequired: () => `a RAID array needs at least one device`,

  // filesystems
  fsFormatUnknown: (format: string, version: string, allowed: readonly string[]) =>
    `unsupported filesystem format ${quote(format)} in spec ${version}; expected ${listOr(allowed)}`,
  fsFormatRequired: (fields: readonly string[]) => `format is required when ${listAnd(fields)} ${fields.length > 1 ? "are" : "is"} set`,
  fsLabelNeedsFormat: () => `a filesystem label needs a format`,
  fsLabelNotSupported: (format: string) => `a ${format} filesystem has no label`,
  virtiofsTagTooLong: (bytes: number) => `a virtiofs tag (the device) must be at most 36 bytes, got ${bytes}`,
  fsUuidNeedsBlockDevice: (format: string) => `uuid applies to filesystems on block devices, not to ${format}`,
  fsWipeNeedsBlockDevice: (format: string) => `wipeFilesystem applies to filesystems on block devices, not to ${format}`,
  fsOptionsNeedBlockDevice: (format: string) => `options (mkfs options) apply to filesystems on block devices, not to ${format}`,
  fsLabelTooLong: (format: string, max: number, bytes: number) => `${format} labels must be at most ${max} bytes, got ${bytes}`,
  fsOverwritesPartitions: (device: string, diskAt: string) =>
    `filesystem on ${quote(device)} overwrites the partitions that ${diskAt} creates on the same device`,
  fsImplicitWipe: (diskAt: string) =>
    `${diskAt} wipes the partition table of this device, so an existing filesystem is lost even though wipeFilesystem is false`,

  // LUKS and clevis
  luksNameSlash: (name: string) => `LUKS device name ${quote(name)} must not contain "/"`,
  luksLabelTooLong: (bytes: number) => `LUKS label must be at most 47 bytes, got ${bytes}`,
  luksDeviceRequired: () => `LUKS device is required`,
  clevisCustomWithOthers: () => `a custom clevis config cannot be combined with tpm2, tang or threshold`,
  clevisThresholdTooHigh: (threshold: number, pins: number) =>
    `threshold ${threshold} needs at least ${threshold} clevis pins, but only ${pins} ${pins === 1 ? "is" : "are"} configured (tang servers and tpm2); binding will fail`,
  clevisPinRequired: () => `a custom clevis config needs a pin`,
  clevisPinUnknown: (pin: string, version: string, allowed: readonly string[]) =>
    `unsupported clevis pin ${quote(pin)} in spec ${version}; expected ${listOr(allowed)}`,
  clevisConfigRequired: () => `a custom clevis config needs a config (the pin's JSON configuration)`,
  tangUrlUnparsable: (url: string, reason: string) => `cannot parse tang URL ${quoteUrl(url)}: ${reason}`,
  tangUrlScheme: (scheme: string) => `tang URL must use http or https, got ${scheme === "" ? "no scheme" : `scheme ${quote(scheme)}`}`,
  tangThumbprintRequired: () => `tang thumbprint is required`,
  tangAdvertisementInvalid: () => `tang advertisement must be valid JSON`,
  cexWithClevis: () => `cex cannot be combined with clevis (tang, tpm2, threshold or custom)`,
  cexWithKeyFile: () => `cex cannot be combined with a key file`,

  // systemd
  unitNameSuffix: (name: string) =>
    `unit name ${quote(name)} must end with a unit type: .service, .socket, .device, .mount, .automount, .swap, .target, .path, .timer, .snapshot, .slice or .scope`,
  dropinNameSuffix: (name: string) => `drop-in name ${quote(name)} must end with ".conf"`,
  unitContentsInvalid: (reason: string) => `invalid unit contents: ${reason}`,
  unitNoInstallSection: (name: string) => `unit ${quote(name)} is enabled but has no [Install] section, so enabling it does nothing`,
  templateNoInstallSection: (template: string, instance: string) =>
    `template unit ${quote(template)} has no [Install] section, so enabling ${quote(instance)} does nothing`,
} as const;
