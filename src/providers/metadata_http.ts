// Reading a platform's metadata service through the shared fetcher (its retries, timeouts and
// TLS rules), as Ignition's providers do: Ignition's Accept header unless the platform needs
// another, 404 answered as "absent" (each provider decides what that means), any other failure
// thrown with the platform and the source named.
import { redactUrl } from "../log/redact.ts";
import { ACCEPT, HttpStatusError, type RawRequest } from "../resource/index.ts";
import { metadataUrl, type MetadataName } from "../system/commands.ts";
import { found, none, type Provider, type ProviderContext } from "./types.ts";

/** One request to a metadata service. */
export interface MetadataRequest {
  url: string;
  method?: RawRequest["method"];
  /** Headers over Ignition's defaults (Accept, Accept-Encoding: identity). */
  headers?: readonly (readonly [string, string])[];
  retryStatuses?: RawRequest["retryStatuses"];
  route?: RawRequest["route"];
  body?: string;
  signal?: AbortSignal;
}

/** The response body, or null when the service answered 404. */
export async function readMetadata(ctx: ProviderContext, what: string, req: MetadataRequest): Promise<Uint8Array | null> {
  try {
    const res = await ctx.fetcher.request({
      url: req.url,
      method: req.method,
      body: req.body,
      headers: mergeDefaults(req.headers ?? []),
      retryStatuses: req.retryStatuses,
      route: req.route,
      signal: req.signal,
    });
    const parts: Uint8Array[] = [];
    for await (const c of res.body) parts.push(c);
    return new Uint8Array(Buffer.concat(parts));
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) return null;
    throw providerError(ctx, `${what} ${redactUrl(req.url)}`, e);
  }
}

function mergeDefaults(over: readonly (readonly [string, string])[]): [string, string][] {
  const names = new Set(over.map(([n]) => n.toLowerCase()));
  const base: [string, string][] = [
    ["Accept", ACCEPT],
    ["Accept-Encoding", "identity"],
  ];
  return [...base.filter(([n]) => !names.has(n.toLowerCase())), ...over.map(([n, v]) => [n, v] as [string, string])];
}

/** An error naming the platform and the source, the original kept as cause (NeedNetError too). */
export function providerError(ctx: { platform: string }, source: string, e: unknown): Error {
  const why = e instanceof Error ? e.message : String(e);
  return new Error(`Cannot fetch config on platform "${ctx.platform}" from ${source}: ${why}`, { cause: e });
}

/** A platform whose config is the body of one metadata request. */
export interface UserDataSpec {
  name: string;
  /** The metadata table entry (base URL) and the path under it. */
  endpoint: MetadataName;
  path: string;
  /** What a 404 means: no config (most platforms) or an error (DigitalOcean, Packet). */
  notFound: "none" | "error";
  headers?: readonly (readonly [string, string])[];
  retryStatuses?: readonly number[];
  route?: RawRequest["route"];
  /** Turns the body into the config (base64 on Oracle Cloud). */
  decode?: (body: Uint8Array, source: string) => Uint8Array;
  /** What this platform does after each stage (Packet's timeline events). */
  status?: Provider["status"];
}

/** The URL of a spec's user data on this host (the metadata table, honouring NEXUS_URL_*). */
export function userDataUrl(spec: Pick<UserDataSpec, "endpoint" | "path">, env: Record<string, string | undefined>): string {
  return metadataUrl(spec.endpoint, env) + spec.path;
}

/** The provider of a platform that serves its config from one metadata URL. */
export function userDataProvider(spec: UserDataSpec): Provider {
  return {
    name: spec.name,
    status: spec.status,
    async fetch(ctx) {
      const url = userDataUrl(spec, ctx.system.env);
      const source = `${spec.name} metadata ${redactUrl(url)}`;
      const body = await readMetadata(ctx, `the ${spec.name} metadata service`, {
        url,
        headers: spec.headers,
        retryStatuses: spec.retryStatuses,
        route: spec.route,
      });
      if (body === null) {
        if (spec.notFound === "error") throw providerError(ctx, source, new Error("the metadata service answered HTTP 404"));
        return none(`the ${spec.name} metadata service has no user data (HTTP 404)`);
      }
      return found(spec.decode ? spec.decode(body, source) : body, source);
    },
  };
}
