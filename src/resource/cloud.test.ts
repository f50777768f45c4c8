import { afterAll, describe, expect, test } from "bun:test";
import { createFetcher, HttpStatusError } from "./index.ts";
import { parseGsUrl } from "./gs.ts";
import { parseS3Url } from "./s3.ts";
import { signRequest } from "./sigv4.ts";

const SECRET = { accessKeyId: "AKIDTEST", secretAccessKey: "s3cr3t", sessionToken: "role-token" };
const dec = new TextDecoder();

/** An S3 look-alike: path-style objects, bucket region on HEAD, SigV4 checked with SECRET. */
function startS3(objects: Record<string, string>, opts: { requireAuth: boolean }) {
  const auth: (string | null)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      if (req.method === "HEAD") return new Response(null, { status: 403, headers: { "x-amz-bucket-region": "eu-central-1" } });
      const given = req.headers.get("authorization");
      auth.push(given);
      if (given) {
        const region = /\/\d{8}\/([^/]+)\/s3\//.exec(given)?.[1] ?? "";
        const expected = signRequest(
          {
            method: "GET",
            url: u,
            region,
            service: "s3",
            headers: { "x-amz-content-sha256": req.headers.get("x-amz-content-sha256") ?? "" },
            payloadHash: "UNSIGNED-PAYLOAD",
            amzDate: req.headers.get("x-amz-date") ?? "",
          },
          SECRET,
        ).authorization;
        if (expected !== given) return new Response("SignatureDoesNotMatch", { status: 403 });
      } else if (opts.requireAuth) {
        return new Response("AccessDenied", { status: 403 });
      }
      const key = decodeURIComponent(u.pathname) + (u.search ? `?${u.searchParams.get("versionId")}` : "");
      return key in objects ? new Response(objects[key]) : new Response("NoSuchKey", { status: 404 });
    },
  });
  return { server, auth, endpoint: `http://127.0.0.1:${server.port}` };
}

/** An EC2 metadata look-alike with IMDSv2 tokens and one instance role. */
function startImds(opts: { v2: boolean }) {
  const calls: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const p = new URL(req.url).pathname;
      calls.push(`${req.method} ${p}`);
      if (p === "/latest/api/token") {
        if (!opts.v2 || req.method !== "PUT") return new Response("", { status: 404 });
        return new Response("TOKEN");
      }
      if (opts.v2 && req.headers.get("x-aws-ec2-metadata-token") !== "TOKEN") return new Response("", { status: 401 });
      if (p === "/latest/meta-data/iam/security-credentials/") return new Response("nexus-role\n");
      if (p === "/latest/meta-data/iam/security-credentials/nexus-role") {
        return Response.json({ AccessKeyId: SECRET.accessKeyId, SecretAccessKey: SECRET.secretAccessKey, Token: SECRET.sessionToken });
      }
      return new Response("", { status: 404 });
    },
  });
  return { server, calls, base: `http://127.0.0.1:${server.port}` };
}

const FAST = { retry: { initialMs: 5, maxMs: 20 } };
const closed = `http://127.0.0.1:1`;

describe("S3 fetches", () => {
  const s3 = startS3({ "/bucket/dir/key.ign": "s3 body", "/bucket/v?v2": "version two" }, { requireAuth: false });
  const priv = startS3({ "/private/key": "private body" }, { requireAuth: true });
  const imds = startImds({ v2: true });
  afterAll(() => [s3, priv, imds].forEach((s) => s.server.stop(true)));

  test("`fetchBytes()` reads a public object anonymously from the bucket's region", async () => {
    let asked = "";
    const f = createFetcher({
      ...FAST,
      env: {},
      cloud: { awsImds: closed, s3Endpoint: (r) => ((asked = r), s3.endpoint) },
    });
    expect(dec.decode(await f.fetchBytes({ source: "s3://bucket/dir/key.ign" }))).toBe("s3 body");
    expect(s3.auth.at(-1)).toBeNull();
    expect(asked).toBe("eu-central-1");
  });

  test("`fetchBytes()` passes versionId through to S3", async () => {
    const f = createFetcher({ ...FAST, env: {}, cloud: { awsImds: closed, s3Endpoint: () => s3.endpoint } });
    expect(dec.decode(await f.fetchBytes({ source: "s3://bucket/v?versionId=v2" }))).toBe("version two");
  });

  test("`fetchBytes()` signs requests with the instance role's credentials from IMDSv2", async () => {
    const f = createFetcher({ ...FAST, env: {}, cloud: { awsImds: imds.base, s3Endpoint: () => priv.endpoint } });
    expect(dec.decode(await f.fetchBytes({ source: "s3://private/key" }))).toBe("private body");
    expect(priv.auth.at(-1)).toContain("Credential=AKIDTEST/");
    expect(imds.calls).toContain("PUT /latest/api/token");
  });

  test("`fetchBytes()` signs requests with AWS_* credentials from the environment", async () => {
    const env = { AWS_ACCESS_KEY_ID: SECRET.accessKeyId, AWS_SECRET_ACCESS_KEY: SECRET.secretAccessKey, AWS_SESSION_TOKEN: SECRET.sessionToken };
    const f = createFetcher({ ...FAST, env, cloud: { awsImds: closed, s3Endpoint: () => priv.endpoint } });
    expect(dec.decode(await f.fetchBytes({ source: "arn:aws:s3:::private/key" }))).toBe("private body");
  });

  test("`fetchBytes()` reports 403 as HttpStatusError when anonymous access is denied", async () => {
    const f = createFetcher({ ...FAST, env: {}, cloud: { awsImds: closed, s3Endpoint: () => priv.endpoint } });
    const e = await f.fetchBytes({ source: "s3://private/key" }).catch((x) => x);
    expect(e).toBeInstanceOf(HttpStatusError);
    expect((e as HttpStatusError).status).toBe(403);
  });
});

