#!/bin/bash
# Builds the nexus-init LiveCD initramfs: a merged-/usr tree with busybox, dist/nexus-init
# (copied byte for byte: stripping a Bun binary destroys it), the programs the stages call
# with their ldd-resolved libraries, systemd-udevd and the storage rules, the kernel modules
# of the downloaded Debian kernel, and the tiny OS for LiveCD boots; packed as a newc cpio
# (kept beside the staging tree for bench/initramfs.ts) and compressed with COMPRESS (see
# initramfs/README.md for how it was chosen). Prints the image's size. Also packs the test
# VM's extra tools (test-tools.list) as a second archive, by default beside the image as
# initramfs-test-tools.img.
#
# Usage: initramfs/build.sh [--kernel DIR] [--binary FILE] [--out FILE] [--staging DIR]
#                           [--compress "CMD"] [--level N (zstd -N)] [--test-tools-out FILE]
# COMPRESS (default $NEXUS_INITRAMFS_COMPRESS, else DEFAULT_COMPRESS) reads the archive on
# standard input and writes a format the kernel unpacks on standard output.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
kernel=$repo/build/kernel
binary=$repo/dist/nexus-init
out=$repo/dist/initramfs.img
stage=$repo/build/initramfs/root
DEFAULT_COMPRESS="zstd -q -T0 -19"
compress=${NEXUS_INITRAMFS_COMPRESS:-$DEFAULT_COMPRESS}
# The older knob, still honoured: a zstd level.
[ -z "${NEXUS_INITRAMFS_ZSTD_LEVEL:-}" ] || compress="zstd -q -T0 -$NEXUS_INITRAMFS_ZSTD_LEVEL"
bun=$repo/node_modules/.bin/bun

while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --staging) stage=$2; shift 2 ;;
    --compress) compress=$2; shift 2 ;;
    --test-tools-out) test_tools_out=$2; shift 2 ;;
    --level) compress="zstd -q -T0 -$2"; shift 2 ;;
    *) echo "Cannot parse argument \"$1\": unknown option" >&2; exit 2 ;;
  esac
done

die() { echo "initramfs: $*" >&2; exit 1; }
[ -f "$kernel/kver" ] || die "Cannot find kernel \"$kernel\": run scripts/fetch-kernel.sh (make kernel)"
[ -x "$binary" ] || die "Cannot find binary \"$binary\": run make build"
kver=$(cat "$kernel/kver")
kernel=$(cd "$kernel" && pwd)
test_tools_out=${test_tools_out:-$(dirname "$out")/initramfs-test-tools.img}
kroot=$kernel/root

# Copies a host file to the same path in TREE (default: the initramfs tree; symlinks
# dereferenced), and for a dynamic ELF every library ldd resolves (ldd already lists the
# transitive closure). What the initramfs tree has already is never copied again.
copy_file() {
  local src=$1 tree=${2:-$stage}
  local dest=$tree$1
  [ -e "$dest" ] || [ -e "$stage$1" ] && return 0
  mkdir -p "$(dirname "$dest")"
  cp -L --preserve=mode "$src" "$dest"
  if [ "$(head -c 4 "$src" | tr -d '\0')" = $'\x7fELF' ]; then
    local lib
    for lib in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
      copy_file "$lib" "$tree"
    done
  fi
}

# A merged-/usr skeleton: /bin, /sbin, /lib, /lib64 link into /usr.
usr_links() {
  mkdir -p "$1"/usr/bin "$1"/usr/sbin "$1"/usr/lib "$1"/usr/lib64
  ln -s usr/bin "$1"/bin
  ln -s usr/sbin "$1"/sbin
  ln -s usr/lib "$1"/lib
  ln -s usr/lib64 "$1"/lib64
}

