import { describe, expect, test } from "bun:test";
import type { Unit } from "../config/types.ts";
import { planUnits, presetText, splitInstance } from "./plan.ts";

describe("splitInstance()", () => {
  test.each([
    ["echo@bar.service", { template: "echo@.service", instance: "bar" }],
    ["getty@tty1.service", { template: "getty@.service", instance: "tty1" }],
    ["echo@.service", null],
    ["plain.service", null],
  ])("splitInstance() splits %p", (name, want) => {
    expect(splitInstance(name)).toEqual(want);
  });
});

describe("planUnits()", () => {
  test("planUnits() writes drop-ins before the unit and skips absent contents, keeping empty ones", () => {
    const units: Unit[] = [
      { name: "a.service", contents: "[Unit]\n", dropins: [{ name: "empty.conf", contents: "" }, { name: "none.conf" }] },
      { name: "b.service", mask: true },
      { name: "c.service", mask: false },
    ];
    expect(planUnits(units).actions).toEqual([
      { kind: "write-dropin", unit: "a.service", dropin: "empty.conf", path: "/etc/systemd/system/a.service.d/empty.conf", contents: "" },
      { kind: "write-unit", unit: "a.service", path: "/etc/systemd/system/a.service", contents: "[Unit]\n" },
      { kind: "mask", unit: "b.service", path: "/etc/systemd/system/b.service" },
      { kind: "unmask", unit: "c.service", path: "/etc/systemd/system/c.service" },
    ]);
  });

  test("planUnits() sorts presets by unit name whatever the config order", () => {
    const names = ["foo", "bar", "qux", "baz", "garply"];
    const plan = planUnits(names.map((n) => ({ name: `${n}.service`, enabled: true })));
    expect(presetText(plan.presets)).toBe(
      "enable bar.service\nenable baz.service\nenable foo.service\nenable garply.service\nenable qux.service\n",
    );
  });

  test("planUnits() groups instances of a template on one sorted line", () => {
    const plan = planUnits([
      { name: "echo@.service", contents: "x" },
      { name: "echo@foo.service", enabled: true },
      { name: "echo@bar.service", enabled: true },
    ]);
    expect(presetText(plan.presets)).toBe("enable echo@.service bar foo\n");
  });

  test("planUnits() disables units with enabled false and lists them for symlink removal", () => {
    const plan = planUnits([
      { name: "z.service", enabled: true },
      { name: "a.service", enabled: false },
      { name: "unset.service" },
    ]);
    expect(presetText(plan.presets)).toBe("disable a.service\nenable z.service\n");
    expect(plan.disable).toEqual(["a.service"]);
  });

  test("planUnits() is deterministic: the same units give the same preset text in any order", () => {
    const units: Unit[] = [
      { name: "b@2.service", enabled: true },
      { name: "a.service", enabled: false },
      { name: "b@1.service", enabled: true },
    ];
    expect(presetText(planUnits(units).presets)).toBe(presetText(planUnits([...units].reverse()).presets));
  });
});
