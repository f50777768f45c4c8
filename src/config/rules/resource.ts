// Rules for fetchable resources (config references, CA bundles, file contents, key files) and
// the URLs inside them: schemes allowed per spec version, S3/ARN/data URL forms, compression,
// verification hashes and HTTP headers.
import type { IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import type { HttpHeader, Resource } from "../types.ts";
import { isBlank, type RuleContext } from "./context.ts";
import { checkDataUrl } from "./data_url.ts";
import { checkUnique } from "./duplicates.ts";
import { parseUrl, queryValues } from "./go_url.ts";

/** Source URL schemes the config's spec version accepts. */
export function allowedSchemes(ctx: RuleContext): string[] {
  const schemes = ["http", "https", "tftp", "s3"];
  if (ctx.atLeast("3.2.0")) schemes.push("gs");
  if (ctx.atLeast("3.4.0")) schemes.push("arn");
  schemes.push("data");
  return schemes;
}

/** Validates one source URL; reports at `path` and returns whether it is valid. */
export function checkSourceUrl(ctx: RuleContext, path: IssuePath, url: string): boolean {
  // Spec 3.0 treats an empty source as "no contents".
  if (url === "" && !ctx.atLeast("3.1.0")) return true;
  const parsed = parseUrl(url);
  if (!parsed.ok) {
    ctx.error(path, MESSAGES.urlUnparsable(url, parsed.reason));
    return false;
  }
  const u = parsed.url;
  const allowed = allowedSchemes(ctx);
  if (!allowed.includes(u.scheme)) {
    ctx.error(path, u.scheme === "" ? MESSAGES.urlSchemeMissing(url, allowed) : MESSAGES.urlSchemeUnsupported(u.scheme, ctx.version, allowed));
    return false;
  }
  if (u.scheme === "s3") return checkVersionId(ctx, path, u.rawQuery);
  if (u.scheme === "arn") {
    if (!isS3Arn(`arn:${u.opaque}`)) {
      ctx.error(path, MESSAGES.s3ArnInvalid());
      return false;
    }
    return checkVersionId(ctx, path, u.rawQuery);
  }
  if (u.scheme === "data") {
    const bad = checkDataUrl(url);
    if (bad) {
      ctx.error(path, MESSAGES.dataUrlInvalid(bad));
      return false;
    }
  }
  return true;
}

function checkVersionId(ctx: RuleContext, path: IssuePath, rawQuery: string): boolean {
  const v = queryValues(rawQuery, "versionId");
  if (v !== undefined && (v.length === 0 || v[0] === "")) {
    ctx.error(path, MESSAGES.s3VersionIdEmpty());
    return false;
  }
  return true;
}

/** An S3 object or access point ARN: arn:<partition>:s3:<region>:<account>:<resource>. */
export function isS3Arn(arn: string): boolean {
  if (!arn.startsWith("arn:") || arn.split(":").length - 1 < 5) return false;
  const sections = splitN(arn, ":", 6);
  if (sections.length !== 6 || sections[2] !== "s3") return false;
  const slashParts = arn.split("/").length;
  if (sections[5]!.startsWith("accesspoint/")) return slashParts >= 3;
  return slashParts >= 2;
}

function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** Extra requirements some resource fields have. */
export interface ResourceRules {
  /** The resource must name a source (config references and CA bundles from spec 3.1). */
  requireSource?: boolean;
}

/** Validates a resource object at `path` (compression, hash, source, headers). */
export function checkResource(ctx: RuleContext, path: IssuePath, res: Resource, rules: ResourceRules = {}): void {
  const source = res.source ?? undefined;
  if (res.compression !== undefined && res.compression !== null && res.compression !== "" && res.compression !== "gzip") {
    ctx.error([...path, "compression"], MESSAGES.compressionInvalid(res.compression));
  }
  const hash = res.verification?.hash;
  if (hash !== undefined && hash !== null) {
    if (source === undefined) ctx.error([...path, "verification", "hash"], MESSAGES.verificationWithoutSource());
    checkHash(ctx, [...path, "verification", "hash"], hash);
  }
  if (rules.requireSource && isBlank(source)) {
    ctx.error([...path, "source"], MESSAGES.sourceRequired());
  } else if (!isBlank(source)) {
    checkSourceUrl(ctx, [...path, "source"], source!);
  }
  checkHeaders(ctx, path, res.httpHeaders ?? [], source);
}

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** Validates a "<function>-<hex digest>" verification hash. */
export function checkHash(ctx: RuleContext, path: IssuePath, hash: string): void {
  const dash = hash.indexOf("-");
  if (dash < 0) {
    ctx.error(path, MESSAGES.hashMalformed());
    return;
  }
  const fn = hash.slice(0, dash);
  const digest = hash.slice(dash + 1);
  const allowed = ctx.atLeast("3.1.0") ? ["sha256", "sha512"] : ["sha512"];
  if (!allowed.includes(fn)) {
    ctx.error(path, MESSAGES.hashFunctionUnsupported(fn, ctx.version, allowed));
    return;
  }
  const want = DIGEST_HEX_LENGTH[fn]!;
  if (digest.length !== want) {
    ctx.error(path, MESSAGES.hashWrongLength(fn, want, digest.length));
    return;
  }
  if (!/^[0-9a-fA-F]*$/.test(digest)) ctx.warning(path, MESSAGES.hashNotHex(fn));
}

function checkHeaders(ctx: RuleContext, path: IssuePath, headers: readonly HttpHeader[], source: string | undefined): void {
  if (headers.length > 0) {
    const at = [...path, "httpHeaders"];
    if (isBlank(source)) {
      ctx.error(at, MESSAGES.headersNeedSource());
    } else {
      const parsed = parseUrl(source!);
      if (!parsed.ok) ctx.error(at, MESSAGES.headersUrlUnparsable(source!, parsed.reason));
      else if (parsed.url.scheme !== "http" && parsed.url.scheme !== "https") ctx.error(at, MESSAGES.headersSchemeUnsupported(parsed.url.scheme));
    }
  }
  headers.forEach((h, i) => {
    if (isBlank(h.name)) ctx.error([...path, "httpHeaders", i, "name"], MESSAGES.headerNameEmpty());
    if (h.value === "") ctx.error([...path, "httpHeaders", i, "value"], MESSAGES.headerValueEmpty(h.name ?? ""));
  });
  checkUnique(ctx, "HTTP header", headers.map((h, i) => ({ key: h.name ?? "", path: [...path, "httpHeaders", i] })));
}
