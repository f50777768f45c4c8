// Ignition config spec 3.4.0: adds LUKS discard and open options and tang advertisements.
import { z } from "zod";
import * as v32 from "./v3_2.ts";
import * as v33 from "./v3_3.ts";
import { bool, list, opt, str } from "./v3_0.ts";

export const tang = v32.tang.extend({ advertisement: opt(str) });
export const clevis = v32.clevis.extend({ tang: list(tang) });
export const luks = v32.luks.extend({
  clevis: opt(clevis),
  discard: opt(bool),
  openOptions: list(str),
});
export const storage = v32.storage.extend({ luks: list(luks) });

export const config = v33.config.extend({ storage: opt(storage) });
export type Config = z.infer<typeof config>;