describe("parseS3Url()", () => {
  const cases: [string, ReturnType<typeof parseS3Url>][] = [
    ["s3://b/k/x.ign", { bucket: "b", key: "k/x.ign" }],
    ["s3://b/k?versionId=abc", { bucket: "b", key: "k", versionId: "abc" }],
    ["arn:aws:s3:::b/k/x", { bucket: "b", key: "k/x" }],
    [
      "arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/some/key",
      { bucket: "ap", key: "some/key", accessPoint: { name: "ap", account: "123456789012", region: "us-west-2", partition: "aws" } },
    ],
  ];
  for (const [src, want] of cases) test(`\`parseS3Url()\` parses ${src}`, () => expect(parseS3Url(src)).toEqual(want));
  for (const bad of ["s3://b/", "arn:aws:s3:::b", "arn:aws:s3:::b/", "arn:aws:iam::1:role/x"]) {
    test(`\`parseS3Url()\` rejects ${bad}`, () => expect(() => parseS3Url(bad)).toThrow());
  }
});

describe("GCS fetches", () => {
  const seen: (string | null)[] = [];
  const gcs = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const u = new URL(req.url);
      seen.push(req.headers.get("authorization"));
      if (u.pathname === "/storage/v1/b/bkt/o/dir%2Fobj.ign" && u.searchParams.get("alt") === "media") return new Response("gcs body");
      return new Response("", { status: 404 });
    },
  });
  const meta = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      if (req.headers.get("metadata-flavor") !== "Google") return new Response("", { status: 403 });
      if (new URL(req.url).pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
        return Response.json({ access_token: "ya29.test", expires_in: 3600, token_type: "Bearer" });
      }
      return new Response("", { status: 404 });
    },
  });
  afterAll(() => [gcs, meta].forEach((s) => s.stop(true)));
  const endpoint = `http://127.0.0.1:${gcs.port}`;

  test("`fetchBytes()` reads a gs object with the service-account token from the metadata server", async () => {
    const f = createFetcher({ ...FAST, cloud: { gcpMetadata: `http://127.0.0.1:${meta.port}`, gcsEndpoint: endpoint } });
    expect(dec.decode(await f.fetchBytes({ source: "gs://bkt/dir/obj.ign" }))).toBe("gcs body");
    expect(seen.at(-1)).toBe("Bearer ya29.test");
  });

  test("`fetchBytes()` reads a gs object anonymously when there is no metadata server", async () => {
    const f = createFetcher({ ...FAST, cloud: { gcpMetadata: closed, gcsEndpoint: endpoint } });
    expect(dec.decode(await f.fetchBytes({ source: "gs://bkt/dir/obj.ign" }))).toBe("gcs body");
    expect(seen.at(-1)).toBeNull();
  });

  test("`fetchBytes()` reports a missing gs object as HTTP 404", async () => {
    const f = createFetcher({ ...FAST, cloud: { gcpMetadata: closed, gcsEndpoint: endpoint } });
    const e = await f.fetchBytes({ source: "gs://bkt/none" }).catch((x) => x);
    expect((e as HttpStatusError).status).toBe(404);
  });

  test("`parseGsUrl()` splits bucket and object", () => {
    expect(parseGsUrl("gs://b/a/b%20c")).toEqual({ bucket: "b", object: "a/b c" });
    expect(() => parseGsUrl("gs://b/")).toThrow();
  });
});
