# nexus-init — build, test and demo entry points.
# `make demo` and `make test` are the two commands README.md promises work on a
# fresh Debian machine: each installs what it needs first (see `make setup`).

SHELL := /bin/bash
BUN   := node_modules/.bin/bun
TSC   := node_modules/.bin/tsc
SRC   := $(shell find src -name '*.ts' -not -name '*.test.ts' 2>/dev/null)

.PHONY: all setup deps node-deps build check test test-unit test-conformance bench clean

all: build

# Debian packages the stages call and the tests exercise (root, apt). The platform providers
# call vmware-rpctool (open-vm-tools) and socat (vsock); the platform scenarios build config
# drives with genisoimage (ISO 9660, UDF) and mtools (vfat, without mounting); `nexus image`
# needs GRUB's BIOS and EFI images, xorriso and OVMF (its UEFI boot test). The clevis line:
# binding LUKS volumes in both initramfs flavours, and the software TPM and tang server the tests use.
APT_PACKAGES := util-linux fdisk gdisk e2fsprogs xfsprogs btrfs-progs dosfstools \
  mdadm cryptsetup-bin passwd kmod cpio zstd busybox-static qemu-system-x86 \
  qemu-utils python3 curl ca-certificates udev dmsetup systemd dracut-core \
  open-vm-tools socat genisoimage mtools grub-common grub-pc-bin grub-efi-amd64-bin xorriso ovmf \
  clevis clevis-luks clevis-tpm2 clevis-dracut jose luksmeta libpwquality-tools tpm2-tools \
  libtss2-tcti-device0 libtss2-tcti-swtpm0 swtpm swtpm-tools tang

deps: .cache/apt.stamp
.cache/apt.stamp: Makefile
	@mkdir -p .cache
	./scripts/install-deps.sh $(APT_PACKAGES)
	@touch $@

node-deps: node_modules/.install.stamp
node_modules/.install.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

setup: deps node-deps

# Two binaries from one tree: dist/nexus-init boots machines (src/main.ts; it never imports the
# authoring rooms), dist/nexus is the authoring CLI (src/nexus.ts) with the DSL, its type
# declarations and the TypeScript checker embedded.
# --bytecode ships precompiled JavaScriptCore bytecode (it needs the ESM output format for the
# entry points' top-level await): ~20 ms less start-up on the host, ~2.4 s less under TCG, for
# 3.4 MB (1.5 MB compressed in the initramfs). --sourcemap embeds the source map, so stack
# traces name src/ files and lines; nexus-init goes without it (0.6 MB, 0.5 MB compressed, no
# start-up difference): its traces name functions and positions in the bundle instead.
COMPILE := $(BUN) build --compile --target=bun-linux-x64-baseline --bytecode --format=esm
NEXUS_ASSETS := build/nexus-assets/types.json build/nexus-assets/tslib.json

build: dist/nexus-init dist/nexus dist/demo.ign
dist/nexus-init: node_modules/.install.stamp $(SRC) package.json
	@mkdir -p dist
	# --compile embeds the Bun runtime; never strip the result (it would become the bare bun CLI).
	# The initramfs copies this file byte for byte, so it is built for the boot's size (above).
	$(COMPILE) src/main.ts --outfile dist/nexus-init

$(NEXUS_ASSETS) &: node_modules/.install.stamp scripts/build-nexus-assets.ts $(filter src/dsl/%,$(SRC))
	$(BUN) run scripts/build-nexus-assets.ts

dist/nexus: node_modules/.install.stamp $(SRC) src/authoring/assets.js $(NEXUS_ASSETS) package.json
	@mkdir -p dist
	$(COMPILE) --sourcemap src/nexus.ts --outfile dist/nexus

# The demo machine is a typed program; `make demo` and the QEMU scenarios boot its JSON.
dist/demo.ign: dist/nexus $(wildcard examples/demo/*)
	dist/nexus provision examples/demo/system.ts -o $@

check: node-deps
	$(TSC) --noEmit

# The whole suite: unit tests beside the code, conformance, and the QEMU scenarios.
test: setup check build
	$(BUN) test --timeout 120000
	$(MAKE) test-qemu

bench: build
	$(BUN) run bench/run.ts

clean:
	rm -rf dist build .cache

-include mk/*.mk
