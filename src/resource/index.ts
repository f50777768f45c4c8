// The resource room's public face: callers import the fetcher and what they need of it from
// here. Nothing is defined in this file.
export { ACCEPT, createFetcher, DEFAULT_CLOUD, DEFAULT_RESPONSE_HEADERS_TIMEOUT_S, schemeOf, USER_AGENT } from "./fetcher.ts";
export { fetcherForConfig, fetchPem } from "./config_fetcher.ts";
export { splitPem } from "./certificates.ts";
export { decodeDataUrl } from "./data_url.ts";
export { HashMismatchError, HttpStatusError, isNotFound, NeedNetError, TftpError } from "./errors.ts";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
export { parseHash } from "./verify.ts";
export { SCHEMES } from "./types.ts";
export type * from "./types.ts";
