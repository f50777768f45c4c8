// The engine: runs the stages it is given, in that order, against a target root. `apply` runs
// them all in one process; at boot each `run --stage` call runs one, with the rendered config
// cached by the fetch stages and the state file carried in the run directory between calls. Before a
// stage acts, its plan is logged; every stage is a logged operation with its duration; after
// the files stage the result report is written into the root.
import { NEWEST_STABLE, type Config } from "../config/types.ts";
import { createFetcher, fetcherForConfig, type FetcherOptions, type ResourceFetcher } from "../resource/index.ts";
import type { System } from "../system/system.ts";
import { stageByName } from "../stages/index.ts";
import type { Logger } from "../log/logger.ts";
import { readConfigCache } from "../acquire/cache.ts";
import { deleteProvisionedConfig, deletesConfig, reportStageStatus } from "../acquire/platform_hooks.ts";
import { buildReport, writeReport } from "./report.ts";
import type { StageName } from "./names.ts";
import type { AccountsMode, PlanEntry, RunPaths, Stage, StageContext } from "./stage.ts";
import { emptyState, loadState, saveState, type StageRecord, type StageState } from "./state.ts";

/** Stages that produce the rendered config instead of consuming it. */
export const FETCH_STAGES: readonly StageName[] = ["fetch-offline", "fetch"];

/** How the engine runs. */
export interface EngineOptions {
  /** The target root directory. */
  root: string;
  platform: string;
  system: System;
  log: Logger;
  paths: RunPaths;
  /** The config for the stages after the fetch stages when it is already known (apply). */
  config?: Config;
  /** Where the config came from, for the report ("file:/path", provider name). */
  configSource: string;
  /** Load and save the state file between calls (boot); apply keeps state in memory. */
  persistState: boolean;
  /** Write /etc/.nexus-result.json after the files stage (default true). */
  report?: boolean;
  /** How the stages' fetchers are built (retries, cloud endpoints); fetch-offline's is offline. */
  fetcherOptions?: FetcherOptions;
  /** How the files stage writes accounts (default "native"). */
  accounts?: AccountsMode;
  /** Called around each stage (`run` with several stages at boot); none by default. */
  hooks?: StageHooks;
}

/** What to do with the next stage: run it, pass over it, or end the run successfully before it. */
export type StageDecision = "run" | "skip" | "stop";

/**
 * Hooks around each stage. `before` decides (and may act on the host first, e.g. bring up the
 * network); when it throws, the stage fails with that error, exactly as if the stage had.
 * `after` sees each stage's record once it ran (or failed).
 */
export interface StageHooks {
  before?(name: StageName, state: StageState): Promise<StageDecision>;
  after?(record: StageRecord): void;
}

/** What a run did. */
export interface EngineResult {
  ok: boolean;
  /** The stages this call ran, in order. */
  stages: StageRecord[];
  /** Every plan entry logged before acting. */
  plan: PlanEntry[];
  failedStage?: StageName;
  error?: string;
  /** The stage a hook stopped the run before (e.g. disks, when changed kernel arguments need a reboot first). */
  stoppedBefore?: StageName;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The smallest config: nothing to do. */
function emptyConfig(): Config {
  return { ignition: { version: NEWEST_STABLE } };
}

/** Reads the rendered config the fetch stages cached; throws when there is none. */
export function loadCachedConfig(path: string): Config {
  const config = readConfigCache(path);
  if (!config) throw new Error(`Cannot read the rendered config "${path}": no such file (run the fetch stages first)`);
  return config;
}

/** Logs a plan, one line per entry. */
function logPlan(log: Logger, name: StageName, plan: readonly PlanEntry[]): void {
  if (plan.length === 0) return;
  log.info(`${name}: plan: ${plan.length} action(s)`);
  for (const p of plan) log.info(`${name}: plan: ${p.action} ${p.target}${p.detail ? ` (${p.detail})` : ""}`);
}

/** Shared setup of runStages and planStages. */
class Run {
  readonly state: StageState;
  config: Config | undefined;
  private readonly fetchers = new Map<StageName, ResourceFetcher>();
  constructor(readonly opts: EngineOptions) {
    this.state = opts.persistState ? loadState(opts.paths.state) : emptyState();
    this.config = opts.config;
  }

  fetcher(name: StageName): ResourceFetcher {
    let f = this.fetchers.get(name);
    if (!f) {
      f = createFetcher({ ...this.opts.fetcherOptions, offline: name === "fetch-offline", log: this.opts.log, env: this.opts.system.env });
      this.fetchers.set(name, f);
    }
    return f;
  }

  /** The context for one stage; loads the cached config for stages after the fetch stages. */
  async context(stage: Stage): Promise<StageContext> {
    const isFetch = FETCH_STAGES.includes(stage.name);
    if (!isFetch && !this.config) this.config = loadCachedConfig(this.opts.paths.config);
    const config = this.config ?? emptyConfig();
    const fetcher = isFetch ? this.fetcher(stage.name) : await fetcherForConfig(this.fetcher(stage.name), config);
    return {
      config,
      root: this.opts.root,
      system: this.opts.system,
      log: this.opts.log.child(stage.name),
      fetcher,
      platform: this.opts.platform,
      state: this.state,
      paths: this.opts.paths,
      accounts: this.opts.accounts ?? "native",
    };
  }

