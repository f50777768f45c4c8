// Rendering a config: ignition.config.replace and ignition.config.merge resolved recursively,
// each referenced config fetched with the settings (timeouts, proxy, CAs) of the config
// referring to it, in Ignition's order; then every certificate authority inlined as a data URL
// so later stages never fetch one again.
import { mergeConfigs, type Config, type Resource } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import { redactUrl } from "../log/redact.ts";
import { fetcherForConfig, fetchPem, type ResourceFetcher } from "../resource/index.ts";
import { parseOrThrow } from "./document.ts";

/** Nesting limit for ignition.config.merge/replace chains (a loop would never end otherwise). */
export const MAX_RENDER_DEPTH = 16;

/** One config that went into the rendered result, for the report. */
export interface FetchedConfig {
  kind: "base" | "user";
  source: string;
  referenced: boolean;
}

/** What one rendering shares: the base fetcher, the log, the record of what was fetched. */
export interface RenderEnv {
  base: ResourceFetcher;
  log: Logger;
  fetched: FetchedConfig[];
}

/** Fetches and parses one referenced config (ignition.config.merge/replace entry). */
async function fetchReferenced(ref: Resource, fetcher: ResourceFetcher, env: RenderEnv): Promise<Config> {
  const shown = redactUrl(ref.source ?? "");
  const raw = await env.log.op(`fetching referenced config ${shown}`, () => fetcher.fetchBytes(ref));
  const { config } = parseOrThrow(raw, `referenced config ${shown}`, env.log);
  env.fetched.push({ kind: "user", source: shown, referenced: true });
  return config;
}

/**
 * Resolves ignition.config.replace (the referenced config takes over, rendered in turn) and
 * ignition.config.merge (each referenced config rendered, then merged over the parent, in
 * order). A referenced config is fetched with the settings (timeouts, proxy, CAs) of the
 * config referring to it; its own references with the parent's and its own combined.
 */
export async function renderConfig(config: Config, env: RenderEnv, depth = 0): Promise<Config> {
  if (depth > MAX_RENDER_DEPTH) throw new Error(`Cannot render config: more than ${MAX_RENDER_DEPTH} nested merge/replace references`);
  const refs = config.ignition?.config;
  if (refs?.replace?.source) {
    const next = await fetchReferenced(refs.replace, await fetcherForConfig(env.base, config), env);
    return renderConfig(next, env, depth + 1);
  }
  let merged = config;
  for (const ref of refs?.merge ?? []) {
    if (!ref.source) continue;
    const child = await fetchReferenced(ref, await fetcherForConfig(env.base, merged), env);
    const settings = mergeConfigs(merged, child).ignition ?? {};
    const withSettings: Config = {
      ...child,
      ignition: { ...child.ignition, timeouts: settings.timeouts, proxy: settings.proxy, security: settings.security },
    };
    const rendered = await renderConfig(withSettings, env, depth + 1);
    // The combined settings only drove the child's fetches; merge the child's own.
    merged = mergeConfigs(merged, rendered === withSettings ? child : rendered);
  }
  return merged;
}

/** Rewrites every certificate authority as a data URL so later stages never fetch one again. */
export async function inlineCertificateAuthorities(config: Config, env: RenderEnv): Promise<Config> {
  const cas = config.ignition?.security?.tls?.certificateAuthorities;
  if (!cas?.length) return config;
  const fetcher = await fetcherForConfig(env.base, { ...config, ignition: { ...config.ignition, security: undefined } });
  const inlined: Resource[] = [];
  for (const ca of cas) {
    const pem = await fetchPem(fetcher, ca);
    inlined.push({ source: `data:;base64,${Buffer.from(pem).toString("base64")}` });
  }
  const security = config.ignition?.security;
  return { ...config, ignition: { ...config.ignition, security: { ...security, tls: { ...security?.tls, certificateAuthorities: inlined } } } };
}
