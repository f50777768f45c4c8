import { describe, expect, test } from "bun:test";
import { decodeConfig } from "./decode.ts";
import { baseSchema } from "./schema.ts";
import { parseYaml } from "./yaml.ts";

function decode(text: string, base: 1 | 2 | 3 | 4 | 5 | 6 | 7 = 5) {
  const r = parseYaml(text);
  if (!r.ok) throw new Error(r.error.message);
  return decodeConfig(r.root, baseSchema(base).config, `v0_${base}`);
}

const warnings = (text: string, base?: 1 | 2 | 3 | 4 | 5 | 6 | 7) => {
  const d = decode(text, base);
  if (!d.ok) throw new Error(d.message);
  return d.warnings.map((w) => `${w.path.join(".")}: ${w.message}`);
};

describe("decodeConfig()", () => {
  test("decodeConfig() types fields by the schema: octal modes, strings kept as written", () => {
    const d = decode("storage:\n  files:\n    - path: /a\n      mode: 0644\n      user: {name: 123}\n      overwrite: yes\n");
    expect(d.ok && d.value).toEqual({ storage: { files: [{ path: "/a", mode: 420, user: { name: "123" }, overwrite: true }] } });
  });

  test("decodeConfig() drops unknown keys with an Unused key warning on the key", () => {
    expect(warnings("storage:\n  filez: []\n  files:\n    - path: /a\n      mod: 1\n")).toEqual([
      "storage.files.0.mod: Unused key mod",
      "storage.filez: Unused key filez",
    ]);
  });

  test("decodeConfig() reports fields of later versions as unused keys", () => {
    expect(warnings("storage:\n  files:\n    - path: /a\n      contents:\n        local: x\n", 1)).toEqual([
      "storage.files.0.contents.local: Unused key local",
    ]);
  });

  test("decodeConfig() warns where an alias stands for a mapping", () => {
    const w = warnings("storage:\n  files:\n    - path: /a\n      user: &u {name: core}\n    - path: /b\n      user: *u\n");
    expect(w).toEqual([
      "storage.files.1.user: context tree does not match content tree at $.storage.files.1.user. Line and column reporting may be inconsistent. Unused keys may not be reported.",
    ]);
  });

  test("decodeConfig() applies merge keys below explicit keys and warns about `<<`", () => {
    const d = decode("storage:\n  files:\n    - &f {path: /a, mode: 0600, overwrite: true}\n    - <<: *f\n      path: /b\n");
    expect(d.ok && (d.value.storage as { files: unknown[] }).files[1]).toEqual({ path: "/b", mode: 384, overwrite: true });
    expect(warnings("storage:\n  files:\n    - <<: {path: /a}\n")).toEqual(["storage.files.0.<<: Unused key <<"]);
  });

  test("decodeConfig() takes the first of several merged mappings", () => {
    const d = decode("passwd:\n  users:\n    - <<: [{name: a, uid: 1}, {name: b, shell: /bin/sh}]\n");
    expect(d.ok && d.value).toEqual({ passwd: { users: [{ name: "a", uid: 1, shell: "/bin/sh" }] } });
  });

  test("decodeConfig() fails on a key written twice, known to the schema or not, as go-yaml does", () => {
    const d = decode("storage:\n  files:\n    - path: /a\n      path: /b\n");
    expect(d).toEqual({ ok: false, message: 'yaml: unmarshal errors:\n  line 4: mapping key "path" already defined at line 3', at: { line: 4, col: 7 } });
    const unknown = decode("storage:\n  files:\n    - path: /a\n      x: 1\n      x: 2\n");
    expect(unknown.ok ? "" : unknown.message).toBe('yaml: unmarshal errors:\n  line 5: mapping key "x" already defined at line 4');
  });

  test("decodeConfig() keeps integers beyond 2^53 exact and refuses those beyond int64", () => {
    const d = decode("storage:\n  files:\n    - path: /a\n      mode: 9007199254740993\n");
    expect(d.ok && (d.value.storage as { files: { mode: unknown }[] }).files[0]!.mode).toBe(9007199254740993n);
    const big = decode("storage:\n  files:\n    - mode: 18446744073709551615\n");
    expect(big.ok ? "" : big.message).toBe("yaml: unmarshal errors:\n  line 3: cannot unmarshal !!int `1844674...` into int");
  });

  const typeErrors: [string, string, string][] = [
    ["a string where an integer goes", "storage:\n  files:\n    - path: /a\n      mode: abc\n", "line 4: cannot unmarshal !!str `abc` into int"],
    ["a quoted number where an integer goes", "storage:\n  files:\n    - path: /a\n      mode: '0644'\n", "line 4: cannot unmarshal !!str `0644` into int"],
    ["a mapping where a list goes", "storage:\n  files: {path: /a}\n", "line 2: cannot unmarshal !!map into []v0_5.File"],
    ["a list where a struct goes", "storage: [a]\n", "line 1: cannot unmarshal !!seq into v0_5.Storage"],
    ["a long string where a bool goes", "systemd:\n  units:\n    - name: a.service\n      enabled: definitelynot\n", "line 4: cannot unmarshal !!str `definit...` into bool"],
  ];
  for (const [what, text, message] of typeErrors) {
    test(`decodeConfig() fails on ${what}`, () => {
      expect(decode(text)).toMatchObject({ ok: false, message: `yaml: unmarshal errors:\n  ${message}` });
    });
  }

  test("decodeConfig() warns when a section is written as null", () => {
    expect(warnings("storage:\n")).toEqual([
      "storage: context tree does not match content tree at $.storage. Line and column reporting may be inconsistent. Unused keys may not be reported.",
    ]);
  });

  test("decodeConfig() leaves zero values in list slots written as null", () => {
    const d = decode("passwd:\n  users:\n    - ~\n    - name: a\n      groups: [wheel, ~]\n");
    expect(d.ok && d.value).toEqual({ passwd: { users: [{}, { name: "a", groups: ["wheel", ""] }] } });
  });
});
