import { describe, expect, test } from "bun:test";
import { mergeTranslated, TranslationSet } from "./translation_set.ts";

describe("mergeTranslated()", () => {
  test("mergeTranslated() maps result paths to the Butane origin, shifting child indexes", () => {
    const parentTs = new TranslationSet();
    parentTs.add(["storage", "filesystems", 0, "with_mount_unit"], ["systemd", "units", 0, "name"]);
    const childTs = new TranslationSet();
    childTs.add(["systemd", "units", 0, "name"], ["systemd", "units", 0, "name"]);
    const { config: merged, ts } = mergeTranslated(6, { systemd: { units: [{ name: "a.mount" }] } }, parentTs, { systemd: { units: [{ name: "b.service" }] } }, childTs);
    expect(merged).toEqual({ systemd: { units: [{ name: "a.mount" }, { name: "b.service" }] } });
    expect(ts.get(["systemd", "units", 1, "name"])).toEqual(["systemd", "units", 0, "name"]);
    expect(ts.get(["systemd", "units", 0, "name"])).toEqual(["storage", "filesystems", 0, "with_mount_unit"]);
  });

  test("mergeTranslated() takes the child's Go value fields even when unset, as that base's Ignition does", () => {
    const ts = new TranslationSet();
    const parent = { storage: { raid: [{ name: "md", level: "raid1" }] } };
    const child = { storage: { raid: [{ name: "md" }] } };
    expect(mergeTranslated(3, parent, ts, child, ts).config).toEqual({ storage: { raid: [{ name: "md" }] } });
    expect(mergeTranslated(4, parent, ts, child, ts).config).toEqual({ storage: { raid: [{ name: "md", level: "raid1" }] } });
  });
});
