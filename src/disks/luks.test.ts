import { describe, expect, test } from "bun:test";
import type { Luks } from "../config/types.ts";
import {
  buildClevisBinding,
  buildLuksFormat,
  buildLuksOpen,
  canReopenWithClevis,
  describeClevisBinding,
  findCexRefusal,
  findLuksReuseProblem,
  formatCrypttabLine,
  formatTangAdvertisementUrl,
  hasClevis,
  hasNetworkPin,
  planClevisChecks,
} from "./luks.ts";

describe("luks", () => {
  test("`buildLuksFormat()` passes the key as a file and appends options before the device", () => {
    const luks: Luks = { name: "data", device: "/dev/x", label: "L", uuid: "U", options: ["--cipher", "aes-xts-plain64"] };
    expect(buildLuksFormat(luks, "/dev/x", "/run/k")).toEqual({
      cmd: "cryptsetup",
      args: ["luksFormat", "--type", "luks2", "--key-file", "/run/k", "--label", "L", "--uuid", "U", "--cipher", "aes-xts-plain64", "/dev/x"],
    });
  });

  test("`buildLuksOpen()` persists discard and open options", () => {
    expect(buildLuksOpen({ name: "data", discard: true, openOptions: ["--perf-no_read_workqueue"] }, "/dev/x", "/run/k").args).toEqual([
      "luksOpen", "/dev/x", "data", "--key-file", "/run/k", "--persistent", "--allow-discards", "--perf-no_read_workqueue",
    ]);
  });

  test.each([
    [{ tpm2: true }, { pin: "sss", config: '{"pins":{"tpm2":{}},"t":1}' }],
    [{ tang: [{ url: "http://t", thumbprint: "abc" }], threshold: 1 }, { pin: "sss", config: '{"pins":{"tang":[{"url":"http://t","thp":"abc"}]},"t":1}' }],
    [{ tang: [{ url: "http://t", thumbprint: "abc", advertisement: '{"payload":"x"}' }], tpm2: true, threshold: 2 }, { pin: "sss", config: '{"pins":{"tang":[{"url":"http://t","thp":"abc","adv":{"payload":"x"}}],"tpm2":{}},"t":2}' }],
    [{ custom: { pin: "tpm2", config: '{"pcr_ids":"7"}' } }, { pin: "tpm2", config: '{"pcr_ids":"7"}' }],
  ] as [NonNullable<Luks["clevis"]>, object][])("`buildClevisBinding()` for %p", (clevis, want) => {
    expect(buildClevisBinding(clevis)).toEqual(want as never);
  });

  test("`canReopenWithClevis()` counts only pins usable offline", () => {
    expect(canReopenWithClevis({ tpm2: true })).toBe(true);
    expect(canReopenWithClevis({ tang: [{ url: "u", advertisement: "{}" }] })).toBe(false);
    expect(canReopenWithClevis({ tang: [{ url: "u" }, { url: "v" }], threshold: 2 })).toBe(true);
  });

  test.each([
    [{ name: "data", keyFile: { source: "data:,k" } }, "data UUID=1234 /etc/luks/data luks,x-initrd.attach\n"],
    [{ name: "data", keyFile: { source: "data:,k" }, discard: true, openOptions: ["--perf-no_read_workqueue"] }, "data UUID=1234 /etc/luks/data luks,x-initrd.attach\n"],
    [{ name: "data", clevis: { tpm2: true } }, "data UUID=1234 none luks,x-initrd.attach\n"],
    [{ name: "data", clevis: { tang: [{ url: "http://t", advertisement: "{}" }] } }, "data UUID=1234 none luks,_netdev,x-initrd.attach\n"],
    [{ name: "data", clevis: { custom: { pin: "x", config: "{}", needsNetwork: true } } }, "data UUID=1234 none luks,_netdev,x-initrd.attach\n"],
    [{ name: "data", clevis: { custom: { pin: "x", config: "{}", needsNetwork: false } } }, "data UUID=1234 none luks,x-initrd.attach\n"],
  ] as [Luks, string][])("`formatCrypttabLine()` for %p", (luks, want) => {
    expect(formatCrypttabLine(luks, "1234")).toBe(want);
  });

  test("`hasClevis()` is false for an empty clevis object", () => {
    expect(hasClevis({})).toBe(false);
    expect(hasClevis({ tang: [] })).toBe(false);
  });

  test.each([
    [{ name: "d", keyFile: { source: "data:,k" } }, { label: "", uuid: "u", allowDiscards: false }, undefined],
    [{ name: "d" }, { label: "", uuid: "u", allowDiscards: false }, "must specify a keyFile"],
    [{ name: "d", keyFile: { source: "data:,k" }, clevis: { tpm2: true } }, { label: "", uuid: "u", allowDiscards: false }, "clevis"],
    [{ name: "d", keyFile: { source: "data:,k" }, label: "x" }, { label: "y", uuid: "u", allowDiscards: false }, 'label "y"'],
    [{ name: "d", keyFile: { source: "data:,k" }, uuid: "v" }, { label: "", uuid: "u", allowDiscards: false }, 'UUID "u"'],
    [{ name: "d", keyFile: { source: "data:,k" }, discard: true }, { label: "", uuid: "u", allowDiscards: false }, "allow-discards"],
  ] as [Luks, { label: string; uuid: string; allowDiscards: boolean }, string | undefined][])("`findLuksReuseProblem()` for %p", (luks, found, want) => {
    const got = findLuksReuseProblem(luks, found);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(want);
  });

  test("`hasNetworkPin()` needs tang or a custom pin that says so", () => {
    expect(hasNetworkPin({ tpm2: true })).toBe(false);
    expect(hasNetworkPin({ tang: [{ url: "http://t", thumbprint: "x", advertisement: "{}" }] })).toBe(true);
    expect(hasNetworkPin({ custom: { needsNetwork: true } })).toBe(false);
  });

  test.each([
    ["http://tang.example.com", "http://tang.example.com/adv"],
    ["http://tang.example.com/", "http://tang.example.com/adv"],
    ["http://10.0.2.2:8080/tang", "http://10.0.2.2:8080/tang/adv"],
  ])("`formatTangAdvertisementUrl()` of %p", (url, want) => {
    expect(formatTangAdvertisementUrl(url)).toBe(want);
  });

  test("`planClevisChecks()` checks each tang server (fetching only missing advertisements) and the TPM", () => {
    expect(planClevisChecks({ tang: [{ url: "http://a", thumbprint: "T" }, { url: "http://b", thumbprint: "U", advertisement: '{"payload":"p"}' }], tpm2: true, threshold: 2 })).toEqual([
      { pin: "tang", url: "http://a", config: '{"url":"http://a","thp":"T"}', fetchAdvertisement: true },
      { pin: "tang", url: "http://b", config: '{"url":"http://b","thp":"U","adv":{"payload":"p"}}', fetchAdvertisement: false },
      { pin: "tpm2" },
    ]);
    expect(planClevisChecks({ custom: { pin: "tpm2", config: '{"pcr_ids":"7"}' } })).toEqual([{ pin: "custom", name: "tpm2" }]);
  });

  test("`describeClevisBinding()` names the threshold and every pin", () => {
    expect(describeClevisBinding({ tang: [{ url: "http://a" }], tpm2: true, threshold: 2 })).toBe('sss (threshold 2): tang "http://a", tpm2');
    expect(describeClevisBinding({ custom: { pin: "tpm2", config: "{}" } })).toBe('custom pin "tpm2"');
  });

  test("`findCexRefusal()` refuses cex off s390x and leaves other volumes alone", () => {
    expect(findCexRefusal({ name: "root", cex: { enabled: true } }, "x64")).toContain("exist only on s390x, and this machine is x64");
    expect(findCexRefusal({ name: "root", cex: { enabled: false } }, "x64")).toBeUndefined();
    expect(findCexRefusal({ name: "root" }, "x64")).toBeUndefined();
  });
});
