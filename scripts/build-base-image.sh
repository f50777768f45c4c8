#!/bin/sh
# Builds the base OS disk image (Fedora CoreOS-style) that the boot scenarios and `make demo`
# provision: a sparse 1 GiB GPT disk whose partition 1 (label "root", 256 MiB) holds an ext4
# filesystem labelled "root" with the tiny test OS; the rest of the disk is left free.
# Needs no loop device or root-only trick: mke2fs -d fills the filesystem from a staged tree
# and sgdisk edits the image file directly.
set -eu
out=${1:-dist/base-os.img}
work=${2:-build/base-os}
here=$(cd "$(dirname "$0")/.." && pwd)

# Fixed identifiers keep the image reproducible; first boot is what makes a machine unique.
disk_guid=6e6578a5-0000-4000-8000-000000000001
part_guid=6e6578a5-0000-4000-8000-000000000002
fs_uuid=6e6578a5-0000-4000-8000-000000000003
linux_fs_type=0FC63DAF-8483-4772-8E79-3D69D8477DE4

rm -rf "$work"
mkdir -p "$work" "$(dirname "$out")"
"$here"/initramfs/stage-tinyos.sh "$work/root"

E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 -L root -U "$fs_uuid" \
  -E root_owner=0:0,hash_seed="$fs_uuid" -d "$work/root" "$work/root.ext4" 256M >/dev/null

rm -f "$out.tmp"
truncate -s 1G "$out.tmp"
sgdisk --clear --disk-guid="$disk_guid" \
  --new=1:1MiB:+256MiB --typecode=1:"$linux_fs_type" --change-name=1:root \
  --partition-guid=1:"$part_guid" "$out.tmp" >/dev/null
dd if="$work/root.ext4" of="$out.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
mv "$out.tmp" "$out"
rm -f "$work/root.ext4"
echo "base OS image: $out"
