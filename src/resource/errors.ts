// Errors the fetcher throws that callers catch or inspect: each carries the data a caller
// needs (the expected and actual hash, the HTTP status, the scheme that needs a network).

/** The fetched bytes (after decompression) do not match verification.hash. */
export class HashMismatchError extends Error {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Cannot verify resource "${url}": hash mismatch: expected ${expected}, got ${actual}`);
    this.name = "HashMismatchError";
  }
}

/** A server answered with a status that is not success (after retries for 5xx). */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`Cannot fetch resource "${url}": server answered HTTP ${status}`);
    this.name = "HttpStatusError";
  }
}

/** The resource needs the network but the fetcher is offline (the fetch-offline stage). */
export class NeedNetError extends Error {
  constructor(readonly url: string) {
    super(`Cannot fetch resource "${url}" offline: it needs the network`);
    this.name = "NeedNetError";
  }
}

/** A TFTP server answered with an error packet (code 1 is "file not found"). */
export class TftpError extends Error {
  constructor(
    readonly url: string,
    readonly code: number,
    readonly detail: string,
  ) {
    super(`Cannot fetch resource "${url}": TFTP error ${code}: ${detail}`);
    this.name = "TftpError";
  }
}

/** True for outcomes that mean "the resource does not exist" (HTTP 404, TFTP file not found). */
export function isNotFound(e: unknown): boolean {
  return (e instanceof HttpStatusError && e.status === 404) || (e instanceof TftpError && e.code === 1);
}
