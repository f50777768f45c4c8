// gs:// resources through the Cloud Storage JSON API (alt=media), with the instance's
// service-account token from the GCP metadata server when there is one, anonymously otherwise.
import { getGcpAccessToken } from "./cloud_metadata.ts";
import { openBodyOverHttp } from "./http.ts";
import type { FetchContext, ResourceFetcher } from "./types.ts";

/** Bucket and object of a gs:// URL. */
export function parseGsUrl(source: string): { bucket: string; object: string } {
  const u = new URL(source);
  const object = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!u.hostname || !object) throw new Error(`Cannot fetch resource "${source}": a gs URL needs a bucket and an object`);
  return { bucket: u.hostname, object };
}

const tokenCache = new WeakMap<ResourceFetcher, Promise<string | null>>();

function findToken(ctx: FetchContext): Promise<string | null> {
  let p = tokenCache.get(ctx.fetcher);
  if (!p) {
    // One quick probe: off GCP nothing answers and the fetch goes on anonymously.
    p = getGcpAccessToken(ctx.fetcher, ctx.cloud.gcpMetadata, { maxAttempts: 1, responseHeadersMs: 2000 }).catch((e) => {
      ctx.log?.info(`No GCP service-account token (${(e as Error).message}); fetching anonymously`);
      return null;
    });
    tokenCache.set(ctx.fetcher, p);
  }
  return p;
}

/** Opens a Cloud Storage object as a byte stream. */
export async function openGs(ctx: FetchContext): Promise<AsyncIterable<Uint8Array>> {
  const { bucket, object } = parseGsUrl(ctx.url);
  const token = await findToken(ctx);
  const url = `${ctx.cloud.gcsEndpoint}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}?alt=media`;
  const auth: [string, string][] = token ? [["Authorization", `Bearer ${token}`]] : [];
  return openBodyOverHttp(ctx, url, [...ctx.redirectHeaders, ...auth], ctx.redirectHeaders);
}
