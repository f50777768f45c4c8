#!/bin/bash
# dracut module "bench-timing" (bench/boot.ts only; never shipped): after the first-boot
# stages, print each stage unit's run time and when provisioning finished on the console, so
# the boot benchmark reads Ignition's dracut flow the way it reads the LiveCD initramfs's
# "nexus-boot:" lines. It changes nothing else in the boot.

check() { return 255; }

depends() { echo systemd; }

install() {
    inst_script "$moddir/bench-stage-times.sh" /usr/lib/bench/bench-stage-times.sh
    inst_simple "$moddir/bench-stage-times.service" "$systemdsystemunitdir/bench-stage-times.service"
    mkdir -p "$initdir/$systemdsystemunitdir/initrd.target.wants"
    ln_r "$systemdsystemunitdir/bench-stage-times.service" "$systemdsystemunitdir/initrd.target.wants/bench-stage-times.service"
}
