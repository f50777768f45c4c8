import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { NeedNetError } from "../resource/index.ts";
import { findNeedNet } from "../acquire/neednet.ts";
import { akamaiProvider } from "./akamai.ts";
import { azureProvider } from "./azure.ts";
import {
  aliyunProvider,
  digitaloceanProvider,
  exoscaleProvider,
  hetznerProvider,
  oraclecloudProvider,
  packetProvider,
  scalewayProvider,
  upcloudProvider,
  vultrProvider,
} from "./http_platforms.ts";
import { packetEvent } from "./packet_status.ts";
import { acquireOn, providerContext, scratchEnv } from "./test_support.ts";
import type { Provider } from "./types.ts";

// One loopback look-alike of every HTTP metadata service, each under /<platform>/ and each
// enforcing what its real counterpart documents: paths, methods, required headers and tokens,
// encodings, the statuses it answers with.
const CONFIG = '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/motd","contents":{"source":"data:,hi"}}]}}';
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");

type Answer = { status: number; body?: string | Uint8Array };
/** What each platform's user data answers; tests set it. */
const userData = new Map<string, Answer[]>();
const seen: { platform: string; method: string; path: string; headers: Record<string, string>; port: number; body: string }[] = [];
const AKAMAI_TOKEN = "akamai-token-1";

function next(platform: string): Answer {
  const q = userData.get(platform) ?? [{ status: 404 }];
  return q.length > 1 ? q.shift()! : q[0]!;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req, srv): Promise<Response> {
    const url = new URL(req.url);
    const [, platform, ...rest] = url.pathname.split("/");
    const path = "/" + rest.join("/");
    const h = (n: string) => req.headers.get(n) ?? "";
    seen.push({ platform: platform!, method: req.method, path: path + url.search, headers: Object.fromEntries(req.headers), port: srv.requestIP(req)?.port ?? 0, body: await req.text() });
    const reply = (a: Answer) => new Response(a.status === 200 ? (a.body ?? "") : "", { status: a.status });
    switch (`${platform} ${req.method} ${path}`) {
      case "aliyun GET /latest/user-data":
      case "digitalocean GET /metadata/v1/user-data":
      case "exoscale GET /1.0/user-data":
      case "hetzner GET /hetzner/v1/userdata":
      case "upcloud GET /metadata/v1/user_data":
      case "vultr GET /user-data/user-data":
        return reply(next(platform!));
      case "scaleway GET /user_data/cloud-init":
        // Scaleway refuses requests from unprivileged source ports.
        return (srv.requestIP(req)?.port ?? 65535) < 1024 ? reply(next("scaleway")) : new Response("", { status: 403 });
      case "oraclecloud GET /opc/v2/instance/metadata/user_data":
        return h("authorization") === "Bearer Oracle" ? reply(next("oraclecloud")) : new Response("", { status: 401 });
      case "packet GET /userdata":
        return h("accept") === "*/*" ? reply(next("packet")) : new Response("", { status: 406 });
      case "packet GET /metadata":
        return h("accept") === "*/*" ? Response.json({ phone_home_url: `${base}/packet/phone-home` }) : new Response("", { status: 406 });
      case "packet POST /events":
        return new Response("", { status: 201 });
      case "akamai PUT /v1/token":
        return h("metadata-token-expiry-seconds") ? new Response(AKAMAI_TOKEN + "\n") : new Response("", { status: 400 });
      case "akamai GET /v1/user-data":
        if (h("metadata-token") !== AKAMAI_TOKEN) return new Response("", { status: 401 });
        return h("accept").includes("vnd.coreos") ? new Response("", { status: 406 }) : reply(next("akamai"));
      case "azure GET /metadata/instance/compute/userData":
        if (h("metadata") !== "true" || url.searchParams.get("api-version") !== "2021-01-01" || url.searchParams.get("format") !== "text") {
          return new Response("", { status: 400 });
        }
        return reply(next("azure"));
    }
    return new Response("", { status: 404 });
  },
});
const base: string = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));
beforeEach(() => {
  userData.clear();
  seen.length = 0;
});

