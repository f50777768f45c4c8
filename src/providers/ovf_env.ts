// The OVF environment document (DMTF "ovf/environment/1"): its PropertySection's properties as a
// map, and the same document with some properties removed. Only what VMware's provider needs:
// <Property oe:key="…" oe:value="…"/> elements of the environment namespace.

const OVF_NS = "http://schemas.dmtf.org/ovf/environment/1";

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[e]!;
  });
}

/** The prefixes bound to the OVF environment namespace ("" for the default namespace). */
function envPrefixes(doc: string): Set<string> {
  const out = new Set<string>();
  for (const m of doc.matchAll(/xmlns(?::([\w.-]+))?\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    if ((m[3] ?? m[4]) === OVF_NS) out.add(m[1] ?? "");
  }
  return out;
}

interface PropertyElement {
  text: string;
  key: string;
  value: string;
}

/** The Property elements of the environment namespace, with their key and value attributes. */
function properties(doc: string): PropertyElement[] {
  const prefixes = envPrefixes(doc);
  const out: PropertyElement[] = [];
  for (const m of doc.matchAll(/<(?:([\w.-]+):)?Property\b([^>]*?)(\/>|>[\s\S]*?<\/(?:[\w.-]+:)?Property\s*>)/g)) {
    if (!prefixes.has(m[1] ?? "")) continue;
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/(?:([\w.-]+):)?([\w.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      if (a[1] === undefined || prefixes.has(a[1])) attrs[a[2]!] = unescapeXml(a[4] ?? a[5] ?? "");
    }
    if (attrs.key !== undefined) out.push({ text: m[0], key: attrs.key, value: attrs.value ?? "" });
  }
  return out;
}

/** The properties of an OVF environment, key → value. */
export function readOvfProperties(doc: string): Record<string, string> {
  return Object.fromEntries(properties(doc).map((p) => [p.key, p.value]));
}

/** The document without the properties named in `keys`, or null when it has none of them. */
export function deleteOvfProperties(doc: string, keys: readonly string[]): string | null {
  const drop = properties(doc).filter((p) => keys.includes(p.key));
  if (drop.length === 0) return null;
  let out = doc;
  for (const p of drop) out = out.replace(new RegExp(`[ \\t]*${p.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[ \\t]*\\r?\\n?`), "");
  return out;
}
