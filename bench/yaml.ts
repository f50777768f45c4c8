// Benchmark: reading a ~1 MB Butane config with the YAML reader (src/butane/yaml.ts), in
// process: files with block-scalar contents, units, users. Run: bun run bench/yaml.ts
import { parseYaml } from "../src/butane/yaml.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** A fleet-like Butane config of n files and units (about 400 bytes each). */
export function makeBigButane(n: number): string {
  const out = ["variant: fcos", "version: 1.5.0", "passwd:", "  users:", "    - name: core", "      ssh_authorized_keys:", "        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB core@example", "storage:", "  files:"];
  for (let i = 0; i < n; i++) {
    out.push(
      `    - path: /etc/fleet/node-${Math.floor(i / 100)}/file-${i}.conf`,
      "      mode: 0644",
      "      overwrite: true",
      "      user: {name: root}",
      "      contents:",
      "        inline: |",
      `          # setting ${i}`,
      `          key-${i} = "value-${"x".repeat(40)}"`,
      "          other = 'quoted # not a comment'",
    );
  }
  out.push("systemd:", "  units:");
  for (let i = 0; i < n / 10; i++) {
    out.push(`    - name: fleet-${i}.service`, "      enabled: true", "      contents: |", "        [Service]", `        ExecStart=/usr/bin/echo ${i}`, "        [Install]", "        WantedBy=multi-user.target");
  }
  return out.join("\n") + "\n";
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (import.meta.main) {
  const text = makeBigButane(3400);
  const times: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const t0 = performance.now();
    const r = parseYaml(text);
    const ms = performance.now() - t0;
    if (!r.ok) throw new Error(r.error.message);
    if (i >= 2) times.push(ms);
  }
  console.log(`yaml ${(text.length / 1e6).toFixed(2)} MB Butane config, ${RUNS} runs (2 warm-up): parse median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
}