const URL_ENV = Object.fromEntries(
  ["aliyun", "digitalocean", "exoscale", "hetzner", "upcloud", "vultr", "scaleway", "oraclecloud", "packet", "akamai", "azure"].map((p) => [`NEXUS_URL_${p.toUpperCase()}`, `${base}/${p}`]),
);
const env = () => scratchEnv(URL_ENV);
const fetchWith = (p: Provider, offline = false) => p.fetch(providerContext(p.name, env(), { offline }));
const text = (r: Awaited<ReturnType<Provider["fetch"]>>) => (r.kind === "config" ? new TextDecoder().decode(r.raw) : `none: ${r.reason}`);

/** Each platform: its provider, how its service wraps a config, and what a 404 means. */
const PLATFORMS: { p: Provider; wrap: (c: string) => string | Uint8Array; notFound: "none" | "error"; path: string }[] = [
  { p: aliyunProvider, wrap: (c) => c, notFound: "none", path: "/latest/user-data" },
  { p: digitaloceanProvider, wrap: (c) => c, notFound: "error", path: "/metadata/v1/user-data" },
  { p: exoscaleProvider, wrap: (c) => c, notFound: "none", path: "/1.0/user-data" },
  { p: hetznerProvider, wrap: (c) => c, notFound: "none", path: "/hetzner/v1/userdata" },
  { p: upcloudProvider, wrap: (c) => c, notFound: "none", path: "/metadata/v1/user_data" },
  { p: vultrProvider, wrap: (c) => c, notFound: "none", path: "/user-data/user-data" },
  { p: scalewayProvider, wrap: (c) => c, notFound: "none", path: "/user_data/cloud-init" },
  { p: oraclecloudProvider, wrap: b64, notFound: "none", path: "/opc/v2/instance/metadata/user_data" },
  { p: packetProvider, wrap: (c) => c, notFound: "error", path: "/userdata" },
  { p: akamaiProvider, wrap: b64, notFound: "error", path: "/v1/user-data" },
];

