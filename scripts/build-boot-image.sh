#!/bin/bash
# Makes a disk that boots on its own (BIOS firmware → GRUB → kernel + initramfs), as a NexusOS
# machine's disk does, from the base OS image: partition 2 "BIOS-BOOT" holds GRUB's core image
# and partition 3, an ext4 filesystem labelled "boot", holds the kernel, the initramfs and the
# boot entry. The entry's kernel arguments are `kernelopts` in GRUB's environment block
# /grub/grubenv (what the kargs stage edits); the stamp /nexus.firstboot makes GRUB pass
# nexus.firstboot, else nexus.firstboot=0 (the initramfs removes the stamp once provisioning
# succeeded). So a reboot really boots with what the entry says now.
# Needs no loop device or mount: mke2fs -d, sgdisk on the file, grub-mkimage (grub-pc-bin).
#
# Usage: scripts/build-boot-image.sh --base IMG --kernel VMLINUZ --initrd IMG --kernelopts "ARGS" --out IMG
set -euo pipefail

base="" kernel="" initrd="" kernelopts="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --kernelopts) kernelopts=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "Cannot parse argument \"$1\": unknown option" >&2; exit 2 ;;
  esac
done
for v in base kernel initrd out; do
  [ -n "${!v}" ] || { echo "Cannot build a boot image: --$v is required" >&2; exit 2; }
done
grubdir=/usr/lib/grub/i386-pc
[ -f "$grubdir/boot.img" ] || { echo "Cannot find GRUB's BIOS images in $grubdir: install grub-pc-bin" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nexus-boot-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
bios_boot_type=21686148-6449-6E6F-744E-656564454649
linux_fs_type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
boot_mib=192

cp --sparse=always "$base" "$out.tmp"
# After the base image's partitions: 1 MiB for GRUB's core image, then the boot filesystem.
sgdisk --new=2:0:+1MiB --typecode=2:"$bios_boot_type" --change-name=2:BIOS-BOOT \
  --new=3:0:+${boot_mib}MiB --typecode=3:"$linux_fs_type" --change-name=3:boot "$out.tmp" >/dev/null
boot_start=$(sgdisk --info=3 "$out.tmp" | awk '/^First sector:/ { print $3 }')

mkdir -p "$work/boot/grub"
cp "$kernel" "$work/boot/vmlinuz"
cp "$initrd" "$work/boot/initramfs.img"
: >"$work/boot/nexus.firstboot"
grub-editenv "$work/boot/grub/grubenv" create
grub-editenv "$work/boot/grub/grubenv" set "kernelopts=$kernelopts"
cat >"$work/boot/grub/grub.cfg" <<'EOF'
# NexusOS boot entry: kernel arguments from the environment block (kargs edits kernelopts);
# the first-boot stamp decides nexus.firstboot.
set timeout=0
load_env -f ($root)/grub/grubenv
if [ -f ($root)/nexus.firstboot ]; then
  set firstboot=nexus.firstboot
else
  set firstboot=nexus.firstboot=0
fi
echo "nexus-grub: booting with $kernelopts $firstboot"
linux ($root)/vmlinuz $kernelopts $firstboot
initrd ($root)/initramfs.img
boot
EOF
E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 -L boot -d "$work/boot" "$work/boot.ext4" ${boot_mib}M >/dev/null
dd if="$work/boot.ext4" of="$out.tmp" bs=512 seek="$boot_start" conv=notrunc,sparse status=none

# GRUB: a core image with the modules grub.cfg needs and its prefix on the boot filesystem,
# embedded in BIOS-BOOT; boot.img in the MBR's code area. This is what grub-bios-setup does
# (it insists on probing the host's disk for the directory it reads from, so it is done here):
# boot.img learns core.img's first sector (le64 at 0x5c) and loses its floppy drive check
# (the jump at 0x66 becomes two nops); core.img's first sector learns where its other sectors
# start (le64 at 500, the blocklist grub-mkimage filled with their count); no Reed-Solomon codes.
grub-mkimage -O i386-pc -d "$grubdir" -o "$work/core.img" -p "(hd0,gpt3)/grub" \
  biosdisk part_gpt ext2 normal configfile linux loadenv test echo
core_start=$(sgdisk --info=2 "$out.tmp" | awk '/^First sector:/ { print $3 }')
[ "$(stat -c %s "$work/core.img")" -le $((1024 * 1024)) ] || { echo "Cannot embed GRUB: core.img is larger than BIOS-BOOT" >&2; exit 1; }
python3 - "$grubdir/boot.img" "$work/core.img" "$out.tmp" "$core_start" <<'PY'
import struct, sys
boot_img, core_img, disk, lba = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
boot = bytearray(open(boot_img, "rb").read()[:440])
boot[0x5C:0x64] = struct.pack("<Q", lba)
boot[0x66:0x68] = b"\x90\x90"
core = bytearray(open(core_img, "rb").read())
core[500:508] = struct.pack("<Q", lba + 1)
with open(disk, "r+b") as f:
    f.seek(0); f.write(boot)  # the MBR's code area; its partition table stays
    f.seek(lba * 512); f.write(core)
PY
mv "$out.tmp" "$out"
echo "boot image: $out (GRUB on BIOS-BOOT, boot filesystem on partition 3)"
