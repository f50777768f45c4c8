// s3:// and arn:aws:s3 resources: path-style GETs against the bucket's region, signed with
// SigV4 when credentials are found (environment, then the EC2 instance role from IMDS), and
// anonymous otherwise — like Ignition, which falls back to anonymous access off EC2.
import { getImdsCredentials } from "./cloud_metadata.ts";
import { openBodyOverHttp } from "./http.ts";
import { formatAmzDate, signRequest, type AwsCredentials } from "./sigv4.ts";
import type { FetchContext, ResourceFetcher } from "./types.ts";

/** Where an S3 object lives. */
export interface S3Target {
  bucket: string;
  key: string;
  versionId?: string;
  /** Set for access point ARNs, which name their region. */
  accessPoint?: { name: string; account: string; region: string; partition: string };
}

/** Parses s3://bucket/key[?versionId=…], arn:aws:s3:::bucket/key and access point ARNs. */
export function parseS3Url(source: string): S3Target {
  if (source.startsWith("s3://")) {
    const u = new URL(source);
    const key = decodeURIComponent(u.pathname.replace(/^\//, ""));
    if (!u.hostname || !key) throw new Error(`Cannot fetch resource "${source}": an S3 URL needs a bucket and a key`);
    const versionId = u.searchParams.get("versionId") ?? undefined;
    return { bucket: u.hostname, key, ...(versionId ? { versionId } : {}) };
  }
  const m = /^arn:([^:]+):s3:([^:]*):([^:]*):(.+)$/.exec(source);
  if (!m) throw new Error(`Cannot fetch resource "${source}": not an S3 ARN`);
  const [, partition, region, account, resource] = m as unknown as [string, string, string, string, string];
  const [resPath, query] = resource.split("?", 2) as [string, string | undefined];
  const versionId = query ? new URLSearchParams(query).get("versionId") ?? undefined : undefined;
  const ap = /^accesspoint\/([^/]+)\/object\/(.+)$/.exec(resPath);
  if (ap) {
    if (!region || !account) throw new Error(`Cannot fetch resource "${source}": an access point ARN needs a region and an account`);
    return { bucket: ap[1]!, key: ap[2]!, accessPoint: { name: ap[1]!, account, region, partition }, ...(versionId ? { versionId } : {}) };
  }
  const slash = resPath.indexOf("/");
  if (slash <= 0 || slash === resPath.length - 1) throw new Error(`Cannot fetch resource "${source}": an S3 ARN needs a bucket and a key`);
  return { bucket: resPath.slice(0, slash), key: resPath.slice(slash + 1), ...(versionId ? { versionId } : {}) };
}

const credentialCache = new WeakMap<ResourceFetcher, Promise<AwsCredentials | null>>();
const regionCache = new WeakMap<ResourceFetcher, Map<string, Promise<string>>>();

/** Credentials from AWS_* variables, else the instance role, else null (anonymous). */
function findCredentials(ctx: FetchContext): Promise<AwsCredentials | null> {
  let p = credentialCache.get(ctx.fetcher);
  if (!p) {
    const env = ctx.fetcher.options.env ?? process.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      p = Promise.resolve({
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      });
    } else {
      // One quick probe: off EC2 nothing answers and the fetch goes on anonymously.
      p = getImdsCredentials(ctx.fetcher, ctx.cloud.awsImds, { maxAttempts: 1, responseHeadersMs: 2000 }).catch((e) => {
        ctx.log?.info(`No AWS instance credentials (${(e as Error).message}); fetching anonymously`);
        return null;
      });
    }
    credentialCache.set(ctx.fetcher, p);
  }
  return p;
}

/** The bucket's region from the x-amz-bucket-region header of a HEAD on the bucket. */
function findBucketRegion(ctx: FetchContext, bucket: string): Promise<string> {
  let cache = regionCache.get(ctx.fetcher);
  if (!cache) regionCache.set(ctx.fetcher, (cache = new Map()));
  let p = cache.get(bucket);
  if (!p) {
    const fallback = ctx.cloud.s3DefaultRegion;
    p = ctx.fetcher
      .request({
        url: `${ctx.cloud.s3Endpoint(fallback)}/${encodeURIComponent(bucket)}`,
        method: "HEAD",
        isSuccess: (s) => s < 500,
        signal: ctx.signal,
      })
      .then(async (res) => {
        await res.cancel();
        return res.headers.get("x-amz-bucket-region") ?? fallback;
      })
      .catch(() => fallback);
    cache.set(bucket, p);
  }
  return p;
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/** Opens an S3 object as a byte stream. */
export async function openS3(ctx: FetchContext): Promise<AsyncIterable<Uint8Array>> {
  const target = parseS3Url(ctx.url);
  const creds = await findCredentials(ctx);
  const region = target.accessPoint?.region ?? (await findBucketRegion(ctx, target.bucket));
  const url = target.accessPoint
    ? new URL(`https://${target.accessPoint.name}-${target.accessPoint.account}.s3-accesspoint.${region}.amazonaws.com/${encodeKey(target.key)}`)
    : new URL(`${ctx.cloud.s3Endpoint(region)}/${encodeURIComponent(target.bucket)}/${encodeKey(target.key)}`);
  if (target.versionId) url.searchParams.set("versionId", target.versionId);
  let headers: [string, string][] = [];
  if (creds) {
    const signed = signRequest(
      {
        method: "GET",
        url,
        region,
        service: "s3",
        headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
        payloadHash: "UNSIGNED-PAYLOAD",
        amzDate: formatAmzDate(new Date()),
      },
      creds,
    );
    headers = Object.entries(signed).filter(([k]) => k !== "host");
  }
  return openBodyOverHttp(ctx, url.toString(), headers, []);
}
