// Redaction for logs and reports: what may be shown of a URL that can carry credentials.

/** Replaces credentials in a URL and hides data: payloads, for logging. */
export function redactUrl(url: string): string {
  if (url.startsWith("data:")) return "data:<redacted>";
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? "REDACTED" : "";
      u.password = u.password ? "REDACTED" : "";
    }
    for (const k of [...u.searchParams.keys()]) {
      if (/token|sig|key|secret|password|credential/i.test(k)) u.searchParams.set(k, "REDACTED");
    }
    return u.toString();
  } catch {
    return url.length > 64 ? url.slice(0, 32) + "…" : url;
  }
}
