// Bare metal: the kernel command line (consulted before every platform) is the only source, so
// this platform itself has nothing to add.
import { none, type Provider } from "./types.ts";

/** The metal platform's provider. */
export const metalProvider: Provider = {
  name: "metal",
  async fetch() {
    return none("no nexus.config.url or nexus.config.device on the kernel command line");
  },
};
