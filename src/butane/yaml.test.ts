import { describe, expect, test } from "bun:test";
import { derefYaml, parseYaml, type YamlNode } from "./yaml.ts";

/** Plain JS view of a tree with YAML 1.2 core typing of plain scalars (as Bun.YAML types them). */
function toJS(n: YamlNode | null): unknown {
  if (!n) return null;
  switch (n.kind) {
    case "alias":
      return toJS(n.target);
    case "seq":
      return n.items.map(toJS);
    case "map": {
      const o: Record<string, unknown> = {};
      for (const p of n.pairs) o[String(toJS(p.key))] = toJS(p.value);
      return o;
    }
    case "scalar": {
      if (n.style !== "plain" || n.tag === "!!str") return n.value;
      const v = n.value;
      if (v === "" || v === "~" || v === "null") return null;
      if (v === "true" || v === "false") return v === "true";
      if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(v)) return Number(v);
      return v;
    }
  }
}

function parse(text: string): unknown {
  const r = parseYaml(text);
  if (!r.ok) throw new Error(r.error.message);
  return toJS(r.root);
}

describe("parseYaml() structure", () => {
  const cases: [string, string, unknown][] = [
    ["a block mapping", "a: 1\nb: two\n", { a: 1, b: "two" }],
    ["nested mappings and sequences", "a:\n  b:\n    - x\n    - y: 1\n      z: 2\n", { a: { b: ["x", { y: 1, z: 2 }] } }],
    ["a sequence at the same indentation as its key", "seq:\n- 1\n- 2\nnext: 3\n", { seq: [1, 2], next: 3 }],
    ["compact nested sequences", "- - a\n  - b\n- c\n", [["a", "b"], "c"]],
    ["flow collections", "f: [a, b c, 'd', \"e\", [f], {g: h}]\n", { f: ["a", "b c", "d", "e", ["f"], { g: "h" }] }],
    ["a flow collection over several lines", "a: {b: [1, 2,\n  3], c: d}\n", { a: { b: [1, 2, 3], c: "d" } }],
    ["flow mapping keys without values", "a: {b, c: 1}\n", { a: { b: null, c: 1 } }],
    ["a single-pair mapping inside a flow sequence", "a: [k: v]\n", { a: [{ k: "v" }] }],
    ["empty values", "a:\nb: ~\nc: []\nd: {}\n", { a: null, b: null, c: [], d: {} }],
    ["comments", "# top\nfoo: bar # trailing\nbaz: 'a#b'\nc: a#b\n", { foo: "bar", baz: "a#b", c: "a#b" }],
    ["a URL with colons", "url: http://example.com:80/x\n", { url: "http://example.com:80/x" }],
    ["a folded multi-line plain scalar", "m: this is\n  a plain\n\n  scalar\nn: 1\n", { m: "this is a plain\nscalar", n: 1 }],
    ["single-quoted escapes", "s: 'it''s'\n", { s: "it's" }],
    ["double-quoted escapes", 's: "t\\there\\nnl \\u263A \\x41 \\U0001F600"\n', { s: "t\there\nnl ☺ A 😀" }],
    ["a folded double-quoted scalar", 'q: "folded\n  quoted\n\n  str"\n', { q: "folded quoted\nstr" }],
    ["an escaped line break", 'k: "esc \\\n   joined"\n', { k: "esc joined" }],
    ["quoted and explicit keys", "\"quoted key\": 1\n'single': 2\n? explicit\n: value\n", { "quoted key": 1, single: 2, explicit: "value" }],
    ["a document marker", "---\nx: 1\n...\n", { x: 1 }],
    ["only the first document", "a: 1\n---\nb: 2\n", { a: 1 }],
    ["an empty document", "# nothing\n", null],
    ["a byte order mark and CRLF line ends", "\uFEFFa: 1\r\nb: 2\r\n", { a: 1, b: 2 }],
    ["tabs after the indentation", "a:\t1\n", { a: 1 }],
    ["a key holding dashes", "-a: 1\n", { "-a": 1 }],
  ];
  for (const [what, text, want] of cases) {
    test(`parseYaml() reads ${what}`, () => {
      expect(parse(text)).toEqual(want);
    });
  }
});

