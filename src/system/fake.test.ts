import { describe, expect, test } from "bun:test";
import { fakeSystem, UnansweredCommandError } from "./fake.ts";

describe("fakeSystem()", () => {
  test("fakeSystem() fails loudly on a command it was not told how to answer, and records it", async () => {
    const system = fakeSystem();
    await expect(system.run("mkfsExt4", ["/dev/sda1"])).rejects.toBeInstanceOf(UnansweredCommandError);
    expect(system.calls.map((c) => [c.cmd, ...c.args])).toEqual([["mkfsExt4", "/dev/sda1"]]);
  });

  test("fakeSystem() gives respond's answer, and runs the real tool only when asked to", async () => {
    const answered = fakeSystem({ respond: (cmd, args) => ({ argv: [cmd, ...args], code: 3, stdout: "", stderr: "no" }) });
    expect((await answered.run("blkid", ["-p"])).code).toBe(3);
    const real = fakeSystem({ real: true, env: { NEXUS_CMD_BLKID: "false" } });
    expect(await real.run("blkid", [])).toMatchObject({ argv: ["false"], code: 1 });
  });
});
