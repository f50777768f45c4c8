#!/bin/sh
# Fetch the current Debian cloud kernel into a build directory without installing it:
# `apt-get download` of the linux-image-*-cloud-amd64 package the metapackage points at,
# `dpkg -x` into DIR/root, `depmod -b` so modules.dep exists, and two small files the
# initramfs builders read: DIR/kver (kernel release) and DIR/vmlinuz (the kernel image).
set -eu
dir=${1:-build/kernel}
meta=${NEXUS_KERNEL_META:-linux-image-cloud-amd64}

resolve() {
  apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
pkg=$(resolve)
if [ -z "$pkg" ]; then
  # A fresh machine may have no package lists yet.
  apt-get update -qq
  pkg=$(resolve)
fi
[ -n "$pkg" ] || { echo "Cannot resolve kernel package \"$meta\": apt-cache knows no linux-image dependency" >&2; exit 1; }

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/deb"
# apt-get download runs as _apt where it can; a world-writable download dir avoids its warning.
chmod 0777 "$dir.tmp/deb"
(cd "$dir.tmp/deb" && apt-get download -q "$pkg" >/dev/null)
dpkg -x "$dir.tmp"/deb/*.deb "$dir.tmp/root"
rm -rf "$dir.tmp/deb"

kver=$(ls "$dir.tmp/root/boot" | sed -n 's/^vmlinuz-//p' | head -n1)
[ -n "$kver" ] || { echo "Cannot find vmlinuz in package \"$pkg\": unexpected layout" >&2; exit 1; }
# Debian 12 ships modules under /lib/modules, later releases under /usr/lib/modules.
for d in lib/modules usr/lib/modules; do
  [ -d "$dir.tmp/root/$d/$kver" ] && moddir="$d/$kver"
done
[ -n "${moddir:-}" ] || { echo "Cannot find modules of kernel \"$kver\" in package \"$pkg\"" >&2; exit 1; }
[ "$moddir" = "lib/modules/$kver" ] || { mkdir -p "$dir.tmp/root/lib/modules"; ln -s "../../$moddir" "$dir.tmp/root/lib/modules/$kver"; }
depmod -b "$dir.tmp/root" "$kver"

echo "$kver" > "$dir.tmp/kver"
echo "$pkg" > "$dir.tmp/package"
ln -s "root/boot/vmlinuz-$kver" "$dir.tmp/vmlinuz"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "kernel $kver ($pkg) unpacked in $dir"
