// Proxy selection for ignition.proxy, with the rules Go's httpproxy applies (which Ignition
// uses): httpProxy for http URLs, httpsProxy for https URLs, noProxy entries as domains (and
// their subdomains), ".domain" (subdomains only), IPs, CIDRs, host:port or "*"; loopback
// hosts never go through a proxy.
import type { Proxy } from "../config/types.ts";

// node:net is loaded on first use: it costs every nexus-init call ~5 ms of start-up otherwise,
// and only configs with a proxy need it.
const netModule = (): typeof import("node:net") => require("node:net");
const isIP = (s: string): number => netModule().isIP(s);

/** The proxy URL for target, or null for a direct connection. */
export function selectProxy(target: URL, proxy: Proxy | undefined | null): string | null {
  if (!proxy) return null;
  const raw = target.protocol === "https:" ? proxy.httpsProxy : target.protocol === "http:" ? proxy.httpProxy : null;
  if (!raw) return null;
  const host = stripBrackets(target.hostname).toLowerCase();
  if (isLoopback(host)) return null;
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  if (isExcluded(host, port, proxy.noProxy ?? [])) return null;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

function stripBrackets(h: string): string {
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || /^(0*:)*0*1$/.test(host) || host.startsWith("::ffff:127.");
  return false;
}

function isExcluded(host: string, port: string, noProxy: readonly (string | null)[]): boolean {
  const entries = noProxy.flatMap((e) => (e ?? "").split(",")).map((e) => e.trim().toLowerCase()).filter(Boolean);
  for (const entry of entries) {
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (isInCidr(host, entry)) return true;
      continue;
    }
    let name = entry;
    let entryPort: string | null = null;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m && isIP(stripBrackets(entry)) !== 6) {
      name = m[1]!;
      entryPort = m[2]!;
    }
    name = stripBrackets(name);
    if (entryPort !== null && entryPort !== port) continue;
    if (isIP(name)) {
      if (isIP(host) && name === host) return true;
      continue;
    }
    if (name.startsWith("*.")) name = name.slice(1);
    if (name.startsWith(".")) {
      if (host.endsWith(name)) return true;
      continue;
    }
    if (host === name || host.endsWith("." + name)) return true;
  }
  return false;
}

function isInCidr(host: string, cidr: string): boolean {
  const family = isIP(host);
  if (!family) return false;
  const [net, bits] = cidr.split("/");
  const netFamily = isIP(net ?? "");
  if (netFamily !== family || !/^\d+$/.test(bits ?? "")) return false;
  const list = new (netModule().BlockList)();
  try {
    list.addSubnet(net!, Number(bits), family === 4 ? "ipv4" : "ipv6");
  } catch {
    return false;
  }
  return list.check(host, family === 4 ? "ipv4" : "ipv6");
}
