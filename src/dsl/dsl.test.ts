import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "../../scripts/gen-dsl-types.ts";
import { dropin, file, filesystem, fragment, kernelArguments, mkDefault, mkForce, service, system, unit, user } from "./builders.ts";
import { PART, RANK, SYSTEM, type Part } from "./parts.ts";
import { contentsKey, inlineBytes, param, read, remote, secret, setParams, text } from "./values.ts";

const data = (p: Part) => p[PART];
const HERE = import.meta.path;
const SOURCE = readFileSync(HERE, "utf8").split("\n");
/** The 1-based line of this file holding `needle`. */
const lineOf = (needle: string) => SOURCE.findIndex((l) => l.includes(needle)) + 1;

describe("builders", () => {
  test("`file()` records the caller's file, line and column and Ignition's fields", () => {
    const p = file("/etc/motd", { contents: "hi", mode: 0o644, user: "core", group: 10 });
    expect(data(p)).toMatchObject({ kind: "file", key: "/etc/motd", rank: RANK.normal, value: { path: "/etc/motd", contents: "hi", mode: 0o644, user: { name: "core" }, group: { id: 10 } } });
    expect(data(p).origin).toMatchObject({ file: HERE, line: lineOf('file("/etc/motd", { contents: "hi"'), column: 15 });
  });

  test("`captureOrigin()` skips library frames and keeps outer user frames", () => {
    const helper = () => {
      const made = [file("/a", {})]; // the declaring line
      return made.length === 1 ? made[0]! : undefined;
    };
    const o = data(helper()!).origin!;
    expect(o.file).toBe(HERE);
    expect(o.line).toBe(lineOf("the declaring line"));
    // Outer frames are best effort (JavaScriptCore drops tail-call frames); all are the user's.
    expect(o.via.every((v) => v.file === HERE)).toBe(true);
  });

  test("`service()` renders typed sections and enables a unit that has an [Install] target", () => {
    const p = service("app.service", {
      unit: { Description: "App", After: ["network.target", "local-fs.target"] },
      service: { ExecStart: "/usr/bin/app", RemainAfterExit: true },
      install: { WantedBy: "multi-user.target" },
    });
    expect(data(p).value).toEqual({
      name: "app.service",
      enabled: true,
      contents: "[Unit]\nDescription=App\nAfter=network.target\nAfter=local-fs.target\n\n[Service]\nExecStart=/usr/bin/app\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n",
    });
  });

  test("`filesystem()` with withMountUnit also declares Butane's mount unit", () => {
    const parts = filesystem("/dev/disk/by-label/var", { format: "xfs", path: "/var", withMountUnit: true }) as Part[];
    expect(parts.map((p) => [data(p).kind, data(p).key])).toEqual([
      ["filesystem", "/dev/disk/by-label/var"],
      ["unit", "var.mount"],
    ]);
    expect(String(data(parts[1]!).value.contents)).toContain("Where=/var\nWhat=/dev/disk/by-label/var\nType=xfs");
  });

  test("`kernelArguments()` declares one part per argument; `dropin()` a unit with one drop-in", () => {
    const parts = kernelArguments({ shouldExist: ["a=1"], shouldNotExist: ["quiet"] }) as Part[];
    expect(parts.map((p) => [data(p).key, data(p).value.exist])).toEqual([
      ["a=1", true],
      ["quiet", false],
    ]);
    expect(data(dropin("x.service", "10.conf", "[Unit]\n")).value).toEqual({ name: "x.service", dropins: [{ name: "10.conf", contents: "[Unit]\n" }] });
  });

  test("`mkDefault()`, `mkForce()` and `fragment()` re-rank and name nested parts", () => {
    const parts = fragment("base", [mkDefault([file("/a", {})]), mkForce(unit("u.service", {}))]);
    const flat = system(parts)[SYSTEM].parts;
    expect(flat.map((p) => [p.rank, p.fragments])).toEqual([
      [RANK.default, ["base"]],
      [RANK.force, ["base"]],
    ]);
  });

  test("`system()` drops conditional holes and rejects what is not a declaration", () => {
    expect(system([false, null, undefined, [file("/a", {})]])[SYSTEM].parts).toHaveLength(1);
    expect(() => system([{ path: "/a" } as never])).toThrow("system() parts[0] is not a declaration");
  });

  test("`user()` rejects an empty name at the caller's line", () => {
    expect(() => user("", {})).toThrow(/user\(\) name needs a non-empty string, got "", at .*dsl\.test\.ts:\d+:\d+/);
  });
});

describe("values", () => {
  test("`read()` reads relative to the calling file; `text` joins parts and secrets", () => {
    const own = read("./dsl.test.ts");
    expect(new TextDecoder().decode(own.bytes)).toBe(readFileSync(HERE, "utf8"));
    process.env.NEXUS_DSL_TEST_SECRET = "s3cret";
    const s = secret("t", { env: "NEXUS_DSL_TEST_SECRET" });
    expect(new TextDecoder().decode(inlineBytes(text`A=${s};N=${2}`)!)).toBe("A=s3cret;N=2");
  });

  test("a secret cannot become a plain string or JSON by accident", () => {
    process.env.NEXUS_DSL_TEST_SECRET = "s3cret";
    const s = secret("t", { env: "NEXUS_DSL_TEST_SECRET" });
    expect(() => `${s as unknown as string}`).toThrow('Secret "t"');
    expect(() => JSON.stringify({ s })).toThrow('Secret "t"');
    expect(() => secret("u", { env: "NEXUS_DSL_TEST_NOT_SET" })).toThrow("environment variable NEXUS_DSL_TEST_NOT_SET is not set");
  });

  test("`contentsKey()` identifies contents by bytes, whatever their form", () => {
    expect(contentsKey("abc")).toBe(contentsKey(new TextEncoder().encode("abc")));
    expect(contentsKey("abc")).not.toBe(contentsKey("abd"));
    expect(contentsKey(remote("https://x/a", { verification: { hash: "sha512-00" } }))).toBe(contentsKey(remote("https://x/a", { verification: { hash: "sha512-00" } })));
  });

  test("`param()` converts --set values to the default's type", () => {
    setParams(new Map([["n", "7"], ["b", "no"]]));
    expect(param("n", 1)).toBe(7);
    expect(param("b", true)).toBe(false);
    expect(param("s", "dflt")).toBe("dflt");
    setParams(new Map());
  });
});

test("src/dsl/spec.generated.ts is what scripts/gen-dsl-types.ts generates from the field table", () => {
  expect(readFileSync(join(import.meta.dir, "spec.generated.ts"), "utf8")).toBe(generate());
});
