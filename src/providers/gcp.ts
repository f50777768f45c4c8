// GCP: the instance attribute "user-data" from the metadata server; 404 means no config.
import { readGcpMetadata } from "../resource/cloud_metadata.ts";
import { isNotFound } from "../resource/errors.ts";
import { found, none, type Provider } from "./types.ts";

/** The GCP platform's provider. */
export const gcpProvider: Provider = {
  name: "gcp",
  async fetch(ctx) {
    const base = ctx.fetcher.cloud.gcpMetadata;
    try {
      const raw = await readGcpMetadata(ctx.fetcher, base, "instance/attributes/user-data");
      return found(raw, "GCP metadata instance/attributes/user-data");
    } catch (e) {
      if (isNotFound(e)) return none("the instance has no user-data attribute");
      throw e;
    }
  },
};
