// AWS Signature Version 4 for S3 GET requests (header-based, unsigned payload).
import { createHash, createHmac } from "node:crypto";

/** Credentials that sign a request; the token is present for temporary (role) credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What to sign. Header names must be lower case; host is added from the URL. */
export interface SignInput {
  method: string;
  url: URL;
  region: string;
  service: string;
  headers: Record<string, string>;
  payloadHash: string;
  /** ISO basic format, e.g. 20130524T000000Z. */
  amzDate: string;
}

/** The hex SHA-256 of the empty payload. */
export const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/** Formats a date as SigV4's x-amz-date (YYYYMMDDTHHMMSSZ). */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept). */
function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The canonical URI of an S3 path: each segment decoded once and encoded once. */
function canonicalPath(pathname: string): string {
  return pathname
    .split("/")
    .map((seg) => encodeRfc3986(decodeURIComponent(seg)))
    .join("/") || "/";
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams].map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Returns the headers to send (the input's plus host and Authorization). */
export function signRequest(input: SignInput, creds: AwsCredentials): Record<string, string> {
  const headers: Record<string, string> = { ...input.headers, host: input.url.host };
  headers["x-amz-date"] = input.amzDate;
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const names = Object.keys(headers).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const canonical = [
    input.method,
    canonicalPath(input.url.pathname),
    canonicalQuery(input.url),
    canonicalHeaders,
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const day = input.amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", input.amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, day);
  key = hmac(key, input.region);
  key = hmac(key, input.service);
  key = hmac(key, "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
