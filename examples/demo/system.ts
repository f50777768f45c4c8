// The demo machine (`make demo`): the base image's disk gets an xfs /var in its free space,
// files, accounts and units. `make build` compiles it to dist/demo.ign with
// `nexus provision examples/demo/system.ts`; examples/demo.bu is the same machine in Butane.
import { directory, disk, file, filesystem, group, link, read, service, system, unit, user } from "nexus";

const LINUX_FILESYSTEM = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

export default system({ spec: "3.4.0" }, [
  // The base image's disk: keep partition 1 (root), add /var in the free space.
  disk("/dev/vda", {
    partitions: [{ number: 2, label: "var", startMiB: 0, sizeMiB: 0, typeGuid: LINUX_FILESYSTEM }],
  }),
  filesystem("/dev/disk/by-partlabel/var", { format: "xfs", path: "/var", label: "var", wipeFilesystem: true, withMountUnit: true }),

  directory("/etc/demo", { mode: 0o755 }),
  directory("/var/lib/demo", { mode: 0o755 }),
  file("/etc/hostname", { contents: "demo-node\n", mode: 0o644, overwrite: true }),
  file("/etc/motd", { contents: "Welcome to demo-node, provisioned by nexus-init.\n", mode: 0o644 }),
  file("/etc/demo/app.conf", { contents: read("./app.conf"), mode: 0o640, user: "core", group: "app" }),
  file("/etc/profile.d/demo.sh", { append: ["export DEMO_NODE=1\n"], mode: 0o644 }),
  file("/var/lib/demo/first-boot.txt", { contents: "This file lives on the new xfs /var partition.\n", mode: 0o644 }),
  link("/etc/demo/current.conf", { target: "/etc/demo/app.conf" }),

  group("app", { gid: 2000 }),
  user("core", {
    groups: ["wheel", "sudo"],
    sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRlbW8ta2V5LW5vdC1mb3ItcmVhbC11c2Utbm9wZQ core@demo"],
  }),
  user("deploy", { uid: 1500, homeDir: "/home/deploy", shell: "/bin/sh", primaryGroup: "app" }),

  service("demo.service", {
    unit: { Description: "Demo first-boot service", RequiresMountsFor: "/var/lib/demo" },
    service: { Type: "oneshot", ExecStart: "/bin/cat /var/lib/demo/first-boot.txt" },
    install: { WantedBy: "multi-user.target" },
  }),
  unit("systemd-journald.service", { dropins: [{ name: "10-demo.conf", contents: "[Service]\nEnvironment=DEMO_NODE=1\n" }] }),
  unit("debug-shell.service", { mask: true }),
]);
