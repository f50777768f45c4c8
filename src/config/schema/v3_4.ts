// Ignition config spec 3.4.0: adds LUKS discard and open options and tang advertisements.
import type { z } from "zod";
import * as v32 from "./v3_2.ts";
import * as v33 from "./v3_3.ts";
import { bool, extend, list, opt, str } from "./declare.ts";

export const tang = extend(v32.tang, { advertisement: opt(str) });
export const clevis = extend(v32.clevis, { tang: list(tang) });
export const luks = extend(v32.luks, {
  clevis: opt(clevis),
  discard: opt(bool),
  openOptions: list(str),
});
export const storage = extend(v32.storage, { luks: list(luks) });

export const config = extend(v33.config, { storage: opt(storage) });
export type Config = z.infer<typeof config>;
