#!/bin/bash
# Builds a dracut (systemd) initramfs with dracut-module/30nexus around dist/nexus-init for
# the downloaded Debian kernel, from a private copy of the host's dracut tree
# (dracutbasedir=) so nothing of the host's dracut setup is used or changed.
#
# Usage: scripts/build-dracut-initramfs.sh [--kernel DIR] [--binary FILE] [--out FILE]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
kernel=$repo/build/kernel
binary=$repo/dist/nexus-init
out=$repo/dist/initramfs-dracut.img
work=$repo/build/dracut
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "Cannot parse argument \"$1\": unknown option" >&2; exit 2 ;;
  esac
done
[ -f "$kernel/kver" ] || { echo "Cannot find kernel \"$kernel\": run make kernel" >&2; exit 1; }
[ -x "$binary" ] || { echo "Cannot find binary \"$binary\": run make build" >&2; exit 1; }
[ -d /usr/lib/dracut/modules.d ] || { echo "Cannot find dracut: install the dracut-core package" >&2; exit 1; }
kver=$(cat "$kernel/kver")
kernel=$(cd "$kernel" && pwd)
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

. "$repo/scripts/lib/dracut.sh"
private_dracut_tree "$work"
# Only our module may provision: drop any other first-boot module the host's dracut ships.
rm -rf "$work/tree/modules.d/"*ignition*
cp -a "$repo/dracut-module/30nexus" "$work/tree/modules.d/30nexus"
cp "$repo/initramfs/clevis.list" "$repo/initramfs/clevis-pwquality.conf" "$work/tree/modules.d/30nexus/"
chmod 0755 "$work/tree/modules.d/30nexus/"*.sh "$work/tree/modules.d/30nexus/nexus-generator"

# Exactly our module and its dependencies; only our settings.
NEXUS_INIT_BINARY="$binary" run_private_dracut "$work" "$kernel" "$out" "nexus" "$repo/dracut-module/dracut.conf.d"
echo "dracut initramfs: $out $(du -h --apparent-size "$out" | cut -f1) (kernel $kver)"
