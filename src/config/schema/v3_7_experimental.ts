// Ignition config spec 3.7.0-experimental: currently the same structure as 3.6.0.
import * as v36 from "./v3_6.ts";
import type { z } from "zod";

export const config = v36.config;
export type Config = z.infer<typeof config>;
