// The database role: a data disk (the machine's fourth virtio disk) with an xfs filesystem and
// its mount unit, a service account, and tighter journald limits forced over the base's.
import { directory, disk, dropin, file, filesystem, fragment, group, mkForce, service, user, type Spec } from "nexus";

export const db = <V extends Spec>() =>
  fragment<V>("db", [
    group("db", { gid: 1950, system: true }),
    user("db", { uid: 1950, primaryGroup: "db", homeDir: "/var/lib/db", noCreateHome: true, system: true }),
    disk("/dev/vdd", { wipeTable: true, partitions: [{ number: 1, label: "dbdata", sizeMiB: 0 }] }),
    filesystem("/dev/disk/by-partlabel/dbdata", { format: "xfs", label: "dbdata", path: "/var/lib/db", wipeFilesystem: true, withMountUnit: true }),
    directory("/var/lib/db", { mode: 0o700, user: "db", group: "db" }),
    file("/etc/motd", { contents: "Database server. Data: /var/lib/db\n", mode: 0o644 }),
    // The base sets 500M for every machine; the database keeps its disk for data.
    mkForce(dropin("systemd-journald.service", "10-size.conf", "[Journal]\nSystemMaxUse=100M\n")),
    service("db.service", {
      unit: { Description: "Database", RequiresMountsFor: "/var/lib/db" },
      service: { User: "db", ExecStart: "/usr/local/bin/db --data /var/lib/db" },
      install: { WantedBy: "multi-user.target" },
    }),
  ]);

export default db();
