#!/bin/bash
# dracut module "nexus": nexus-init's first-boot stages as systemd units in the initramfs.
# The binary comes from $NEXUS_INIT_BINARY (default /usr/bin/nexus-init) and is installed
# unstripped (see dracut.conf.d/50-nexus.conf: do_strip="no").

# Only when asked for (add_dracutmodules / -m): nothing on the host implies it.
check() {
    require_binaries "${NEXUS_INIT_BINARY:-/usr/bin/nexus-init}" || return 1
    return 255
}

depends() {
    echo systemd systemd-initrd dracut-systemd udev-rules rootfs-block fs-lib dm
}

installkernel() {
    # Devices of the machines we boot on, the filesystems, RAID levels and LUKS ciphers the
    # disks stage may create, and fw_cfg for the qemu platform.
    hostonly='' instmods virtio_pci virtio_blk virtio_scsi sd_mod virtio_net qemu_fw_cfg \
        pvpanic_mmio pvpanic_pci loop \
        ext4 xfs btrfs vfat nls_cp437 nls_iso8859_1 nls_utf8 nls_ascii isofs \
        md_mod linear raid0 raid1 raid10 raid456 \
        dm_mod dm_crypt xts ecb essiv af_alg algif_skcipher algif_hash \
        xxhash_generic blake2b_generic \
        sr_mod udf hv_utils vsock vmw_vsock_virtio_transport
}

install() {
    local binary=${NEXUS_INIT_BINARY:-/usr/bin/nexus-init}
    # inst_simple copies the file as is; with do_strip=no dracut never strips it afterwards.
    inst_simple "$binary" /usr/bin/nexus-init

    # The programs the stages call (src/system/commands.ts), resolved with their libraries.
    inst_multiple sgdisk sfdisk partx blkid wipefs udevadm mdadm cryptsetup \
        mkfs.ext4 mkfs.xfs mkfs.btrfs mkfs.vfat mkswap mount umount losetup modprobe \
        useradd usermod userdel groupadd groupmod groupdel lsblk findmnt dmsetup sync unshare
    inst_multiple -o mke2fs e2label tune2fs xfs_admin xfs_db btrfs fatlabel mkfs.fat
    # clevis, its tang/tpm2/sss pins and what they run, to bind LUKS volumes and prove the
    # binding unlocks them: the LiveCD initramfs's list (initramfs/clevis.list), which goes
    # beside this file (the build script copies it there).
    [[ -f $moddir/clevis.list ]] || { dfatal "nexus: copy initramfs/clevis.list into $moddir"; return 1; }
    inst_multiple $(grep -v '^#' "$moddir/clevis.list")
    [[ -f $moddir/clevis-pwquality.conf ]] && inst_simple "$moddir/clevis-pwquality.conf" /etc/security/pwquality.conf
    # The platform channels (VMware guestinfo, vsock, VirtualBox properties, the z/VM reader).
    inst_multiple -o vmware-rpctool socat VBoxControl vmur chccwdev cio_ignore
    inst_rules 63-md-raid-arrays.rules 64-btrfs.rules
    [[ -f /etc/mke2fs.conf ]] && inst_simple /etc/mke2fs.conf

    # busybox only for DHCP, off PATH so it shadows nothing.
    inst_simple "$(command -v busybox)" /usr/lib/nexus/busybox
    inst_simple "$moddir/nexus-network.sh" /usr/lib/nexus/nexus-network.sh
    inst_simple "$moddir/nexus-udhcpc.script" /usr/lib/nexus/nexus-udhcpc.script

    inst_script "$moddir/nexus-generator" "$systemdutildir/system-generators/nexus-generator"
    local unit
    for unit in nexus-fetch-offline.service nexus-network.service nexus-fetch.service \
        nexus-kargs.service nexus-disks.service nexus-mount.service nexus-files.service \
        nexus-umount.service nexus-firstboot-complete.service nexus-complete.target; do
        inst_simple "$moddir/$unit" "$systemdsystemunitdir/$unit"
    done
}
