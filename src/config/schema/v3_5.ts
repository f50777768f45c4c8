// Ignition config spec 3.5.0: adds IBM CEX-backed LUKS volumes.
import type { z } from "zod";
import * as v34 from "./v3_4.ts";
import { bool, extend, list, opt, struct } from "./declare.ts";

export const cex = struct("Cex", { enabled: opt(bool) });
export const luks = extend(v34.luks, { cex: opt(cex) });
export const storage = extend(v34.storage, { luks: list(luks) });

export const config = extend(v34.config, { storage: opt(storage) });
export type Config = z.infer<typeof config>;
