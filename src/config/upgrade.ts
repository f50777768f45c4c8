// Upgrades a parsed config of any accepted version to the internal model, one spec step at a
// time. 3.x versions only add fields, so each step is the identity — typed, so the compiler
// proves every older config fits the next version's shape.
import type * as v30 from "./schema/v3_0.ts";
import type * as v31 from "./schema/v3_1.ts";
import type * as v32 from "./schema/v3_2.ts";
import type * as v33 from "./schema/v3_3.ts";
import type * as v34 from "./schema/v3_4.ts";
import type * as v35 from "./schema/v3_5.ts";
import type * as v36 from "./schema/v3_6.ts";
import type * as v37 from "./schema/v3_7_experimental.ts";
import type { Config, SpecVersion } from "./types.ts";

const from30 = (c: v30.Config): v31.Config => c;
const from31 = (c: v31.Config): v32.Config => c;
const from32 = (c: v32.Config): v33.Config => c;
const from33 = (c: v33.Config): v34.Config => c;
const from34 = (c: v34.Config): v35.Config => c;
const from35 = (c: v35.Config): v36.Config => c;
const from36 = (c: v36.Config): v37.Config => c;
const internal = (c: v37.Config): Config => c;

/** Upgrades a config that parsed with the schema of `version` to the internal model. */
export function upgradeConfig(version: SpecVersion, parsed: unknown): Config {
  switch (version) {
    case "3.0.0":
      return internal(from36(from35(from34(from33(from32(from31(from30(parsed as v30.Config))))))));
    case "3.1.0":
      return internal(from36(from35(from34(from33(from32(from31(parsed as v31.Config)))))));
    case "3.2.0":
      return internal(from36(from35(from34(from33(from32(parsed as v32.Config))))));
    case "3.3.0":
      return internal(from36(from35(from34(from33(parsed as v33.Config)))));
    case "3.4.0":
      return internal(from36(from35(from34(parsed as v34.Config))));
    case "3.5.0":
      return internal(from36(from35(parsed as v35.Config)));
    case "3.6.0":
      return internal(from36(parsed as v36.Config));
    case "3.7.0-experimental":
      return internal(parsed as v37.Config);
  }
}
