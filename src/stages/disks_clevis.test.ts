// The disks stage's clevis checks against a real loop device and the real clevis, jose and tang
// tools (needs root): a binding that cannot be made (no TPM, a thumbprint the advertisement's
// keys do not have, an unreachable tang server, cex off s390x) fails naming the volume and the
// pin, and the device keeps the filesystem it had — nothing was written to it. Binding and
// unlocking for real (dm-crypt, a TPM) happen in the test VM: test/qemu/clevis.qemu.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/index.ts";
import type { StageContext } from "../executor/stage.ts";
import { emptyState } from "../executor/state.ts";
import { Logger } from "../log/logger.ts";
import { createFetcher } from "../resource/index.ts";
import { realSystem, spawnCollect } from "../system/real.ts";
import { disksStage } from "./disks.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-disks-clevis-"));
const loops: string[] = [];
afterAll(async () => {
  for (const l of loops) await spawnCollect(["losetup", "--detach", l]);
  rmSync(work, { recursive: true, force: true });
});

/** A loop device holding an ext4 filesystem labelled "keep". */
async function ext4Loop(): Promise<string> {
  const image = join(work, `disk-${loops.length}.img`);
  writeFileSync(image, "");
  expect((await spawnCollect(["truncate", "--size", "32M", image])).code).toBe(0);
  expect((await spawnCollect(["mkfs.ext4", "-q", "-L", "keep", image])).code).toBe(0);
  const r = await spawnCollect(["losetup", "--find", "--show", image]);
  expect(r.code, r.stderr).toBe(0);
  loops.push(r.stdout.trim());
  return r.stdout.trim();
}

async function runDisks(luks: object, env: Record<string, string> = {}): Promise<{ error: string; lines: string[] }> {
  const r = parseConfig(JSON.stringify({ ignition: { version: "3.5.0" }, storage: { luks: [luks] } }));
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
  const lines: string[] = [];
  const ctx: StageContext = {
    config: r.config,
    root: work,
    system: { ...realSystem(), env: { ...process.env, NEXUS_DEVICE_TIMEOUT_MS: "5000", ...env } },
    log: new Logger((l) => lines.push(l)),
    fetcher: createFetcher({ offline: true }),
    platform: "file",
    state: emptyState(),
  };
  try {
    await disksStage.run(ctx);
    return { error: "", lines };
  } catch (e) {
    return { error: (e as Error).message, lines };
  }
}

async function labelOf(device: string): Promise<string> {
  return (await spawnCollect(["blkid", "-p", "-o", "value", "-s", "LABEL", device])).stdout.trim();
}

describe("disks stage: clevis bindings that cannot be made", () => {
  test("`disksStage` refuses a tpm2 binding without a TPM device, before touching the volume", async () => {
    const dev = await ext4Loop();
    const r = await runDisks({ name: "data", device: dev, wipeVolume: true, clevis: { tpm2: true } }, { NEXUS_PATH_TPM_DEVICE: join(work, "no-tpmrm0") });
    expect(r.error).toContain(`Cannot bind LUKS volume "data" with the tpm2 pin: there is no TPM 2.0 device "${join(work, "no-tpmrm0")}"`);
    expect(await labelOf(dev)).toBe("keep");
  }, 30_000);

  test("`disksStage` refuses a tang thumbprint that did not sign the advertisement, before touching the volume", async () => {
    const dev = await ext4Loop();
    // A tang key set and its advertisement, made by tangd-keygen and tangd itself.
    const dir = join(work, "tang");
    mkdirSync(dir);
    const keygen = await spawnCollect(["/usr/libexec/tangd-keygen", dir]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const reply = await spawnCollect(["/usr/libexec/tangd", dir], { stdin: "GET /adv HTTP/1.1\r\nHost: t\r\n\r\n" });
    const adv = reply.stdout.slice(reply.stdout.indexOf("\r\n\r\n") + 4).trim();
    const signing = readdirSync(dir).find((f) => readFileSync(join(dir, f), "utf8").includes('"verify"'))!.replace(/\.jwk$/, "");
    const tang = { url: "http://127.0.0.1:9", advertisement: adv };
    const bad = await runDisks({ name: "vault", device: dev, wipeVolume: true, clevis: { tang: [{ ...tang, thumbprint: "not-a-key-thumbprint" }] } });
    expect(bad.error).toContain('Cannot bind LUKS volume "vault" with the tang pin "http://127.0.0.1:9"');
    expect(bad.error).toContain("Trusted JWK 'not-a-key-thumbprint' did not sign the advertisement");
    expect(await labelOf(dev)).toBe("keep");
    // The right thumbprint passes the check (it then fails at luksFormat here: no dm-crypt on
    // a host kernel without device-mapper, or goes on when there is one).
    const good = await runDisks({ name: "vault", device: dev, wipeVolume: true, clevis: { tang: [{ ...tang, thumbprint: signing }] } });
    expect(good.error).not.toContain("tang pin");
  }, 60_000);

  test("`disksStage` refuses an unreachable tang server, before touching the volume", async () => {
    const dev = await ext4Loop();
    const r = await runDisks({ name: "net", device: dev, wipeVolume: true, clevis: { tang: [{ url: "http://127.0.0.1:9", thumbprint: "T" }] } });
    expect(r.error).toContain('Cannot bind LUKS volume "net" with the tang pin "http://127.0.0.1:9": the tang server is unreachable');
    expect(await labelOf(dev)).toBe("keep");
  }, 30_000);

  test("`disksStage` refuses cex on this architecture, before touching the volume", async () => {
    const dev = await ext4Loop();
    const r = await runDisks({ name: "z", device: dev, wipeVolume: true, cex: { enabled: true } });
    expect(r.error).toContain('Cannot create LUKS volume "z" with cex: IBM Crypto Express secure keys (zkey) exist only on s390x');
    expect(await labelOf(dev)).toBe("keep");
  }, 30_000);
});
