// Ignition config spec 3.3.0: adds kernel arguments.
import { z } from "zod";
import * as v32 from "./v3_2.ts";
import { list, opt, str } from "./v3_0.ts";

export const kernelArguments = z.strictObject({
  shouldExist: list(str),
  shouldNotExist: list(str),
});

export const config = v32.config.extend({ kernelArguments: opt(kernelArguments) });
export type Config = z.infer<typeof config>;
