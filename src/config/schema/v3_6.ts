// Ignition config spec 3.6.0: structurally identical to 3.5.0; its changes are validation
// rules (special mode bits) handled in validate.ts.
import * as v35 from "./v3_5.ts";
import type { z } from "zod";

export const config = v35.config;
export type Config = z.infer<typeof config>;
