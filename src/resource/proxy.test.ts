import { describe, expect, test } from "bun:test";
import { selectProxy } from "./proxy.ts";

const P = "http://proxy.example:3128";
describe("selectProxy()", () => {
  const cases: [string, string, string[], string | null][] = [
    ["uses httpProxy for http URLs", "http://www.fake.tld/", [], P],
    ["uses httpsProxy for https URLs", "https://www.fake.tld/", [], "http://secure.example:3129"],
    ["never proxies loopback addresses", "http://127.0.0.1:8080/config", [], null],
    ["never proxies localhost", "http://localhost/", [], null],
    ["skips a host listed exactly", "http://www.fake.tld/", ["www.fake.tld"], null],
    ["skips subdomains of a listed domain", "http://a.b.example.org/", ["example.org"], null],
    ["skips only subdomains for a leading dot", "http://example.org/", [".example.org"], P],
    ["skips addresses in a listed CIDR", "http://10.1.2.3/", ["10.0.0.0/8"], null],
    ["keeps addresses outside a listed CIDR", "http://11.1.2.3/", ["10.0.0.0/8"], P],
    ["matches host:port entries on the port", "http://www.fake.tld:8081/", ["www.fake.tld:8080"], P],
    ["skips everything for *", "http://www.fake.tld/", ["*"], null],
    ["ignores empty entries", "http://www.fake.tld/", [""], P],
    ["splits comma-separated entries", "http://www.fake.tld/", ["a.example, www.fake.tld"], null],
  ];
  for (const [what, url, noProxy, want] of cases) {
    test(`\`selectProxy()\` ${what}`, () => {
      expect(selectProxy(new URL(url), { httpProxy: P, httpsProxy: "secure.example:3129", noProxy })).toBe(want);
    });
  }
  test("`selectProxy()` returns null when no proxy is configured", () => {
    expect(selectProxy(new URL("http://www.fake.tld/"), undefined)).toBeNull();
    expect(selectProxy(new URL("http://www.fake.tld/"), { httpsProxy: P })).toBeNull();
  });
});
