import { describe, expect, test } from "bun:test";
import type { Config } from "../config/types.ts";
import { configNeedsNet } from "./neednet.ts";

describe("configNeedsNet()", () => {
  const cases: [string, object, boolean][] = [
    ["data URLs only", { storage: { files: [{ path: "/a", contents: { source: "data:,x" } }] } }, false],
    ["an http file", { storage: { files: [{ path: "/a", contents: { source: "http://h/x" } }] } }, true],
    ["a tftp append", { storage: { files: [{ path: "/a", append: [{ source: "tftp://h/x" }] }] } }, true],
    ["an s3 CA", { ignition: { version: "3.0.0", security: { tls: { certificateAuthorities: [{ source: "s3://b/k" }] } } } }, true],
    ["a tang server", { storage: { luks: [{ name: "x", clevis: { tang: [{ url: "http://t" }] } }] } }, true],
    ["a tang server with its advertisement", { storage: { luks: [{ name: "x", clevis: { tang: [{ url: "http://t", thumbprint: "T", advertisement: "{}" }] } }] } }, false],
    ["a custom pin that needs the network", { storage: { luks: [{ name: "x", clevis: { custom: { pin: "p", config: "{}", needsNetwork: true } } }] } }, true],
    ["a custom pin that does not", { storage: { luks: [{ name: "x", clevis: { custom: { pin: "p", config: "{}", needsNetwork: false } } }] } }, false],
    ["nothing", {}, false],
  ];
  for (const [what, cfg, want] of cases) {
    test(`\`configNeedsNet()\` is ${want} for ${what}`, () => expect(configNeedsNet({ ignition: { version: "3.6.0" }, ...cfg } as Config)).toBe(want));
  }
});
