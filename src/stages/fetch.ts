// The fetch stages' shared work and the fetch stage itself. Acquiring the config: base
// fragments from the system config directories; the user config from the first provider that
// has one (kernel command line, user.ign, the platform); ignition.config.replace/merge rendered
// recursively with each referenced config's timeouts, proxy and CAs in effect (Ignition's
// order); the result merged over the base, validated, its CAs inlined as data URLs, and cached
// atomically in the run directory for the later stages.
import { parseAnyConfig } from "../butane/accept.ts";
import { formatIssue, hasErrors, mergeConfigs, validateConfig } from "../config/index.ts";
import type { Config, Resource, SpecVersion } from "../config/types.ts";
import { redactUrl } from "../log/redact.ts";
import type { Logger } from "../log/logger.ts";
import { readConfigCache, writeConfigCache } from "../executor/config_cache.ts";
import { runPaths } from "../executor/paths.ts";
import { step, type PlanEntry, type Stage, type StageContext } from "../executor/stage.ts";
import { fetchUserConfig, providerChain, readBaseFragments, readKernelArgs, type ProviderContext } from "../providers/index.ts";
import { createFetcher, fetcherForConfig, splitPem, type ResourceFetcher } from "../resource/index.ts";


/** Ignition's limit on fetching the provider's config (its -fetch-timeout default), in seconds. */
export const PROVIDER_FETCH_TIMEOUT_S = 120;
/** Default wait for a config device named on the kernel command line, in seconds. */
export const DEFAULT_DEVICE_WAIT_S = 30;
/** Nesting limit for ignition.config.merge/replace chains (a loop would never end otherwise). */
export const MAX_RENDER_DEPTH = 16;
/** The version the empty config announces when a platform provides none. */
const EMPTY_CONFIG_JSON = '{"ignition":{"version":"3.6.0"}}';

/** One config that went into the rendered result, for the report. */
export interface FetchedConfig {
  kind: "base" | "user";
  source: string;
  referenced: boolean;
}

/** The rendered config and what it was made from. */
export interface AcquiredConfig {
  config: Config;
  version: SpecVersion;
  fetched: FetchedConfig[];
}

/** Parses one config document; throws with every error (never the document) when it is invalid. */
export function parseOrThrow(raw: Uint8Array, what: string, log: Logger): { config: Config; version: SpecVersion } {
  const r = parseAnyConfig(raw);
  for (const i of r.issues) if (i.severity !== "error") log.warn(`${what}: ${formatIssue(i)}`);
  if (!r.ok) {
    throw new Error(`Cannot parse ${what}: ${r.issues.filter((i) => i.severity === "error").map(formatIssue).join("; ")}`);
  }
  return { config: r.config, version: r.version };
}

/** A fetcher with the settings of ctx.fetcher (retries, cloud endpoints) and no config defaults. */
export function baseFetcher(ctx: StageContext, offline: boolean): ResourceFetcher {
  return createFetcher({ ...ctx.fetcher.options, defaults: undefined, offline, log: ctx.log, env: ctx.system.env });
}

/** What one rendering shares: the base fetcher, the log, the record. */
export interface RenderEnv {
  base: ResourceFetcher;
  log: Logger;
  fetched: FetchedConfig[];
}

/** A fresh rendering environment. */
export function renderEnv(base: ResourceFetcher, log: Logger): RenderEnv {
  return { base, log, fetched: [] };
}