# Resolves a tool name on the host (PATH of a Debian root) or accepts an absolute path.
find_tool() {
  case "$1" in
    /*) [ -e "$1" ] && echo "$1" ;;
    *) PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" ;;
  esac
}

stage_skeleton() {
  rm -rf "$stage"
  usr_links "$stage"
  mkdir -p "$stage"/{dev,proc,sys,run,tmp,root,mnt,sysroot,etc/nexus,usr/share/nexus}
  chmod 1777 "$stage"/tmp
  chmod 0700 "$stage"/root
  cp "$here"/etc/* "$stage"/etc/
  [ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$stage"/etc/
  : >"$stage"/etc/resolv.conf
  install -m 0755 "$here"/init "$stage"/init
  install -m 0755 "$here"/udhcpc.script "$stage"/usr/share/nexus/udhcpc.script
  mkdir -p "$stage"/usr/lib/nexus
  install -m 0644 "$here"/lib.sh "$stage"/usr/lib/nexus/boot-lib.sh
  # The boot environment's own commands (nexus-net-up, nexus-mount-root) that nexus-init calls.
  install -m 0755 "$here"/bin/* "$stage"/usr/sbin/
}

stage_tools() {
  local names tool path
  names=$("$bun" -e 'const { COMMANDS } = await import(process.argv[1]); console.log(Object.values(COMMANDS).join("\n"))' \
    "$repo/src/system/commands.ts")
  for tool in $names; do
    [ -e "$here/bin/$tool" ] && continue # provided by this initramfs (stage_skeleton)
    path=$(find_tool "$tool") || { echo "initramfs: warning: \"$tool\" (src/system/commands.ts) is not on this host; not included" >&2; continue; }
    copy_file "$path"
  done
  mkdir -p "$stage"/etc/security
  install -m 0644 "$here"/clevis-pwquality.conf "$stage"/etc/security/pwquality.conf
  local list
  for list in tools.list clevis.list; do
    for tool in $(grep -v '^#' "$here/$list"); do
      path=$(find_tool "$tool") || die "Cannot find tool \"$tool\" (initramfs/$list) on this host"
      copy_file "$path"
    done
  done
  # udev: the storage rules (links in /dev/disk/by-*, md and dm devices); no md auto-assembly,
  # which would grab the members of arrays the disks stage is about to create.
  mkdir -p "$stage"/usr/lib/udev/rules.d "$stage"/etc/udev
  local rule
  for rule in 50-udev-default 60-block 60-persistent-storage 55-dm 60-persistent-storage-dm \
    63-md-raid-arrays 64-btrfs 80-drivers 95-dm-notify; do
    [ -f "/usr/lib/udev/rules.d/$rule.rules" ] && cp "/usr/lib/udev/rules.d/$rule.rules" "$stage"/usr/lib/udev/rules.d/
  done
  check_udev_programs
  # iconv tables mkfs.fat converts its default codepage with.
  local gconv
  for gconv in gconv-modules gconv-modules.d IBM850.so IBM437.so; do
    [ -e "/usr/lib/x86_64-linux-gnu/gconv/$gconv" ] || continue
    mkdir -p "$stage"/usr/lib/x86_64-linux-gnu/gconv
    cp -R "/usr/lib/x86_64-linux-gnu/gconv/$gconv" "$stage"/usr/lib/x86_64-linux-gnu/gconv/
  done
  # busybox for everything else: /init, sh, ip, udhcpc, switch_root…
  cp /bin/busybox "$stage"/usr/bin/busybox
  local applet
  for applet in $(/bin/busybox --list); do
    case "$applet" in init | linuxrc | '[[') continue ;; esac
    [ -e "$stage/usr/bin/$applet" ] || [ -e "$stage/usr/sbin/$applet" ] || ln -s busybox "$stage/usr/bin/$applet"
  done
}

# Every program the copied udev rules run by absolute path must be in the image: udevd only
# logs a missing one, and a missing dmsetup leaves cryptsetup open waiting forever for udev.
check_udev_programs() {
  local prog
  for prog in $(sed -n 's/.*\(RUN+\|PROGRAM\|IMPORT{program}\)="\(\/[^" ]*\).*/\2/p' "$stage"/usr/lib/udev/rules.d/*.rules | sort -u); do
    [ -e "$stage$prog" ] || [ -L "$stage$prog" ] || case "$prog" in
      /bin/* | /usr/bin/*) [ -n "$(/bin/busybox --list | grep -xF "${prog##*/}")" ] ;; # a busybox applet, linked below
      *) false ;;
    esac || die "udev rules in the initramfs run \"$prog\", which it does not contain (add it to initramfs/tools.list)"
  done
}

stage_binary() {
  # A plain copy: never strip (a stripped Bun binary loses its embedded program).
  cp --preserve=mode "$binary" "$stage"/usr/bin/nexus-init
  copy_file_libs "$stage"/usr/bin/nexus-init
}

