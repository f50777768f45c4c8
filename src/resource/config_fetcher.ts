// The one place a config's fetch settings — ignition.timeouts, ignition.proxy and the
// certificate authorities of ignition.security.tls — become a fetcher. The engine uses it for
// the stages after the fetch stages, config rendering for each referenced config.
import type { Config, Resource } from "../config/types.ts";
import { redactUrl } from "../log/redact.ts";
import { splitPem } from "./certificates.ts";
import { stripNullish } from "./options.ts";
import type { FetchOptions, ResourceFetcher } from "./types.ts";

/** Derived fetchers by base fetcher and settings, so each CA is fetched once per base. */
const derived = new WeakMap<ResourceFetcher, Map<string, Promise<ResourceFetcher>>>();

/**
 * The fetcher for resources of `config`: `base` with the config's timeouts, proxy and CAs
 * layered on top (base itself when the config sets none). CAs are fetched with the timeouts
 * and proxy already applied; each must hold at least one PEM certificate.
 */
export function fetcherForConfig(base: ResourceFetcher, config: Config): Promise<ResourceFetcher> {
  const ign = config.ignition;
  if (!ign?.timeouts && !ign?.proxy && (ign?.security?.tls?.certificateAuthorities ?? []).length === 0) return Promise.resolve(base);
  let byKey = derived.get(base);
  if (!byKey) derived.set(base, (byKey = new Map()));
  const key = JSON.stringify([ign?.timeouts ?? null, ign?.proxy ?? null, ign?.security ?? null]);
  let f = byKey.get(key);
  if (!f) {
    f = fetchOptionsOf(config, base).then((o) => base.withDefaults(o));
    byKey.set(key, f);
  }
  return f;
}

/** The fetch options a config's ignition section implies, its CAs fetched through `fetcher`. */
async function fetchOptionsOf(config: Config, fetcher: ResourceFetcher): Promise<FetchOptions> {
  const ign = config.ignition ?? {};
  const base: FetchOptions = {
    timeouts: stripNullish(ign.timeouts),
    ...(ign.proxy ? { proxy: ign.proxy } : {}),
  };
  const cas: string[] = [];
  for (const ref of ign.security?.tls?.certificateAuthorities ?? []) {
    const certs = splitPem(await fetchPem(fetcher, ref, base));
    fetcher.options.log?.info(`Adding ${certs.length} certificate(s) from ${redactUrl(ref.source ?? "")} to the trusted CAs`);
    cas.push(...certs);
  }
  return { ...base, certificateAuthorities: cas };
}

/** The PEM text of one certificate authority resource; throws when it holds no certificate. */
export async function fetchPem(fetcher: ResourceFetcher, ref: Resource, opts?: FetchOptions): Promise<string> {
  const text = new TextDecoder().decode(await fetcher.fetchBytes(ref, opts));
  if (splitPem(text).length === 0) throw new Error(`Cannot use certificate authority "${redactUrl(ref.source ?? "")}": no PEM certificate found`);
  return text;
}
