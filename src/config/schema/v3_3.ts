// Ignition config spec 3.3.0: adds kernel arguments.
import type { z } from "zod";
import * as v32 from "./v3_2.ts";
import { extend, groupList, opt, str, struct } from "./declare.ts";

export const kernelArguments = struct("KernelArguments", {
  shouldExist: groupList(str, "karg"),
  shouldNotExist: groupList(str, "karg"),
});

export const config = extend(v32.config, { kernelArguments: opt(kernelArguments) });
export type Config = z.infer<typeof config>;