/** The fetcher to use once config has been read: its timeouts, proxy and CAs applied. */
function fetcherFor(config: Config, env: RenderEnv): Promise<ResourceFetcher> {
  return fetcherForConfig(env.base, config);
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
    const next = await fetchReferenced(refs.replace, await fetcherFor(config, env), env);
    return renderConfig(next, env, depth + 1);
  }
  let merged = config;
  for (const ref of refs?.merge ?? []) {
    if (!ref.source) continue;
    const child = await fetchReferenced(ref, await fetcherFor(merged, env), env);
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
async function inlineCertificateAuthorities(config: Config, env: RenderEnv): Promise<Config> {
  const cas = config.ignition?.security?.tls?.certificateAuthorities;
  if (!cas?.length) return config;
  const fetcher = await fetcherFor({ ...config, ignition: { ...config.ignition, security: undefined } }, env);
  const inlined: Resource[] = [];
  for (const ca of cas) {
    const pem = new TextDecoder().decode(await fetcher.fetchBytes(ca));
    if (splitPem(pem).length === 0) throw new Error(`Cannot use certificate authority "${redactUrl(ca.source ?? "")}": no PEM certificate found`);
    inlined.push({ source: `data:;base64,${Buffer.from(pem).toString("base64")}` });
  }
  const security = config.ignition?.security;
  return { ...config, ignition: { ...config.ignition, security: { ...security, tls: { ...security?.tls, certificateAuthorities: inlined } } } };
}

/** Everything acquireConfig needs besides the stage context. */
export interface AcquireOptions {
  offline: boolean;
}

/** Runs the whole acquisition; NeedNetError escapes when offline and the network is needed. */
export async function acquireConfig(ctx: StageContext, opts: AcquireOptions): Promise<AcquiredConfig> {
  const env = ctx.system.env;
  const base = baseFetcher(ctx, opts.offline);
  const fetched: FetchedConfig[] = [];

  let baseConfig: Config | null = null;
  for (const frag of await readBaseFragments(env, ctx.platform)) {
    const { config } = parseOrThrow(frag.raw, `base config "${frag.path}"`, ctx.log);
    baseConfig = baseConfig ? mergeConfigs(baseConfig, config) : config;
    fetched.push({ kind: "base", source: frag.path, referenced: false });
  }

  providerChain(ctx.platform); // rejects an unknown platform before anything is fetched
  const waitS = Number(env.NEXUS_CONFIG_DEVICE_WAIT ?? DEFAULT_DEVICE_WAIT_S);
  const pctx: ProviderContext = {
    fetcher: base.withDefaults({ timeouts: { httpTotal: PROVIDER_FETCH_TIMEOUT_S } }),
    system: ctx.system,
    log: ctx.log,
    cmdline: await readKernelArgs(env),
    platform: ctx.platform,
    deviceWaitMs: (Number.isFinite(waitS) ? waitS : DEFAULT_DEVICE_WAIT_S) * 1000,
  };
  const user = await fetchUserConfig(pctx);
  let userConfig: Config;
  let version: SpecVersion;
  if (user.kind === "config" && user.raw.length === 0) {
    // Ignition's rule: an empty provider config means "no config", not an invalid one.
    ctx.log.info(`The config from ${user.source} is empty; continuing with an empty config`);
  }
  if (user.kind === "config" && user.raw.length > 0) {
    ({ config: userConfig, version } = parseOrThrow(user.raw, `user config from ${user.source}`, ctx.log));
    fetched.push({ kind: "user", source: user.source, referenced: false });
  } else {
    if (user.kind === "none") ctx.log.info(`No user config on platform "${ctx.platform}" (${user.reason}); continuing with an empty config`);
    ({ config: userConfig, version } = parseOrThrow(new TextEncoder().encode(EMPTY_CONFIG_JSON), "empty config", ctx.log));
  }

  const render = renderEnv(base, ctx.log);
  const rendered = await renderConfig(userConfig, render);
  fetched.push(...render.fetched);
  let full = baseConfig ? mergeConfigs(baseConfig, rendered) : rendered;
  full = await inlineCertificateAuthorities(full, render);
  // Only a config that merging or rendering changed needs validating again: the user config
  // alone was validated when it was parsed, and its warnings were already logged then.
  const issues = full === userConfig ? [] : validateConfig(full, version);
  for (const i of issues) if (i.severity !== "error") ctx.log.warn(`rendered config: ${formatIssue(i)}`);
  if (hasErrors(issues)) {
    throw new Error(`Cannot use the rendered config: ${issues.filter((i) => i.severity === "error").map(formatIssue).join("; ")}`);
  }
  return { config: full, version, fetched };
}

/** What both fetch stages plan: where the config will come from (nothing is fetched). */
export function planFetch(ctx: StageContext, stage: "fetch" | "fetch-offline"): PlanEntry[] {
  const cache = runPaths(ctx).config;
  const chain = providerChain(ctx.platform).map((p) => p.name).join(", then ");
  return [
    { stage, action: "fetch-config", target: ctx.platform, detail: `providers: ${chain}; base configs from the system config directories` },
    { stage, action: "cache-config", target: cache },
  ];
}

/** Records the acquisition in the context and the state (for the report). */
export function adopt(ctx: StageContext, acquired: AcquiredConfig): void {
  ctx.config = acquired.config;
  ctx.state.fetched = acquired.fetched;
}

/** The fetch stage: acquires and caches the config with the network available. */
export const fetchStage: Stage = {
  name: "fetch",

  async plan(ctx) {
    return planFetch(ctx, "fetch");
  },

  async run(ctx) {
    const cachePath = runPaths(ctx).config;
    const cached = await step("read the cached config", () => readConfigCache(cachePath));
    if (cached) {
      ctx.log.info(`Using the config cached at "${cachePath}" by an earlier fetch stage`);
      ctx.config = cached;
      return;
    }
    const acquired = await step("acquire the config", () => acquireConfig(ctx, { offline: false }));
    await step("cache the rendered config", () => writeConfigCache(cachePath, acquired.config));
    adopt(ctx, acquired);
    ctx.log.info(`Rendered config cached at "${cachePath}"`);
  },
};
