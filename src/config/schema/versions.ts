// The structural schema of each spec version nexus-init reads.
import type { z } from "zod";
import type { SpecVersion } from "../types.ts";
import * as v30 from "./v3_0.ts";
import * as v31 from "./v3_1.ts";
import * as v32 from "./v3_2.ts";
import * as v33 from "./v3_3.ts";
import * as v34 from "./v3_4.ts";
import * as v35 from "./v3_5.ts";
import * as v36 from "./v3_6.ts";
import * as v37 from "./v3_7_experimental.ts";

/** The root schema of each spec version. */
export const SCHEMAS: Record<SpecVersion, z.ZodObject> = {
  "3.0.0": v30.config,
  "3.1.0": v31.config,
  "3.2.0": v32.config,
  "3.3.0": v33.config,
  "3.4.0": v34.config,
  "3.5.0": v35.config,
  "3.6.0": v36.config,
  "3.7.0-experimental": v37.config,
};
