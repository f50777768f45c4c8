import { describe, expect, test } from "bun:test";
import { parseBootLog, parseTinyOsReport, splitList } from "./serial.ts";

const serial = [
  "[    3.2] Run /init as init process",
  "nexus-boot: [   3.50] nexus-init LiveCD initramfs, kernel 6.1.0",
  "nexus-boot: [   3.52] kernel → /init: 3.51 s (initramfs unpacked in 1.77 s)",
  "nexus-boot: [   4.10] stage fetch-offline: finished in 420 ms",
  "nexus-boot: [   4.30] stage disks: finished in 1200 ms",
  "nexus-boot: [   6.93] provisioning complete after 6930 ms of boot",
  "nexus-tinyos: os=NexusOS Tiny 1",
  "nexus-tinyos: users=core(1000),deploy(1500)",
  "nexus-tinyos: masked=-",
  "nexus-tinyos: motd=Hello = world",
  "nexus-tinyos: ready",
].join("\n");

describe("parseTinyOsReport()", () => {
  test("`parseTinyOsReport()` reads key=value lines and the ready marker", () => {
    const r = parseTinyOsReport(serial);
    expect(r.ready).toBe(true);
    expect(r.fields).toEqual({ os: "NexusOS Tiny 1", users: "core(1000),deploy(1500)", masked: "-", motd: "Hello = world" });
  });

  test("`parseTinyOsReport()` is not ready when the marker line never came", () => {
    expect(parseTinyOsReport("nexus-tinyos: os=x\nnexus-tinyos: ready-ish").ready).toBe(false);
  });
});

describe("splitList()", () => {
  test.each([
    [undefined, []],
    ["", []],
    ["-", []],
    ["a", ["a"]],
    ["a,b", ["a", "b"]],
  ] as const)("`splitList()` splits %p", (input, want) => {
    expect(splitList(input)).toEqual([...want]);
  });
});

describe("parseBootLog()", () => {
  test("`parseBootLog()` collects stage timings and the provisioning time", () => {
    const log = parseBootLog(serial);
    expect(log.stages).toEqual([
      { stage: "fetch-offline", ms: 420 },
      { stage: "disks", ms: 1200 },
    ]);
    expect(log.provisionedAtMs).toBe(6930);
    expect(log.errors).toEqual([]);
  });

  test("`parseBootLog()` reads kernel → /init and the unpack time /init took from the kernel's log", () => {
    const log = parseBootLog(serial);
    expect([log.kernelToInitMs, log.unpackMs]).toEqual([3510, 1770]);
    expect(parseBootLog("nexus-boot: [   9.00] kernel → /init: 9.00 s").unpackMs).toBeNull();
  });

  test("`parseBootLog()` collects error lines", () => {
    const log = parseBootLog("nexus-boot: ERROR: stage disks failed (exit code 1)\nnexus-boot: halting");
    expect(log.errors).toEqual(["stage disks failed (exit code 1)"]);
    expect(log.provisionedAtMs).toBeNull();
  });
});
