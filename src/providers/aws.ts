// AWS EC2: user data from the instance metadata service, IMDSv2 first (token PUT, then GET
// with the token), IMDSv1 when the token endpoint is absent; 404 means no config.
import { getImdsToken, readImds } from "../resource/cloud_metadata.ts";
import { isNotFound } from "../resource/errors.ts";
import { found, none, type Provider } from "./types.ts";

/** The AWS platform's provider. */
export const awsProvider: Provider = {
  name: "aws",
  async fetch(ctx) {
    const base = ctx.fetcher.cloud.awsImds;
    const token = await getImdsToken(ctx.fetcher, base);
    try {
      const raw = await readImds(ctx.fetcher, base, "/latest/user-data", token);
      return found(raw, `EC2 user data (IMDS${token ? "v2" : "v1"})`);
    } catch (e) {
      if (isNotFound(e)) return none("the instance has no user data");
      throw e;
    }
  },
};
