// The registry of Butane variants and spec versions nexus-init translates, each with its base
// schema, the Ignition spec it produces, and its variant-specific sections, checks and sugar.
import { fcosSections, translateFcos, validateFcos, type FcosMinor } from "./fcos.ts";
import { errorAt, type PendingEntry } from "./report.ts";
import { baseSchema, withSections, type BaseVersion, type Obj, type StructType } from "./schema.ts";
import type { TranslateContext, Translated } from "./translate.ts";

/** One translatable variant/version. */
export interface VariantSpec {
  variant: "fcos" | "flatcar";
  version: string;
  base: BaseVersion;
  /** `ignition.version` of the output. */
  ignition: string;
  /** Go package name Butane uses for this spec (shown in decode errors). */
  pkg: string;
  config: StructType;
  /** Variant checks of the source config (Butane paths). */
  validate(cfg: Obj, out: PendingEntry[]): void;
  /** Variant sugar on the translated config; `jsonReport` takes entries with Ignition paths. */
  translate(cfg: Obj, current: Translated, ctx: TranslateContext, jsonReport: PendingEntry[]): Translated;
  /** Fields of the Ignition output this spec forbids (Ignition paths). */
  filter(ignition: Obj, out: PendingEntry[]): void;
}

/** Variants Butane knows that nexus-init does not translate. */
export const UNSUPPORTED_VARIANTS = ["openshift", "r4e", "fiot"] as const;

// Schemas are built on first use: most calls of nexus-init read JSON and never translate Butane.
function fcos(minor: FcosMinor, base: BaseVersion, ignition: string, version = `1.${minor}.0`): VariantSpec {
  let config: StructType | undefined;
  const configOf = () => (config ??= withSections(baseSchema(base).config, fcosSections(minor, base)));
  return {
    variant: "fcos",
    version,
    base,
    ignition,
    pkg: `v0_${base}`,
    get config() {
      return configOf();
    },
    validate: (cfg, out) => validateFcos(minor, cfg, out),
    translate: (cfg, current, ctx, jsonReport) => translateFcos(minor, configOf(), cfg, current, ctx, jsonReport),
    filter: () => {},
  };
}

function flatcar(version: string, base: BaseVersion, ignition: string, forbidden: "clevis" | "cex"): VariantSpec {
  const message = forbidden === "clevis" ? "clevis is not supported in this spec version" : "cex is not currently supported on the target platform";
  return {
    variant: "flatcar",
    version,
    base,
    ignition,
    pkg: `v0_${base}`,
    get config() {
      return baseSchema(base).config;
    },
    validate: () => {},
    translate: (_cfg, current) => current,
    filter: (ignitionCfg, out) => {
      const luks = ((ignitionCfg.storage as Obj | undefined)?.luks as Obj[] | undefined) ?? [];
      luks.forEach((l, i) => {
        const v = l[forbidden] as Obj | undefined;
        if (v && Object.values(v).some((x) => x !== undefined && !(Array.isArray(x) && x.length === 0))) {
          out.push({ ...errorAt(["storage", "luks", i, forbidden], message), json: true });
        }
      });
    },
  };
}

/** Every spec nexus-init translates, keyed by `variant+version`. */
export const VARIANTS: ReadonlyMap<string, VariantSpec> = new Map(
  [
    fcos(0, 1, "3.0.0"),
    fcos(1, 2, "3.1.0"),
    fcos(2, 3, "3.2.0"),
    fcos(3, 3, "3.2.0"),
    fcos(4, 4, "3.3.0"),
    fcos(5, 5, "3.4.0"),
    fcos(6, 6, "3.5.0"),
    // 1.7.0-experimental is what Butane 0.23 shipped: the 1.6 schema targeting 3.6.0-experimental.
    fcos(6, 6, "3.6.0-experimental", "1.7.0-experimental"),
    fcos(7, 7, "3.6.0"),
    flatcar("1.0.0", 4, "3.3.0", "clevis"),
    flatcar("1.1.0", 5, "3.4.0", "clevis"),
    flatcar("1.2.0-experimental", 6, "3.6.0-experimental", "cex"),
  ].map((s) => [`${s.variant}+${s.version}`, s]),
);