describe("parseYaml() block scalars", () => {
  const cases: [string, string, string][] = [
    ["literal, clipped", "k: |\n  a\n  b\n\n\nn: 1\n", "a\nb\n"],
    ["literal, stripped", "k: |-\n  a\n  b\n\nn: 1\n", "a\nb"],
    ["literal, kept", "k: |+\n  a\n\n\nn: 1\n", "a\n\n\n"],
    ["literal with more-indented lines", "k: |\n  a\n    b\n  c\n", "a\n  b\nc\n"],
    ["literal with an explicit indentation", "k: |2\n   a\n  b\n", " a\nb\n"],
    ["literal keeping comment-like lines", "k: |\n  # not a comment\n  x\n", "# not a comment\nx\n"],
    ["folded", "k: >\n  folded\n  text\n\n  para\n    more\n  back\n", "folded text\npara\n  more\nback\n"],
    ["folded, stripped", "k: >-\n  x\n   y\n  z\n", "x\n y\nz"],
    ["literal inside a sequence item mapping", "a:\n  - b: |\n      text\n      more\n    c: d\n", "text\nmore\n"],
    ["literal at the end of the input without a line break", "k: |\n  a", "a"],
    ["empty literal", "k: |\nn: 1\n", ""],
  ];
  for (const [what, text, want] of cases) {
    test(`parseYaml() reads a ${what} block scalar`, () => {
      const v = parse(text) as Record<string, unknown>;
      const k = v.k ?? (v.a as Record<string, unknown>[])[0]!.b;
      expect(k).toBe(want);
    });
  }
});

describe("parseYaml() positions", () => {
  test("parseYaml() gives 1-based lines and columns of keys and values", () => {
    const r = parseYaml("variant: fcos\nstorage:\n  files:\n    - path: /a\n      mode: 0644\n");
    expect(r.ok).toBe(true);
    if (!r.ok || !r.root || r.root.kind !== "map") throw new Error("not a map");
    const storage = r.root.pairs[1]!;
    expect([storage.key.line, storage.key.col]).toEqual([2, 1]);
    const files = (storage.value as YamlNode & { kind: "map" }).pairs[0]!.value as YamlNode & { kind: "seq" };
    expect([files.line, files.col]).toEqual([4, 5]);
    const item = files.items[0] as YamlNode & { kind: "map" };
    expect([item.line, item.col]).toEqual([4, 7]);
    const mode = item.pairs[1]!;
    expect([mode.key.line, mode.key.col, mode.value.line, mode.value.col]).toEqual([5, 7, 5, 13]);
  });

  test("parseYaml() positions a block scalar at its indicator", () => {
    const r = parseYaml("a:\n  k: |\n    text\n");
    if (!r.ok || !r.root || r.root.kind !== "map") throw new Error("not a map");
    const inner = r.root.pairs[0]!.value as YamlNode & { kind: "map" };
    expect([inner.pairs[0]!.value.line, inner.pairs[0]!.value.col]).toEqual([2, 6]);
  });
});

describe("parseYaml() anchors, aliases and tags", () => {
  test("parseYaml() resolves an alias to its anchored mapping", () => {
    const r = parseYaml("a: &x\n  k: v\nb: *x\n");
    if (!r.ok || !r.root || r.root.kind !== "map") throw new Error("not a map");
    const b = r.root.pairs[1]!.value;
    expect(b.kind).toBe("alias");
    expect(toJS(derefYaml(b))).toEqual({ k: "v" });
    expect([b.line, b.col]).toEqual([3, 4]);
  });

  test("parseYaml() anchors the key when the anchor shares its line", () => {
    const r = parseYaml("&a x: 1\nb: *a\n");
    expect(r.ok && toJS(r.root)).toEqual({ x: 1, b: "x" });
  });

  test("parseYaml() keeps `<<` merge keys as ordinary keys for the decoder", () => {
    expect(parse("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n")).toEqual({ base: { x: 1 }, use: { "<<": { x: 1 }, y: 2 } });
  });

  test("parseYaml() shortens verbatim core tags and keeps others", () => {
    const r = parseYaml("a: !<tag:yaml.org,2002:str> 1\nb: !!int '2'\nc: !custom x\n");
    if (!r.ok || !r.root || r.root.kind !== "map") throw new Error("not a map");
    expect(r.root.pairs.map((p) => p.value.tag)).toEqual(["!!str", "!!int", "!custom"]);
  });
});