describe("HTTP metadata platforms", () => {
  for (const { p, wrap, notFound, path } of PLATFORMS) {
    test(`\`${p.name}Provider.fetch()\` reads the user data at ${path}`, async () => {
      userData.set(p.name, [{ status: 200, body: wrap(CONFIG) }]);
      const r = await fetchWith(p);
      expect(text(r)).toBe(CONFIG);
      expect(r.kind === "config" && r.source).toContain(p.name);
      expect(seen.filter((s) => s.platform === p.name && s.method === "GET").map((s) => s.path)).toEqual([path]);
    });

    test(`\`${p.name}Provider.fetch()\` on HTTP 404: ${notFound === "none" ? "no config" : "an error naming the platform"}`, async () => {
      userData.set(p.name, [{ status: 404 }]);
      if (notFound === "none") expect((await fetchWith(p)).kind).toBe("none");
      else await expect(fetchWith(p)).rejects.toThrow(new RegExp(`platform "${p.name}" from ${p.name} metadata .*404`));
    });

    test(`\`${p.name}Provider.fetch()\` retries 5xx answers`, async () => {
      userData.set(p.name, [{ status: 503 }, { status: 500 }, { status: 200, body: wrap(CONFIG) }]);
      expect(text(await fetchWith(p))).toBe(CONFIG);
    });

    test(`\`${p.name}Provider.fetch()\` needs the network: fetch-offline hands over`, async () => {
      const e = await fetchWith(p, true).catch((x) => x);
      expect(findNeedNet(e)).toBeInstanceOf(NeedNetError);
      expect(seen).toEqual([]);
    });

    test(`acquiring on ${p.name}: invalid JSON is an error naming the platform and source`, async () => {
      userData.set(p.name, [{ status: 200, body: wrap("{not json") }]);
      await expect(acquireOn(p.name, env())).rejects.toThrow(new RegExp(`Cannot parse user config from ${p.name} metadata ${base}/${p.name}${path}`));
    });
  }

  test("`scalewayProvider.fetch()` sends from a source port below 1024", async () => {
    userData.set("scaleway", [{ status: 200, body: CONFIG }]);
    await fetchWith(scalewayProvider);
    await fetchWith(scalewayProvider);
    const ports = seen.filter((s) => s.platform === "scaleway").map((s) => s.port);
    expect(ports.length).toBe(2);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(1), expect(port).toBeLessThan(1024);
  });

  test("`oraclecloudProvider.fetch()` sends the Oracle bearer header and retries 429", async () => {
    userData.set("oraclecloud", [{ status: 429 }, { status: 200, body: b64(CONFIG) }]);
    expect(text(await fetchWith(oraclecloudProvider))).toBe(CONFIG);
    expect(seen.map((s) => s.headers.authorization)).toEqual(["Bearer Oracle", "Bearer Oracle"]);
  });

  test("`oraclecloudProvider.fetch()` refuses data that is not base64, naming the source", async () => {
    userData.set("oraclecloud", [{ status: 200, body: "{not base64}" }]);
    await expect(fetchWith(oraclecloudProvider)).rejects.toThrow(/Cannot decode config on platform "oraclecloud" from oraclecloud metadata .*invalid base64/);
  });

  test("`akamaiProvider.fetch()` gets a token first, sends it, and gunzips gzip user data", async () => {
    userData.set("akamai", [{ status: 200, body: b64(Bun.gzipSync(new TextEncoder().encode(CONFIG))) }]);
    expect(text(await fetchWith(akamaiProvider))).toBe(CONFIG);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(["PUT /v1/token", "GET /v1/user-data"]);
    expect(seen[0]!.headers["metadata-token-expiry-seconds"]).toBe("300");
    expect(seen[1]!.headers["metadata-token"]).toBe(AKAMAI_TOKEN);
    expect(seen[1]!.headers.accept).toBe("*/*");
  });

  test("`akamaiProvider.fetch()` refuses user data that is not base64", async () => {
    userData.set("akamai", [{ status: 200, body: "%%%" }]);
    await expect(fetchWith(akamaiProvider)).rejects.toThrow(/platform "akamai" from akamai metadata .*invalid base64/);
  });

  test("`packetProvider.status()` posts each stage's outcome to the phone-home events URL", async () => {
    const ctx = providerContext("packet", env());
    await packetProvider.status!(ctx, "files", null);
    await packetProvider.status!(ctx, "disks", "Cannot create partition");
    const posts = seen.filter((s) => s.method === "POST");
    expect(posts.map((s) => [s.path, s.headers["content-type"], JSON.parse(s.body)])).toEqual([
      ["/events", "application/json", packetEvent("files", null)],
      ["/events", "application/json", { state: "failed", message: "[disks] Ignition error: Cannot create partition" }],
    ]);
  });

  test("`packetProvider.status()` fails when the metadata has no phone_home_url, without posting", async () => {
    const ctx = providerContext("packet", { ...env(), NEXUS_URL_PACKET: `${base}/nowhere` });
    await expect(packetProvider.status!(ctx, "files", null)).rejects.toThrow(/platform "packet"/);
    expect(seen.filter((s) => s.method === "POST")).toEqual([]);
  });
});

describe("azure IMDS", () => {
  test("`azureProvider.fetch()` decodes the IMDS user data, sent with Metadata: true", async () => {
    userData.set("azure", [{ status: 200, body: b64(CONFIG) }]);
    const r = await fetchWith(azureProvider);
    expect(text(r)).toBe(CONFIG);
    expect(r.kind === "config" && r.source).toContain("azure IMDS userData");
    expect(seen[0]!.path).toBe("/metadata/instance/compute/userData?api-version=2021-01-01&format=text");
  });

  test("`azureProvider.fetch()` retries 404, 410 and 429 like 5xx", async () => {
    userData.set("azure", [{ status: 404 }, { status: 410 }, { status: 429 }, { status: 500 }, { status: 200, body: b64(CONFIG) }]);
    expect(text(await fetchWith(azureProvider))).toBe(CONFIG);
    expect(seen.length).toBe(5);
  });

  test("`azureProvider.fetch()` refuses IMDS data that is not base64", async () => {
    userData.set("azure", [{ status: 200, body: "not base64!" }]);
    await expect(fetchWith(azureProvider)).rejects.toThrow(/platform "azure" from azure IMDS userData .*invalid base64/);
  });

  test("`azureProvider.fetch()` needs the network even before IMDS is asked", async () => {
    const e = await fetchWith(azureProvider, true).catch((x) => x);
    expect(findNeedNet(e)).toBeInstanceOf(NeedNetError);
    expect(seen).toEqual([]);
  });
});
