// Rules for the `ignition` section: version, merge/replace references, TLS CA bundles, proxy.
import type { IssuePath } from "../issues.ts";
import { MESSAGES } from "../messages.ts";
import type { Ignition } from "../types.ts";
import { isBlank, type RuleContext } from "./context.ts";
import { parseUrl } from "./go_url.ts";
import { checkResource } from "./resource.ts";

/** Validates config.ignition. */
export function checkIgnition(ctx: RuleContext, ign: Ignition | null | undefined): void {
  const at: IssuePath = ["ignition"];
  if (isBlank(ign?.version)) ctx.error([...at, "version"], MESSAGES.versionRequired());
  if (!ign) return;
  // Spec 3.0 keeps references whose source is unset; later specs require a source.
  const requireSource = ctx.atLeast("3.1.0");
  (ign.config?.merge ?? []).forEach((ref, i) => checkResource(ctx, [...at, "config", "merge", i], ref, { requireSource }));
  if (ign.config?.replace) checkResource(ctx, [...at, "config", "replace"], ign.config.replace);
  (ign.security?.tls?.certificateAuthorities ?? []).forEach((ca, i) =>
    checkResource(ctx, [...at, "security", "tls", "certificateAuthorities", i], ca, { requireSource }),
  );
  const proxy = ign.proxy;
  if (proxy) {
    checkProxyUrl(ctx, [...at, "proxy", "httpProxy"], proxy.httpProxy, true);
    checkProxyUrl(ctx, [...at, "proxy", "httpsProxy"], proxy.httpsProxy, false);
  }
}

function checkProxyUrl(ctx: RuleContext, path: IssuePath, url: string | null | undefined, plainHttpOk: boolean): void {
  if (url === null || url === undefined) return;
  const parsed = parseUrl(url);
  if (!parsed.ok) {
    ctx.error(path, MESSAGES.proxyUnparsable(url, parsed.reason));
    return;
  }
  const scheme = parsed.url.scheme;
  if (scheme !== "http" && scheme !== "https") ctx.error(path, MESSAGES.proxySchemeUnsupported(scheme));
  else if (scheme === "http" && !plainHttpOk) ctx.warning(path, MESSAGES.proxyInsecure());
}