describe("parseYaml() errors", () => {
  const cases: [string, string, string][] = [
    ["a mis-indented sequence item key", "files:\n  - path: /a\n   contents: x\n", "did not find expected '-' indicator"],
    ["a mapping in a plain continuation", "a: b\n  c: d\n", "mapping values are not allowed in this context"],
    ["a mapping on the value line", "a: b: c\n", "mapping values are not allowed in this context"],
    ["an unterminated quoted scalar", "a: 'x\n", "found unexpected end of stream"],
    ["an unterminated flow sequence", "a: [1, 2\n", "did not find expected ',' or ']'"],
    ["a tab as indentation", "a:\n\t- x\n", "found character that cannot start any token"],
    ["an undefined alias", "a: *nope\n", "unknown anchor 'nope' referenced"],
    ["a sequence entry inside a mapping", "a: 1\n- b\n", "did not find expected key"],
    ["an unknown escape", 'a: "\\q"\n', "found unknown escape character"],
    ["a reserved indicator", "a: @x\n", "found character that cannot start any token"],
    ["content after the root collection", "- a\nb: 1\n", "did not find expected '-' indicator"],
    ["a control character", "a: \u0007\n", "control characters are not allowed"],
  ];
  for (const [what, text, problem] of cases) {
    test(`parseYaml() rejects ${what}`, () => {
      const r = parseYaml(text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.message).toStartWith("yaml: ");
        expect(r.error.message).toContain(problem);
      }
    });
  }

  test("parseYaml() gives go-yaml's message and the line and column where reading stopped", () => {
    const r = parseYaml("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n     mode: 1\n");
    expect(r.ok ? null : r.error).toEqual({ message: "yaml: line 4: did not find expected '-' indicator", line: 6, col: 6 });
  });

  const goYamlDepartures: [string, string, string | null][] = [
    ["a tab after a sequence dash", "-\tx\n", "yaml: found character that cannot start any token"],
    ["an escaped slash", 'a: "\\/"\n', "yaml: found unknown escape character"],
    ["a %YAML 1.2 header", "%YAML 1.2\n---\na: 1\n", "yaml: found incompatible YAML document"],
    ["a comment right after a block scalar indicator", "a: |#c\n  x\n", null],
    ["an escaped apostrophe", "a: \"it\\'s\"\n", null],
    ["a simple key longer than 1024 characters", `${"k".repeat(1025)}: v\n`, "yaml: mapping values are not allowed in this context"],
  ];
  for (const [what, text, message] of goYamlDepartures) {
    test(`parseYaml() reads ${what} as go-yaml does`, () => {
      const r = parseYaml(text);
      expect(r.ok ? null : r.error.message).toBe(message);
    });
  }

  test("parseYaml() reports a mis-indented collection on go-yaml's line", () => {
    const r = parseYaml("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/a\n     contents: [\n");
    expect(r.ok ? "" : r.error.message).toBe("yaml: line 4: did not find expected '-' indicator");
  });
});

describe("parseYaml() against Bun's YAML parser", () => {
  // Documents whose plain scalars type the same in YAML 1.1 and 1.2, built from fragments.
  const values = ["plain", "'single ''q'''", '"dq \\t"', "[a, {b: c}]", "{}", "|\n    lit\n    eral\n", ">-\n    fo\n    ld\n", "~", "12", "-3.5"];
  const docs: string[] = [];
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < values.length; j++) {
      // Block scalars need content indented past their mapping, so the nested pair gets a flow value.
      const nested = values[(i + j) % values.length]!;
      const inner = nested.startsWith("|") || nested.startsWith(">") ? "[inner]" : nested;
      docs.push(`k${i}: ${values[i]}\nseq:\n  - ${values[j]}\n  - n: ${inner}\n    m: x\nlast: ${values[j]}\n`);
    }
  }
  test("parseYaml() builds the same values as Bun.YAML for generated documents", () => {
    for (const doc of docs) expect({ doc, v: parse(doc) }).toEqual({ doc, v: Bun.YAML.parse(doc) });
  });
});
