# Shared by the scripts that build dracut initramfs images for the downloaded Debian kernel
# (build-dracut-initramfs.sh, build-ignition-initramfs.sh): dracut runs from a private copy of
# the host's dracut tree (dracutbasedir=), so nothing of the host's dracut setup is used or
# changed.

# Starts WORK afresh with a copy of the host's dracut tree in WORK/tree.
private_dracut_tree() {
  rm -rf "$1"
  mkdir -p "$1/tmp"
  cp -a /usr/lib/dracut "$1/tree"
}

# Runs dracut from WORK/tree for the kernel in KERNEL_DIR (its kver file and unpacked
# modules), generic (not host-only), with exactly MODULES and their dependencies (-m), only
# the settings in CONFDIR, zstd -12; writes OUT atomically. The caller's environment (e.g.
# NEXUS_INIT_BINARY) reaches the modules' install scripts.
# Usage: run_private_dracut WORK KERNEL_DIR OUT "MODULES" CONFDIR
run_private_dracut() {
  local work=$1 kernel=$2 out=$3 modules=$4 confdir=$5 kver
  kver=$(cat "$kernel/kver")
  mkdir -p "$(dirname "$out")"
  dracutbasedir="$work/tree" dracut \
    --force --quiet --no-hostonly --no-hostonly-cmdline \
    --kver "$kver" --kmoddir "$kernel/root/lib/modules/$kver" \
    --conf /dev/null --confdir "$confdir" \
    -m "$modules" --tmpdir "$work/tmp" --compress "zstd -q -T1 -12" \
    "$out.tmp"
  mv "$out.tmp" "$out"
}
