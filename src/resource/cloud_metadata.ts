// Clients of the cloud metadata services, shared by the aws/gcp providers and the s3/gs
// schemes: AWS IMDSv2 (token PUT, then GETs with the token; IMDSv1 when no token endpoint) and
// the GCP metadata server (every request carries Metadata-Flavor: Google).
import { HttpStatusError } from "./errors.ts";
import type { AwsCredentials } from "./sigv4.ts";
import type { RawRequest, ResourceFetcher } from "./types.ts";

/** Lifetime asked for an IMDSv2 token, in seconds. */
export const IMDS_TOKEN_TTL_S = 21600;

/** Options of one metadata read. */
export interface MetadataRead {
  /** Attempts before giving up (probes off-cloud use 1, so boots elsewhere are not delayed). */
  maxAttempts?: number;
  responseHeadersMs?: number;
  signal?: AbortSignal;
}

async function readText(fetcher: ResourceFetcher, req: RawRequest): Promise<string> {
  const res = await fetcher.request(req);
  const parts: Uint8Array[] = [];
  for await (const c of res.body) parts.push(c);
  return Buffer.concat(parts).toString("utf8");
}

/**
 * An IMDSv2 session token, or null when the service has no token endpoint (IMDSv1 only):
 * 403, 404 and 405 answers mean "no token endpoint"; other failures are thrown.
 */
export async function getImdsToken(fetcher: ResourceFetcher, base: string, read: MetadataRead = {}): Promise<string | null> {
  try {
    return await readText(fetcher, {
      url: `${base}/latest/api/token`,
      method: "PUT",
      headers: [["X-aws-ec2-metadata-token-ttl-seconds", String(IMDS_TOKEN_TTL_S)]],
      ...read,
    });
  } catch (e) {
    if (e instanceof HttpStatusError && [403, 404, 405].includes(e.status)) {
      fetcher.options.log?.info(`IMDSv2 token endpoint answered ${e.status}; falling back to IMDSv1`);
      return null;
    }
    throw e;
  }
}

/** GETs an IMDS path with the token (when there is one); 404 throws HttpStatusError. */
export async function readImds(
  fetcher: ResourceFetcher,
  base: string,
  path: string,
  token: string | null,
  read: MetadataRead = {},
): Promise<Uint8Array> {
  const res = await fetcher.request({
    url: `${base}${path}`,
    headers: token ? [["X-aws-ec2-metadata-token", token]] : [],
    ...read,
  });
  const parts: Uint8Array[] = [];
  for await (const c of res.body) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** The instance role's temporary credentials from IMDS, or null when the instance has no role. */
export async function getImdsCredentials(fetcher: ResourceFetcher, base: string, read: MetadataRead = {}): Promise<AwsCredentials | null> {
  const token = await getImdsToken(fetcher, base, read);
  let roles: string;
  try {
    roles = new TextDecoder().decode(await readImds(fetcher, base, "/latest/meta-data/iam/security-credentials/", token, read));
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) return null;
    throw e;
  }
  const role = roles.split("\n").map((r) => r.trim()).find(Boolean);
  if (!role) return null;
  const doc = JSON.parse(
    new TextDecoder().decode(await readImds(fetcher, base, `/latest/meta-data/iam/security-credentials/${role}`, token, read)),
  ) as { AccessKeyId?: string; SecretAccessKey?: string; Token?: string };
  if (!doc.AccessKeyId || !doc.SecretAccessKey) throw new Error(`Cannot use IMDS credentials of role "${role}": incomplete document`);
  return { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
}

/** The instance's region from IMDS (placement/region), or null when unknown. */
export async function getImdsRegion(fetcher: ResourceFetcher, base: string, read: MetadataRead = {}): Promise<string | null> {
  try {
    const token = await getImdsToken(fetcher, base, read);
    return new TextDecoder().decode(await readImds(fetcher, base, "/latest/meta-data/placement/region", token, read)).trim() || null;
  } catch {
    return null;
  }
}

/** GETs a GCP metadata path (…/computeMetadata/v1/…) with the required flavor header. */
export async function readGcpMetadata(fetcher: ResourceFetcher, base: string, path: string, read: MetadataRead = {}): Promise<Uint8Array> {
  const res = await fetcher.request({
    url: `${base}/computeMetadata/v1/${path.replace(/^\//, "")}`,
    headers: [["Metadata-Flavor", "Google"]],
    ...read,
  });
  const parts: Uint8Array[] = [];
  for await (const c of res.body) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

/** An OAuth access token of the instance's default service account, or null when there is none. */
export async function getGcpAccessToken(fetcher: ResourceFetcher, base: string, read: MetadataRead = {}): Promise<string | null> {
  try {
    const body = await readGcpMetadata(fetcher, base, "instance/service-accounts/default/token", read);
    const doc = JSON.parse(new TextDecoder().decode(body)) as { access_token?: string };
    return doc.access_token ?? null;
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) return null;
    throw e;
  }
}
