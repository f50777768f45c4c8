#!/bin/bash
# Builds the peer of the boot benchmark: a dracut (systemd) initramfs running Debian's
# Ignition 2.14 (package "ignition", its dracut module 30ignition as shipped) for the
# downloaded Debian kernel, from a private copy of the host's dracut tree (scripts/lib/dracut.sh).
# Besides Ignition's module and what it depends on, only bench/dracut/99bench-timing (prints
# the stage units' timings on the console) and the same compression as the nexus dracut image.
#
# Usage: scripts/build-ignition-initramfs.sh [--kernel DIR] [--out FILE]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kernel=$repo/build/kernel
out=$repo/dist/initramfs-ignition.img
work=$repo/build/dracut-ignition
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "Cannot parse argument \"$1\": unknown option" >&2; exit 2 ;;
  esac
done
[ -f "$kernel/kver" ] || { echo "Cannot find kernel \"$kernel\": run make kernel" >&2; exit 1; }
module=/usr/lib/dracut/modules.d/30ignition
[ -x "$module/ignition" ] || { echo "Cannot find Ignition's dracut module \"$module\": install the ignition package" >&2; exit 1; }
[ -d /usr/lib/dracut/modules.d/40network ] || { echo "Cannot find dracut's network module (Ignition depends on it): install dracut-network" >&2; exit 1; }
kver=$(cat "$kernel/kver")
kernel=$(cd "$kernel" && pwd)

. "$repo/scripts/lib/dracut.sh"
private_dracut_tree "$work"
cp -a "$repo/bench/dracut/99bench-timing" "$work/tree/modules.d/99bench-timing"

# Ignition's module (and its dependencies: qemu, systemd, url-lib, network), the systemd
# initrd around it (the same base modules as dracut-module/30nexus depends on: a bash for
# Ignition's generator, initrd.target, the root= mount), dracut's generic kernel-modules (the
# filesystem drivers Ignition's mkfs calls need: its module installs no kernel module itself)
# and the timing printer; no host settings (bench/dracut/conf.d is empty).
run_private_dracut "$work" "$kernel" "$out" \
  "bash systemd-initrd dracut-systemd udev-rules rootfs-block fs-lib kernel-modules ignition bench-timing" \
  "$repo/bench/dracut/conf.d"
echo "ignition initramfs: $out $(du -h --apparent-size "$out" | cut -f1) (Ignition $(dpkg-query -W -f='${Version}' ignition), kernel $kver)"
