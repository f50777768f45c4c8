// Certificate authorities for HTTPS: the system bundle, read once per fetcher, with the
// config's own CAs added on top.
import { existsSync, readFileSync } from "node:fs";

/** Splits a PEM bundle into its certificates. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The trusted roots for a set of custom CAs: undefined (the runtime's defaults) when there are
 * none, else the system bundle (`systemCaFile`, SSL_CERT_FILE, Debian's bundle, or the
 * runtime's built-in roots) plus the custom ones. The bundle is read on first need only.
 */
export function trustedRootsLoader(systemCaFile: string | undefined): (custom: readonly string[] | undefined) => readonly string[] | undefined {
  let systemRoots: string[] | null = null;
  return (custom) => {
    if (!custom || custom.length === 0) return undefined;
    if (!systemRoots) {
      const file = systemCaFile ?? "/etc/ssl/certs/ca-certificates.crt";
      // node:tls is required lazily: loading it builds the root bundle at start-up.
      systemRoots = existsSync(file) ? splitPem(readFileSync(file, "utf8")) : [...(require("node:tls") as typeof import("node:tls")).rootCertificates];
    }
    return [...systemRoots, ...custom.flatMap(splitPem)];
  };
}
