// Acquiring the config: everything that turns a platform and a kernel command line into the
// rendered, validated config the stages apply. Base fragments come from the system config
// directories; the user config from the first provider that has one (kernel command line,
// user.ign, the platform); ignition.config.replace/merge are rendered (render.ts); the result
// is merged over the base, its CAs inlined, and validated. The fetch stages run it and cache the
// result for the later stages (cache.ts).
import { formatIssue, hasErrors, mergeConfigs, NEWEST_STABLE, validateConfig, type Config, type SpecVersion } from "../config/index.ts";
import type { Logger } from "../log/logger.ts";
import { fetchUserConfig, providerChain, readBaseFragments, readKernelArgs, type ProviderContext, type ProviderFile } from "../providers/index.ts";
import { createFetcher, type FetcherOptions, type ResourceFetcher } from "../resource/index.ts";
import type { System } from "../system/system.ts";
import { readConfigCache, writeConfigCache } from "./cache.ts";
import { parseOrThrow } from "./document.ts";
import { inlineCertificateAuthorities, renderConfig, type FetchedConfig, type RenderEnv } from "./render.ts";

export type { FetchedConfig } from "./render.ts";

/** Ignition's limit on fetching the provider's config (its -fetch-timeout default), in seconds. */
export const PROVIDER_FETCH_TIMEOUT_S = 120;
/** Default wait for a config device named on the kernel command line, in seconds. */
export const DEFAULT_DEVICE_WAIT_S = 30;

/** What acquiring a config needs. */
export interface AcquireInput {
  /** Where the config comes from (nexus.platform.id); never guessed. */
  platform: string;
  /** The host: environment (system config directories, kernel command line path), commands. */
  system: System;
  log: Logger;
  /** How fetchers are built (retries, cloud endpoints); each config's own settings come on top. */
  fetcherOptions: FetcherOptions;
  /** Refuse the network (fetch-offline): a NeedNetError escapes when it is needed. */
  offline: boolean;
  /** How long to wait for a config device named on the kernel command line, in milliseconds. */
  deviceWaitMs: number;
}

/** The rendered config and what it was made from. */
export interface AcquiredConfig {
  config: Config;
  version: SpecVersion;
  fetched: FetchedConfig[];
}

/** The input for a caller with a platform, a host, a log and a fetcher (a fetch stage). */
export function acquireInputFor(caller: { platform: string; system: System; log: Logger; fetcher: ResourceFetcher }, offline: boolean): AcquireInput {
  const waitS = Number(caller.system.env.NEXUS_CONFIG_DEVICE_WAIT ?? DEFAULT_DEVICE_WAIT_S);
  return {
    platform: caller.platform,
    system: caller.system,
    log: caller.log,
    fetcherOptions: caller.fetcher.options,
    offline,
    deviceWaitMs: (Number.isFinite(waitS) ? waitS : DEFAULT_DEVICE_WAIT_S) * 1000,
  };
}

/** The base fragments merged in order, or null when there are none. */
async function readBase(input: AcquireInput, fetched: FetchedConfig[]): Promise<Config | null> {
  let base: Config | null = null;
  for (const frag of await readBaseFragments(input.system.env, input.platform)) {
    const { config } = parseOrThrow(frag.raw, `base config "${frag.path}"`, input.log);
    base = base ? mergeConfigs(base, config) : config;
    fetched.push({ kind: "base", source: frag.path, referenced: false });
  }
  return base;
}

/** What the platform's provider fetched: the user config, and files it wants written (Hyper-V). */
interface UserConfig {
  config: Config;
  version: SpecVersion;
  files: ProviderFile[];
}

/** The files a provider wants written, as a config the user config is merged over. */
export function providerFilesConfig(files: readonly ProviderFile[]): Config {
  return {
    ignition: { version: NEWEST_STABLE },
    storage: {
      files: files.map((f) => ({
        path: f.path,
        mode: f.mode,
        overwrite: true,
        contents: { source: `data:;base64,${Buffer.from(f.data).toString("base64")}` },
      })),
    },
  } as Config;
}

