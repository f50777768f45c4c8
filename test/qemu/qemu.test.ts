import { describe, expect, test } from "bun:test";
import { buildQemuArgs, cleanConsole, Slots, type VmSpec } from "./qemu.ts";

const base: VmSpec = { kernel: "/k/vmlinuz", initrd: "/k/initrd.img", cmdline: ["quiet"], disks: [], net: { mode: "none" } };

/** The value following each occurrence of a flag. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe("buildQemuArgs()", () => {
  test("`buildQemuArgs()` uses TCG, -cpu max, pvpanic exit-failure and a serial console", () => {
    const args = buildQemuArgs(base);
    expect(valuesOf(args, "-accel")).toEqual(["tcg"]);
    expect(valuesOf(args, "-cpu")).toEqual(["max"]);
    expect(valuesOf(args, "-action")).toEqual(["panic=exit-failure"]);
    expect(valuesOf(args, "-device")).toContain("pvpanic");
    expect(valuesOf(args, "-append")).toEqual(["console=ttyS0 no_timer_check quiet"]);
    expect(valuesOf(args, "-nic")).toEqual(["none"]);
    expect(args).toContain("-no-reboot");
  });

  test("`buildQemuArgs()` boots the first disk's boot loader without a kernel, and lets a reboot restart with reboot", () => {
    const args = buildQemuArgs({ cmdline: [], disks: [{ path: "/boot.img" }], net: { mode: "none" }, reboot: true });
    for (const flag of ["-kernel", "-initrd", "-append", "-no-reboot"]) expect(args).not.toContain(flag);
    expect(valuesOf(args, "-drive")).toEqual(["file=/boot.img,format=raw,if=none,id=disk0"]);
  });

  test("`buildQemuArgs()` attaches disks in array order with their serials", () => {
    const args = buildQemuArgs({ ...base, disks: [{ path: "/a.img" }, { path: "/b,c.img", serial: "results", readOnly: true }] });
    expect(valuesOf(args, "-drive")).toEqual(["file=/a.img,format=raw,if=none,id=disk0", "file=/b,,c.img,format=raw,if=none,id=disk1,readonly=on"]);
    expect(valuesOf(args, "-device").filter((d) => d.startsWith("virtio-blk"))).toEqual([
      "virtio-blk-pci,drive=disk0",
      "virtio-blk-pci,drive=disk1,serial=results",
    ]);
  });

  test.each([["has space"], ["x".repeat(21)], [""], ["a,b"]])("`buildQemuArgs()` rejects the disk serial %p", (serial) => {
    expect(() => buildQemuArgs({ ...base, disks: [{ path: "/a.img", serial }] })).toThrow(/serial/);
  });

  test("`buildQemuArgs()` passes fw_cfg blobs and slirp forwards through busybox nc", () => {
    const args = buildQemuArgs({
      ...base,
      fwCfg: [{ name: "opt/com.coreos/config", file: "/tmp/c.ign" }],
      net: { mode: "user", net: "169.254.0.0/16", forwards: [{ guestIp: "169.254.169.254", guestPort: 80, hostPort: 4321 }] },
    });
    expect(valuesOf(args, "-fw_cfg")).toEqual(["name=opt/com.coreos/config,file=/tmp/c.ign"]);
    expect(valuesOf(args, "-netdev")).toEqual(["user,id=net0,net=169.254.0.0/16,guestfwd=tcp:169.254.169.254:80-cmd:busybox nc 127.0.0.1 4321"]);
    expect(valuesOf(args, "-device")).toContain("virtio-net-pci,netdev=net0");
    expect(valuesOf(args, "-nic")).toEqual([]);
  });
});

describe("cleanConsole()", () => {
  test.each([
    ["a\r\nb", "a\nb"],
    ["\x1b[0;32m  OK  \x1b[0m done", "  OK   done"],
    ["\x1bc\x1b[?7l\x1b[2Jtext", "text"],
  ])("`cleanConsole()` turns %p into %p", (input, want) => {
    expect(cleanConsole(input)).toBe(want);
  });
});

describe("Slots", () => {
  test("`Slots.acquire()` never lets more than the limit run at once", async () => {
    const slots = new Slots(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        const release = await slots.acquire();
        running++;
        peak = Math.max(peak, running);
        await Bun.sleep(5);
        running--;
        release();
      }),
    );
    expect(peak).toBe(2);
  });

  test("`Slots.acquire()` release is idempotent", async () => {
    const slots = new Slots(1);
    const release = await slots.acquire();
    release();
    release();
    const a = await slots.acquire();
    let second = false;
    const b = slots.acquire().then((r) => {
      second = true;
      return r;
    });
    await Bun.sleep(5);
    expect(second).toBe(false);
    a();
    (await b)();
    expect(second).toBe(true);
  });
});
