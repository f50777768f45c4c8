import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../test/cli/run_cli.ts";
import { formatPlan } from "./plan.ts";

let dir: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nexus-plan-"));
  root = join(dir, "root");
  mkdirSync(root);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value));
  return p;
};

describe("nexus-init plan", () => {
  test("plan prints what apply would do and touches nothing", async () => {
    writeFileSync(join(root, "existing"), "old");
    const cfg = file("c.ign", {
      ignition: { version: "3.6.0" },
      storage: {
        files: [
          { path: "/existing", append: [{ source: "data:,more" }] },
          { path: "/new", contents: { source: "data:,x" }, mode: 0o600, user: { name: "core" } },
        ],
        directories: [{ path: "/srv/data", mode: 0o750 }],
        links: [{ path: "/srv/link", target: "/new" }],
      },
      systemd: { units: [{ name: "a.service", mask: true }, { name: "b.service", dropins: [{ name: "x.conf", contents: "[Unit]\n" }] }] },
    });
    const r = await runCli(["plan", "--root", root, cfg]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "files  append        /existing  (file: 1 append, mode kept, owner kept:kept)",
        "files  create        /new  (file: mode 0600, owner core:root)",
        "files  create        /srv/data  (directory: mode 0750, owner root:root)",
        "files  create        /srv/link  (link: symlink to /new, owner root:root)",
        "files  mask          /etc/systemd/system/a.service  (symlink to /dev/null)",
        "files  write-dropin  /etc/systemd/system/b.service.d/x.conf  (drop-in x.conf of b.service, mode 0644)",
        "",
      ].join("\n"),
    );
    expect(readdirSync(root)).toEqual(["existing"]);
  });

  test("plan --json exits 1 when a step would fail", async () => {
    writeFileSync(join(root, "f"), "x");
    const cfg = file("c.ign", { ignition: { version: "3.0.0" }, storage: { directories: [{ path: "/f" }] } });
    const r = await runCli(["plan", "--root", root, "--json", cfg]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.plan).toEqual([{ stage: "files", action: "fail", target: "/f", detail: "directory: a file exists there and overwrite is false, mode 0755, owner root:root" }]);
  });

  test("plan exits 1 on an invalid config", async () => {
    const r = await runCli(["plan", "--root", root, file("bad.ign", "{")]);
    expect(r.code).toBe(1);
    expect(readdirSync(root)).toEqual([]);
  });

  test("formatPlan() says when there is nothing to do", () => {
    expect(formatPlan([])).toBe("Nothing to do.\n");
  });
});
