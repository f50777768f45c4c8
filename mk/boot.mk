# Booting for real (issue 6): the Debian cloud kernel, the LiveCD and dracut initramfs
# images around dist/nexus-init, the base OS disk image, the QEMU scenarios, `make demo`
# and the boot benchmark. Included by the top Makefile.

.PHONY: kernel initramfs initramfs-dracut initramfs-ignition bench-boot-deps base-image test-qemu test-qemu-crash demo bench-boot

KERNEL_STAMP   := build/kernel/kver
INITRAMFS_SRC  := $(shell find initramfs -type f 2>/dev/null) src/system/commands.ts
DRACUT_SRC     := $(shell find dracut-module -type f 2>/dev/null) scripts/build-dracut-initramfs.sh scripts/lib/dracut.sh initramfs/clevis.list initramfs/clevis-pwquality.conf

# The current linux-image-*-cloud-amd64, downloaded and unpacked (never installed).
kernel: $(KERNEL_STAMP)
$(KERNEL_STAMP): scripts/fetch-kernel.sh
	./scripts/fetch-kernel.sh build/kernel

# The busybox LiveCD initramfs (/init runs the stages in one nexus-init process, then switches
# root), and beside it the test VM's extra tools as an archive of their own.
initramfs: dist/initramfs.img dist/initramfs-test-tools.img
dist/initramfs.img dist/initramfs-test-tools.img &: dist/nexus-init $(KERNEL_STAMP) $(INITRAMFS_SRC)
	./initramfs/build.sh --kernel build/kernel --binary dist/nexus-init --out dist/initramfs.img --test-tools-out dist/initramfs-test-tools.img

# The systemd initramfs built by dracut with dracut-module/30nexus.
initramfs-dracut: dist/initramfs-dracut.img
dist/initramfs-dracut.img: dist/nexus-init $(KERNEL_STAMP) $(DRACUT_SRC) initramfs/stage-tinyos.sh
	./scripts/build-dracut-initramfs.sh --kernel build/kernel --binary dist/nexus-init --out $@

# The Fedora CoreOS-style disk the scenarios and the demo provision.
base-image: dist/base-os.img
dist/base-os.img: scripts/build-base-image.sh initramfs/stage-tinyos.sh $(shell find initramfs/tinyos -type f 2>/dev/null)
	./scripts/build-base-image.sh $@

# Every boot scenario (a–h of issue 6), the examples, and 4 power cuts during the demo's
# first boot (test/qemu/crash.qemu.ts; the full matrix: make test-qemu-crash), two machines at a time.
test-qemu: setup initramfs initramfs-dracut base-image dist/demo.ign
	$(BUN) test --timeout 600000 ./test/qemu/scenarios.qemu.ts ./test/qemu/platforms.qemu.ts ./src/stages/disks.qemu.ts ./test/qemu/examples.qemu.ts ./test/qemu/crash.qemu.ts ./test/qemu/images.qemu.ts ./test/qemu/clevis.qemu.ts

# The full power-cut matrix by hand: 10 cut points over the demo's first boot (or CRASH_POINTS).
CRASH_POINTS ?= 10
test-qemu-crash: setup initramfs base-image dist/demo.ign
	NEXUS_QEMU_CRASH_POINTS=$(CRASH_POINTS) $(BUN) test --timeout 900000 ./test/qemu/crash.qemu.ts

# make demo [CONFIG=file.ign|file.bu|system.ts] [DISK=out.img] [TPM=DIR] [TANG=1]
CONFIG ?=
DISK ?=
TPM ?=
TANG ?=
demo: setup initramfs base-image dist/demo.ign
	$(BUN) run scripts/demo.ts $(if $(CONFIG),--config "$(CONFIG)") $(if $(DISK),--disk "$(DISK)") $(if $(TPM),--tpm "$(TPM)") $(if $(TANG),--tang)

# Debian packages only the boot benchmark needs: Ignition 2.14 with its dracut module, dracut's
# network modules (Ignition's module depends on them) and setfiles (Debian builds Ignition to
# relabel what it creates). Installed by `make bench-boot`, not by `make setup`.
BENCH_BOOT_APT_PACKAGES := ignition dracut-network policycoreutils

bench-boot-deps: .cache/apt-bench-boot.stamp
.cache/apt-bench-boot.stamp: mk/boot.mk
	@mkdir -p .cache
	./scripts/install-deps.sh $(BENCH_BOOT_APT_PACKAGES)
	@touch $@

# The boot benchmark's peer: Debian's Ignition 2.14 in a dracut initramfs for the same kernel.
initramfs-ignition: dist/initramfs-ignition.img
dist/initramfs-ignition.img: $(KERNEL_STAMP) scripts/build-ignition-initramfs.sh scripts/lib/dracut.sh $(shell find bench/dracut -type f 2>/dev/null) .cache/apt-bench-boot.stamp
	./scripts/build-ignition-initramfs.sh --kernel build/kernel --out $@

# nexus-init's initramfs against Ignition's dracut flow, side by side (run by hand).
bench-boot: setup bench-boot-deps initramfs initramfs-ignition base-image dist/demo.ign
	$(BUN) run bench/boot.ts
