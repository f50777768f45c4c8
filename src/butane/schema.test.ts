import { describe, expect, test } from "bun:test";
import { baseSchema, ignitionFields, type StructType } from "./schema.ts";

const fieldNames = (st: StructType) => ignitionFields(st).map((f) => f.json);
const yamlNames = (st: StructType) => st.fields.map((f) => f.yaml);

describe("baseSchema()", () => {
  test("baseSchema() orders Ignition's fields as Go prints them: by Go name, a node's own fields first", () => {
    const s = baseSchema(7).types;
    expect(fieldNames(s.Tang!)).toEqual(["advertisement", "thumbprint", "url"]);
    expect(fieldNames(s.PasswdUser!).slice(-5)).toEqual(["sshAuthorizedKeys", "shell", "shouldExist", "system", "uid"]);
    expect(fieldNames(s.File!)).toEqual(["group", "overwrite", "path", "user", "append", "contents", "mode"]);
  });

  test("baseSchema() takes the fields of the Ignition spec each base emits, and Butane's sugar from its base", () => {
    expect(baseSchema(1).types.Resource).toBeUndefined();
    expect(yamlNames(baseSchema(1).types.FileContents!)).toEqual(["compression", "source", "verification", "inline"]);
    expect(yamlNames(baseSchema(1).types.Storage!)).not.toContain("trees");
    expect(yamlNames(baseSchema(2).types.Storage!)).toContain("trees");
    expect(yamlNames(baseSchema(4).types.Luks!)).not.toContain("discard");
    expect(yamlNames(baseSchema(5).types.Luks!)).toContain("discard");
    expect(yamlNames(baseSchema(5).types.Unit!)).toContain("contents_local");
    expect(yamlNames(baseSchema(7).types.Tree!)).toEqual(["local", "path", "file_mode", "dir_mode", "user", "group"]);
  });

  test("baseSchema() marks the Go value fields of each base's spec and names types as Butane's Go packages do", () => {
    const valueOf = (st: StructType, json: string) => st.fields.find((f) => f.json === json)?.value === true;
    expect(valueOf(baseSchema(3).types.Link!, "target")).toBe(true);
    expect(valueOf(baseSchema(4).types.Link!, "target")).toBe(false);
    expect(valueOf(baseSchema(7).types.Disk!, "device")).toBe(true);
    expect(baseSchema(3).types.Custom).toBeDefined();
    expect(baseSchema(4).types.ClevisCustom).toBeDefined();
    expect(baseSchema(7).types.Ignition!.fields.find((f) => f.json === "version")).toMatchObject({ outputOnly: true, value: true });
  });
});
