import { expect, test } from "bun:test";
import { COMMANDS } from "./index.ts";

test("every registered command loads a module whose summary matches the registry", async () => {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const mod = await entry.load();
    expect(typeof mod.main, name).toBe("function");
    expect(mod.summary, name).toBe(entry.summary);
  }
});
