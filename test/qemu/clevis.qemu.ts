// LUKS volumes bound with clevis at first boot, against real parts: a TPM 2.0 from swtpm (QEMU's
// tpm-crb device, the guest's /dev/tpmrm0) and two tang servers on the host (tangd, reached from
// the guest through slirp at 10.0.2.2). One test-VM boot provisions five volumes on five disks,
// each with `nexus-init run` as the initramfs runs it (fetch-offline flags the network for tang
// without an advertisement, and nexus-net-up brings it up before fetch):
//   vda "tpm"      tpm2 only
//   vdb "tang"     tang, online (the advertisement fetched at bind time)
//   vdc "tangadv"  tang with the advertisement in the config, its server down while binding
//   vdd "both"     threshold 2 over tang + tpm2
//   vde "root"     a Butane fcos boot_device with luks {tpm2, tang}, translated, then applied
// Then in the guest every volume is closed and opened again with `clevis luks unlock` (tangadv
// after the host started its server, on the guest's request over the console). On the host
// afterwards, the disk images themselves: each clevis slot decrypts (`clevis luks pass`, whose
// passphrase cryptsetup accepts) with the same TPM state and tang server, and the tpm2 and
// threshold volumes do not with a fresh TPM or with tang stopped. A second boot of the same disks
// with the same TPM state opens all five with clevis alone.
// Run: bun test ./test/qemu/clevis.qemu.ts  (builds dist/ and the initramfs first when stale)
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTestVmArtifacts } from "../conformance/disk_builder.ts";
import { ARTIFACTS, REPO } from "./paths.ts";
import { startSwtpmForHost } from "./swtpm.ts";
import { startTang, type TangServer } from "./tang.ts";
import { runTestVm } from "./test_vm.ts";

const work = mkdtempSync(join(tmpdir(), "nexus-clevis-vm-"));
const tangs: TangServer[] = [];
afterAll(() => {
  for (const t of tangs) t.stop();
  rmSync(work, { recursive: true, force: true });
});