/** The user config from the first provider that has one, else the empty config. */
async function readUser(input: AcquireInput, fetcher: ResourceFetcher, fetched: FetchedConfig[]): Promise<UserConfig> {
  const pctx: ProviderContext = {
    fetcher: fetcher.withDefaults({ timeouts: { httpTotal: PROVIDER_FETCH_TIMEOUT_S } }),
    system: input.system,
    log: input.log,
    cmdline: await readKernelArgs(input.system.env),
    platform: input.platform,
    deviceWaitMs: input.deviceWaitMs,
  };
  const user = await fetchUserConfig(pctx);
  const files = user.files ?? [];
  if (user.kind === "config" && user.raw.length > 0) {
    const parsed = parseOrThrow(user.raw, `user config from ${user.source}`, input.log);
    fetched.push({ kind: "user", source: user.source, referenced: false });
    return { ...parsed, files };
  }
  // Ignition's rule: an empty provider config means "no config", not an invalid one.
  if (user.kind === "config") input.log.info(`The config from ${user.source} is empty; continuing with an empty config`);
  else input.log.info(`No user config on platform "${input.platform}" (${user.reason}); continuing with an empty config`);
  return { ...parseOrThrow(new TextEncoder().encode(JSON.stringify({ ignition: { version: NEWEST_STABLE } })), "empty config", input.log), files };
}

/** Runs the whole acquisition; NeedNetError escapes when offline and the network is needed. */
export async function acquireConfig(input: AcquireInput): Promise<AcquiredConfig> {
  const base = createFetcher({ ...input.fetcherOptions, defaults: undefined, offline: input.offline, log: input.log, env: input.system.env });
  const fetched: FetchedConfig[] = [];
  const baseConfig = await readBase(input, fetched);
  providerChain(input.platform); // rejects an unknown platform before anything is fetched
  const user = await readUser(input, base, fetched);
  const render: RenderEnv = { base, log: input.log, fetched: [] };
  const rendered = await renderConfig(user.config, render);
  fetched.push(...render.fetched);
  // Files the provider wants written (Hyper-V's KVP pools) sit under everything else.
  const under = user.files.length > 0 ? mergeConfigs(providerFilesConfig(user.files), baseConfig ?? providerFilesConfig([])) : baseConfig;
  const full = await inlineCertificateAuthorities(under ? mergeConfigs(under, rendered) : rendered, render);
  // Only a config that merging or rendering changed needs validating again: the user config
  // alone was validated when it was parsed, and its warnings were already logged then.
  const issues = full === user.config ? [] : validateConfig(full, user.version);
  for (const i of issues) if (i.severity !== "error") input.log.warn(`rendered config: ${formatIssue(i)}`);
  if (hasErrors(issues)) {
    throw new Error(`Cannot use the rendered config: ${issues.filter((i) => i.severity === "error").map(formatIssue).join("; ")}`);
  }
  return { config: full, version: user.version, fetched };
}

/**
 * The config cached at `cachePath` by an earlier fetch stage, or else the one acquired now and
 * cached there; `fetched` (what it was made from) is null for a cached one.
 */
export async function acquireOnce(input: AcquireInput, cachePath: string): Promise<{ config: Config; fetched: FetchedConfig[] | null }> {
  const cached = readConfigCache(cachePath);
  if (cached) {
    input.log.info(`Using the config cached at "${cachePath}" by an earlier fetch stage`);
    return { config: cached, fetched: null };
  }
  const acquired = await acquireConfig(input);
  writeConfigCache(cachePath, acquired.config);
  input.log.info(`Rendered config cached at "${cachePath}"`);
  return { config: acquired.config, fetched: acquired.fetched };
}

/** What acquiring will do, touching nothing: where the config comes from and where it is cached. */
export function planAcquisition(platform: string, cachePath: string): { action: string; target: string; detail?: string }[] {
  const chain = providerChain(platform).map((p) => p.name).join(", then ");
  return [
    { action: "fetch-config", target: platform, detail: `providers: ${chain}; base configs from the system config directories` },
    { action: "cache-config", target: cachePath },
  ];
}
