// Ignition config spec 3.5.0: adds IBM CEX-backed LUKS volumes.
import { z } from "zod";
import * as v34 from "./v3_4.ts";
import { bool, opt } from "./v3_0.ts";

export const cex = z.strictObject({ enabled: opt(bool) });
export const luks = v34.luks.extend({ cex: opt(cex) });
export const storage = v34.storage.extend({ luks: opt(luks.array()) });

export const config = v34.config.extend({ storage: opt(storage) });
export type Config = z.infer<typeof config>;