async function collect(argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const p = Bun.spawn(argv, {
    stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, stdout, stderr };
}

/**
 * Whether the clevis binding of a LUKS image decrypts with the TPM state in tpmDir (a swtpm on
 * the host, as tpm2-tools' TCTI) and whatever tang servers are up: the slot's passphrase from
 * `clevis luks pass`, checked by cryptsetup against the image's key slots.
 */
async function opensOnHost(image: string, tpmDir: string): Promise<{ ok: boolean; why: string }> {
  // The binding names the guest's address of each tang server (10.0.2.2:PORT); clevis's curl
  // reads this curlrc and connects to the same port on the host's loopback instead.
  const curlrc = tangs.map((t) => `connect-to = "10.0.2.2:${t.port}:127.0.0.1:${t.port}"\n`).join("");
  writeFileSync(join(work, ".curlrc"), curlrc);
  const list = await collect(["clevis", "luks", "list", "-d", image]);
  const slot = /^(\d+):/m.exec(list.stdout)?.[1];
  if (!slot) return { ok: false, why: `no clevis slot: ${list.stdout}${list.stderr}` };
  const tpm = await startSwtpmForHost(tpmDir);
  try {
    const pass = await collect(["clevis", "luks", "pass", "-d", image, "-s", slot], { env: { TPM2TOOLS_TCTI: tpm.tcti!, CURL_HOME: work } });
    if (pass.code !== 0) return { ok: false, why: `clevis luks pass: ${pass.stderr.trim()}` };
    const test = await collect(["cryptsetup", "open", "--test-passphrase", "--key-file", "-", image], { stdin: pass.stdout });
    return { ok: test.code === 0, why: test.stderr.trim() };
  } finally {
    await tpm.stop();
  }
}

/** A result file of a test-VM run, or "" when the guest wrote none. */
function resultsOf(vm: { readResult(name: string): string }): (name: string) => string {
  return (name) => {
    try {
      return vm.readResult(name);
    } catch {
      return "";
    }
  };
}

const script = (tang2: TangServer) => `
set -u
R=$NEXUS_RESULTS
export NEXUS_PATH_CMDLINE=/nexus-test/empty NEXUS_DEVICE_TIMEOUT_MS=60000
# The boot disk of the Butane config: boot_device encrypts the partition labelled "root".
sgdisk --new=1:0:0 --change-name=1:root /dev/vde > /dev/null && udevadm settle
prov() { # prov CONFIG: the stages as the initramfs runs them, the target root a plain directory
  local run=/run/nx-$1 root=/mnt/$1
  mkdir -p $root
  NEXUS_PATH_RUN_DIR=$run IGNITION_CONFIG_FILE=/nexus-test/$1 nexus-init run --stage fetch-offline,fetch,disks --platform file --root $root >> $R/$1.log 2>&1 &&
    NEXUS_PATH_RUN_DIR=$run IGNITION_CONFIG_FILE=/nexus-test/$1 nexus-init run --stage files --platform file --root $root >> $R/$1.log 2>&1 &&
    echo ok > $R/$1.ok
  cp $root/etc/crypttab $R/$1.crypttab 2>/dev/null
}
prov volumes.ign
prov root.ign
ip -4 -o addr > $R/net 2>&1
for d in vda vdb vdc vdd vde1; do cryptsetup luksDump /dev/$d > $R/dump-$d 2>&1; done
blkid -p -o export /dev/mapper/root > $R/root.env 2>&1
for n in tpm tang tangadv both root; do cryptsetup close $n 2>> $R/close.log; done
unlock() { # unlock NAME DEVICE
  if clevis luks unlock -d $2 -n $1 >> $R/unlock.log 2>&1; then echo ok > $R/unlock-$1; fi
  blkid -p -o export /dev/mapper/$1 > $R/unlocked-$1.env 2>&1
  cryptsetup close $1 2>> $R/close.log
}
unlock tpm /dev/vda
unlock tang /dev/vdb
unlock both /dev/vdd
unlock root /dev/vde1
# tangadv was bound while its server was down; ask the host to start it, then unlock.
if clevis luks unlock -d /dev/vdc -n tangadv >> $R/unlock-tangadv-down.log 2>&1; then echo opened > $R/tangadv-while-down; fi
echo "nexus-clevis-test: start tang2"
for i in $(seq 1 120); do curl -sf -o /dev/null ${tang2.guestUrl}/adv && break; sleep 0.5; done
unlock tangadv /dev/vdc
exit 0
`;

describe("clevis in the test VM, with swtpm and tang", () => {
  test("`disksStage` binds tpm2, tang (online and offline), threshold and Butane boot_device volumes that really unlock", async () => {
    await ensureTestVmArtifacts();
    const tang1 = startTang(join(work, "tang1"));
    const tang2 = startTang(join(work, "tang2"));
    tangs.push(tang1, tang2);
    tang2.stop(); // down while binding: its advertisement is in the config
    const tpmDir = join(work, "tpm");
    // Both boots: the TPM state in tpmDir (QEMU's tpm-crb), slirp networking to the tang servers.
    const attached = (name: string) => ({
      tpm: { stateDir: tpmDir, model: "tpm-crb" as const },
      net: { mode: "user" as const },
      workDir: join(work, name),
      serialLog: join(REPO, `build/test-qemu/${name}.log`),
    });
    const t1 = { url: tang1.guestUrl, thumbprint: tang1.thumbprint };
    // The generated key's slot (removed after binding) without argon2, whose memory-hard
    // derivation takes half a minute a slot under TCG; clevis's own slot is PBKDF2 anyway. The
    // Butane volume keeps cryptsetup's defaults (boot_device has no options).
    const quick = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"];
    const volumes = {
      ignition: { version: "3.5.0" },
      storage: {
        luks: [
          { name: "tpm", device: "/dev/vda", wipeVolume: true, options: quick, clevis: { tpm2: true } },
          { name: "tang", device: "/dev/vdb", wipeVolume: true, options: quick, clevis: { tang: [t1] } },
          { name: "tangadv", device: "/dev/vdc", wipeVolume: true, options: quick, clevis: { tang: [{ url: tang2.guestUrl, thumbprint: tang2.thumbprint, advertisement: tang2.advertisement }] } },
          { name: "both", device: "/dev/vdd", wipeVolume: true, discard: true, options: quick, clevis: { tang: [t1], tpm2: true, threshold: 2 } },
        ],
      },
    };
    const butane = `variant: fcos\nversion: 1.5.0\nboot_device:\n  luks:\n    tpm2: true\n    tang:\n      - url: ${tang1.guestUrl}\n        thumbprint: ${tang1.thumbprint}\n`;
    const translated = await collect([ARTIFACTS.binary, "translate", "--from-butane", "-"], { stdin: butane });
    expect(translated.code, translated.stderr).toBe(0);

    const vm = await runTestVm({
      script: script(tang2),
      files: { "volumes.ign": JSON.stringify(volumes), "root.ign": translated.stdout, empty: "" },
      disks: [{ sizeMiB: 64 }, { sizeMiB: 64 }, { sizeMiB: 64 }, { sizeMiB: 64 }, { sizeMiB: 600 }],
      memMiB: 2048,
      timeoutMs: 900_000,
      ...attached("clevis"),
      onLine: (line) => {
        if (line.includes("nexus-clevis-test: start tang2")) tang2.start();
      },
    });
    const read = resultsOf(vm);
    try {
      const logs = `${read("volumes.ign.log")}\n${read("root.ign.log")}`;
      expect(read("volumes.ign.ok").trim(), logs).toBe("ok");
      expect(read("root.ign.ok").trim(), logs).toBe("ok");
      // Tang without an advertisement: fetch-offline flagged the network, nexus-net-up brought it up.
      expect(logs).toContain("[finished] bringing up the network");
      expect(read("net")).toContain("10.0.2.");
      // The generated key's slot is gone: one slot left, clevis's (a LUKS2 token names it).
      for (const d of ["vda", "vdb", "vdc", "vdd", "vde1"]) {
        const dump = read(`dump-${d}`);
        expect(dump.match(/^\s+\d+: luks2$/gm)?.length, `${d}\n${dump}`).toBe(1);
        expect(dump, d).toContain("clevis");
      }
      expect(read("dump-vdd")).toContain("allow-discards");
      // crypttab as upstream writes it.
      const uuid = (d: string) => /^UUID:\s+(\S+)/m.exec(read(`dump-${d}`))?.[1];
      expect(read("volumes.ign.crypttab")).toBe(
        `tpm UUID=${uuid("vda")} none luks,x-initrd.attach\n` +
          `tang UUID=${uuid("vdb")} none luks,_netdev,x-initrd.attach\n` +
          `tangadv UUID=${uuid("vdc")} none luks,_netdev,x-initrd.attach\n` +
          `both UUID=${uuid("vdd")} none luks,_netdev,x-initrd.attach\n`,
      );
      expect(read("root.ign.crypttab")).toBe(`root UUID=${uuid("vde1")} none luks,_netdev,x-initrd.attach\n`);
      expect(read("root.env")).toContain("TYPE=xfs");
      // Each volume opens again with clevis luks unlock in the guest.
      for (const n of ["tpm", "tang", "both", "root", "tangadv"]) expect(read(`unlock-${n}`).trim(), `${n}: ${read("unlock.log")}`).toBe("ok");
      expect(read("unlocked-root.env")).toContain("TYPE=xfs");
      expect(read("tangadv-while-down"), "tangadv opened while its tang server was down").toBe("");
      expect(tang2.requests.some((p) => p.startsWith("/rec/"))).toBe(true);

      // On the host, from the disk images: the same TPM state and tang servers open them ...
      const [vda, vdb, , vdd] = vm.disks;
      const fresh = join(work, "tpm-fresh");
      expect(await opensOnHost(vda!, tpmDir)).toMatchObject({ ok: true });
      expect(await opensOnHost(vdd!, tpmDir)).toMatchObject({ ok: true });
      // ... a fresh TPM does not (tpm2 alone, and threshold 2 with tang up) ...
      expect((await opensOnHost(vda!, fresh)).ok).toBe(false);
      expect((await opensOnHost(vdd!, fresh)).ok).toBe(false);
      // ... nor does the threshold volume, nor the tang one, with tang stopped.
      tang1.stop();
      expect((await opensOnHost(vdd!, tpmDir)).ok).toBe(false);
      expect((await opensOnHost(vdb!, tpmDir)).ok).toBe(false);
      tang1.start();
      expect(await opensOnHost(vdb!, tpmDir)).toMatchObject({ ok: true });

      // A second boot of the provisioned disks with the same TPM state (a new swtpm process) and
      // tang servers: every volume opens with clevis alone; no key or passphrase is left.
      const second = await runTestVm({
        script: `set -u
nexus-net-up >> $NEXUS_RESULTS/unlock.log 2>&1
for v in tpm:vda tang:vdb tangadv:vdc both:vdd root:vde1; do
  n=\${v%%:*} d=/dev/\${v#*:}
  clevis luks unlock -d $d -n $n >> $NEXUS_RESULTS/unlock.log 2>&1 && echo ok > $NEXUS_RESULTS/unlock-$n
done
blkid -p -o export /dev/mapper/root > $NEXUS_RESULTS/root.env 2>&1
exit 0
`,
        disks: vm.disks.slice(0, 5).map((image) => ({ image })),
        memMiB: 1024,
        timeoutMs: 600_000,
        ...attached("clevis-second-boot"),
      });
      try {
        const read2 = resultsOf(second);
        for (const n of ["tpm", "tang", "tangadv", "both", "root"]) expect(read2(`unlock-${n}`).trim(), `second boot, ${n}: ${read2("unlock.log")}`).toBe("ok");
        expect(read2("root.env")).toContain("TYPE=xfs");
        console.log(`clevis second boot (unlock all five): ${(second.vm.durationMs / 1000).toFixed(0)} s`);
      } finally {
        second.cleanup();
      }

      // How long each binding took under TCG (the op's own timing).
      for (const m of logs.matchAll(/\[finished\] binding LUKS volume "([^"]+)" with clevis: (.*) \(([\d.]+) ms\)/g)) {
        console.log(`clevis binding "${m[1]}" (${m[2]}): ${(Number(m[3]) / 1000).toFixed(1)} s under TCG`);
      }
      console.log(`clevis test VM boot: ${(vm.vm.durationMs / 1000).toFixed(0)} s`);
    } finally {
      vm.cleanup();
    }
  }, 1_200_000);
});