copy_file_libs() {
  local lib
  for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    copy_file "$lib"
  done
}

# Copies a module list's modules and their dependencies (decompressed) into the tree; with
# "load", also appends them, dependencies first, to the list /init loads at boot.
copy_modules() {
  local list=$1 load=$2 mods=$stage/lib/modules/$kver name line ko rel
  for name in $(grep -v '^#' "$list"); do
    modprobe -d "$kroot" -S "$kver" --show-depends "$name" >"$stage/.deps" ||
      die "Cannot resolve kernel module \"$name\" in $kver"
    while read -r line; do
      set -- $line
      [ "$1" = insmod ] || continue
      rel=${2#*/lib/modules/"$kver"/}
      ko=${rel%.xz}
      ko=${ko%.zst}
      ko=${ko%.gz}
      if [ ! -e "$mods/$ko" ]; then
        mkdir -p "$(dirname "$mods/$ko")"
        case "$rel" in
          *.xz) xz -dc "$2" >"$mods/$ko" ;;
          *.zst) zstd -qdc "$2" >"$mods/$ko" ;;
          *.gz) gzip -dc "$2" >"$mods/$ko" ;;
          *) cp "$2" "$mods/$ko" ;;
        esac
      fi
      if [ "$load" = load ] && ! grep -qxF "$ko" "$stage"/etc/nexus/modules.load; then
        echo "$ko" >>"$stage"/etc/nexus/modules.load
      fi
    done <"$stage/.deps"
  done
  rm -f "$stage/.deps"
}

stage_modules() {
  mkdir -p "$stage/lib/modules/$kver"
  : >"$stage"/etc/nexus/modules.load
  copy_modules "$here"/modules.list load
  copy_modules "$here"/modules-ondemand.list ondemand
  cp "$kroot/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$kver"/
  # modules.dep and modules.alias for modprobe and the kernel's on-demand loading.
  depmod -b "$stage" "$kver"
}

# Identical files become hard links, so the archive holds their data once (udevadm is
# systemd-udevd; the tiny OS's busybox is this tree's).
link_duplicates() {
  (cd "$stage" && find . -type f -size +64k -print0 | xargs -0 sha256sum | LC_ALL=C sort |
    awk '$1 == sum { print first, $2; next } { sum = $1; first = $2 }') |
    while read -r first dup; do ln -f "$stage/$first" "$stage/$dup"; done
}

# Bytes as "47.1 MB (44.9 MiB)".
size_text() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB (%.1f MiB)", b / 1e6, b / 1048576 }'; }

# Packs TREE as a newc archive into CPIO (sorted, owned by root, reproducible).
pack_cpio() {
  (cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --reproducible -R 0:0 --quiet) >"$2"
}

pack() {
  local cpio
  cpio=$(dirname "$stage")/initramfs.cpio
  mkdir -p "$(dirname "$out")"
  pack_cpio "$stage" "$cpio"
  $compress <"$cpio" >"$out.tmp"
  echo "initramfs: $out $(size_text "$out.tmp") compressed with \"$compress\"," \
    "$(size_text "$cpio") uncompressed (kernel $kver)"
  mv "$out.tmp" "$out"
}

# The test VM's extra tools (test-tools.list, with the libraries the initramfs lacks) as an
# archive of their own that test/qemu/test_vm.ts appends: the stages never call them.
pack_test_tools() {
  local tree tool path
  tree=$(dirname "$stage")/test-tools
  rm -rf "$tree"
  usr_links "$tree"
  for tool in $(grep -v '^#' "$here"/test-tools.list); do
    path=$(find_tool "$tool") || die "Cannot find tool \"$tool\" (initramfs/test-tools.list) on this host"
    copy_file "$path" "$tree"
  done
  pack_cpio "$tree" "$tree.cpio"
  zstd -q -f -T1 -3 "$tree.cpio" -o "$test_tools_out.tmp"
  rm -f "$tree.cpio"
  mv "$test_tools_out.tmp" "$test_tools_out"
  echo "initramfs: $test_tools_out $(size_text "$test_tools_out") (the test VM's extra tools)"
}

stage_skeleton
stage_tools
stage_binary
stage_modules
"$here"/stage-tinyos.sh "$stage"/usr/share/nexus/tinyos
link_duplicates
pack
pack_test_tools