  /** After a fetch stage: the config it rendered, if it cached one. */
  afterFetch(): void {
    this.config = readConfigCache(this.opts.paths.config) ?? this.config;
  }

}

/**
 * Runs the named stages in the order given (apply passes every stage in STAGE_NAMES order,
 * `run --stage` one or several). A failing stage stops the run (a later umount still runs
 * when mount left something mounted); the result says which stage failed and why. Hooks may
 * skip a stage, stop the run before one, or act on the host before one (the boot sequence of
 * `run` with several stages).
 */
export async function runStages(names: readonly StageName[], opts: EngineOptions): Promise<EngineResult> {
  const run = new Run(opts);
  const { log } = opts;
  const records = run.state.stages;
  const result: EngineResult = { ok: true, stages: [], plan: [] };
  for (const name of names) {
    // After a failure only umount runs, and only to release what mount recorded as mounted.
    if (!result.ok && !(name === "umount" && run.state.mounted.length > 0)) continue;
    const startedAt = opts.system.now();
    const t0 = performance.now();
    const stage = stageByName(name);
    try {
      const decision = (await opts.hooks?.before?.(name, run.state)) ?? "run";
      if (decision === "skip") continue;
      if (decision === "stop") {
        result.stoppedBefore = name;
        break;
      }
      const ctx = await run.context(stage);
      const plan = await stage.plan(ctx);
      logPlan(log, name, plan);
      result.plan.push(...plan);
      await log.op(`stage ${name}`, () => stage.run(ctx));
      if (FETCH_STAGES.includes(name)) run.afterFetch();
      // The last stage of a provisioning that went well: the platform may now forget the config.
      if (name === "umount" && result.ok && deletesConfig(opts.platform)) {
        await deleteProvisionedConfig({ platform: opts.platform, system: opts.system, log, fetcher: ctx.fetcher });
      }
      const rec: StageRecord = { name, ok: true, ms: performance.now() - t0, startedAt: new Date(startedAt).toISOString() };
      records.push(rec);
      result.stages.push(rec);
      opts.hooks?.after?.(rec);
    } catch (e) {
      const error = errorText(e);
      const rec: StageRecord = { name, ok: false, ms: performance.now() - t0, startedAt: new Date(startedAt).toISOString(), error };
      records.push(rec);
      result.stages.push(rec);
      if (result.ok) {
        result.ok = false;
        result.failedStage = name;
        result.error = error;
      }
      log.crit(`${name}: stage failed: ${error}`);
      opts.hooks?.after?.(rec);
    }
    const failed = result.stages.at(-1);
    await reportStageStatus({ platform: opts.platform, system: opts.system, log, fetcher: run.fetcher(name) }, name, failed?.ok === false ? (failed.error ?? "failed") : null);
    if (name === "files" && opts.report !== false) await reportAfterFiles(run, result);
    if (opts.persistState) saveState(opts.paths.state, run.state);
  }
  return result;
}

/** The user config's source as the fetch stages recorded it in the state, if they did. */
function configSourceOf(state: StageState): string | undefined {
  return state.fetched.find((f) => f.kind === "user" && !f.referenced)?.source;
}

/** Writes the result report after the files stage; a report that cannot be written fails it. */
async function reportAfterFiles(run: Run, result: EngineResult): Promise<void> {
  const { opts } = run;
  const report = buildReport({
    now: opts.system.now(),
    // At boot the fetch stages know the source; apply and plan know it better (the temporary
    // copy the file platform reads is not where the config came from).
    configSource: (opts.persistState ? configSourceOf(run.state) : undefined) ?? opts.configSource,
    stages: run.state.stages,
    failedStage: result.failedStage,
    error: result.error,
  });
  try {
    await opts.log.op(`writing result report "/etc/.nexus-result.json"`, () => writeReport(opts.root, report));
  } catch (e) {
    if (result.ok) {
      result.ok = false;
      result.failedStage = "files";
      result.error = errorText(e);
    }
    opts.log.crit(`files: cannot write the result report: ${errorText(e)}`);
  }
}

/**
 * Plans the named stages without touching the root. The fetch stages do run (they only read
 * config sources and write the private run directory) so later plans see the rendered config.
 */
export async function planStages(names: readonly StageName[], opts: EngineOptions): Promise<{ ok: boolean; plan: PlanEntry[]; error?: string }> {
  const run = new Run(opts);
  const plan: PlanEntry[] = [];
  try {
    for (const name of names) {
      const stage = stageByName(name);
      const ctx = await run.context(stage);
      if (FETCH_STAGES.includes(name)) {
        await stage.run(ctx);
        run.afterFetch();
        continue;
      }
      plan.push(...(await stage.plan(ctx)));
    }
  } catch (e) {
    return { ok: false, plan, error: errorText(e) };
  }
  return { ok: !plan.some((p) => p.action === "fail"), plan };
}
