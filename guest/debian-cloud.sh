#!/usr/bin/env bash
# Builds build/guest/debian-cloud.qcow2: a Debian 12 cloud image with
# cloud-init, made from Debian packages only (no image download).
#
#   guest/debian-cloud.sh     (or: make cloud-image)
#
# SeaBIOS -> MBR -> syslinux (FAT16 p1: copies of the kernel and initramfs)
# -> linux-image-cloud-amd64 + initramfs-tools -> ext4 root (p2, the last
# partition, so cloud-init's growpart can grow it) -> systemd -> cloud-init
# (ConfigDrive first) and a serial getty on ttyS0. See guest/README.md.
# Needs root (mmdebstrap's root mode); no loop devices or mounts. Packages
# come from the host's apt sources.
#
# Environment:
#   KUMO_CLOUD_OUT    output image (default build/guest/debian-cloud.qcow2)
#   KUMO_CLOUD_SUITE  Debian suite (default bookworm)
#   KUMO_CLOUD_SSH=0  leave openssh-server out
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$ROOT/guest/cloud-init
OUTDIR=$ROOT/build/guest
OUT=${KUMO_CLOUD_OUT:-$OUTDIR/debian-cloud.qcow2}
SUITE=${KUMO_CLOUD_SUITE:-bookworm}
export PATH=/usr/sbin:/sbin:$PATH

say() { echo "cloud-image: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap builds the root filesystem in a chroot)"
for t in mmdebstrap syslinux mcopy mkfs.fat mkfs.ext4 sfdisk qemu-img; do
	command -v "$t" >/dev/null || die "missing tool $t (apt-get install mmdebstrap syslinux syslinux-common mtools dosfstools e2fsprogs fdisk qemu-utils)"
done
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
[ -r "$MBR_BIN" ] || die "missing $MBR_BIN (apt-get install syslinux-common)"

# The host's apt sources (deb822 or one-line), so the build uses the same
# mirror and security suite as the machine.
SOURCES=
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
	[ -r "$f" ] && SOURCES="$SOURCES $f"
done
[ -n "$SOURCES" ] || die "no apt sources in /etc/apt"

# What Debian 12's own cloud images carry for cloud-init 22.4: ifupdown +
# isc-dhcp-client networking, cloud-guest-utils for growpart, sudo for
# the default user, dbus so that systemd-logind runs and powers off on the
# ACPI power button (a clean `server stop`). openssh-server: cloud-init
# installs the instance's keys for it.
PKGS="systemd-sysv udev dbus kmod linux-image-cloud-amd64 initramfs-tools cloud-init
 ifupdown isc-dhcp-client netbase iproute2 cloud-guest-utils fdisk sudo e2fsprogs
 procps less ca-certificates"
[ "${KUMO_CLOUD_SSH:-1}" = 0 ] || PKGS="$PKGS openssh-server"

# Sizes in MiB: p1 holds the LZ4 kernel and the initramfs; p2 is sized to
# the root filesystem plus room, and cloud-init grows it at first boot.
BOOT_OFF=1 BOOT_MB=64 ROOT_SLACK_MB=256

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "$OUTDIR/cloudwork.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RF=$WORK/rootfs

say "mmdebstrap $SUITE (minbase + $(echo $PKGS | wc -w) packages)"
start=$(date +%s)
# shellcheck disable=SC2086
mmdebstrap --mode=root --variant=minbase --format=directory \
	--aptopt='APT::Install-Recommends "false"' \
	--include="$(echo $PKGS | tr ' ' ',')" \
	--customize-hook="install -m 0644 '$SRC/90_kumo.cfg' \"\$1/etc/cloud/cloud.cfg.d/90_kumo.cfg\"" \
	--customize-hook="install -m 0644 '$SRC/interfaces' \"\$1/etc/network/interfaces\"" \
	--customize-hook="mkdir -p \"\$1/etc/network/interfaces.d\"" \
	--customize-hook="install -m 0644 '$SRC/fstab' \"\$1/etc/fstab\"" \
	--customize-hook="install -m 0644 '$SRC/initramfs-modules' \"\$1/etc/initramfs-tools/modules\"" \
	--customize-hook="echo MODULES=list >\"\$1/etc/initramfs-tools/conf.d/kumo\"" \
	--customize-hook="chroot \"\$1\" update-initramfs -u -k all" \
	--customize-hook="echo debian >\"\$1/etc/hostname\"" \
	--customize-hook="rm -f \"\$1\"/etc/ssh/ssh_host_*" \
	--customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*.bin \"\$1\"/usr/share/man/* \"\$1\"/var/log/*.log" \
	--customize-hook="find \"\$1/usr/share/doc\" -type f ! -name copyright -delete" \
	--customize-hook="truncate -s 0 \"\$1/etc/machine-id\"" \
	"$SUITE" "$RF" $SOURCES
say "root filesystem built in $(($(date +%s) - start)) s"

VMLINUZ=$(ls "$RF"/boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
KV=${VMLINUZ##*/vmlinuz-}
INITRD=$RF/boot/initrd.img-$KV
[ -r "$VMLINUZ" ] && [ -r "$INITRD" ] || die "no kernel or initramfs in the root filesystem"

# Boot partition: the kernel and initramfs the root's /boot holds.
mkfs.fat -F16 -n BOOT -h $((BOOT_OFF * 2048)) -C "$WORK/boot.img" $((BOOT_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$WORK/boot.img" "$VMLINUZ" ::vmlinuz
mcopy -i "$WORK/boot.img" "$INITRD" ::initrd.img
mcopy -i "$WORK/boot.img" "$SRC/syslinux.cfg" ::syslinux.cfg
syslinux --install "$WORK/boot.img"

# Root filesystem, sized to its content plus slack; -d copies the tree
# with its owners and modes (the build runs as root).
ROOT_MB=$(( $(du -sm "$RF" | cut -f1) * 110 / 100 + ROOT_SLACK_MB ))
ROOT_OFF=$((BOOT_OFF + BOOT_MB))
TOTAL_MB=$((ROOT_OFF + ROOT_MB))
truncate -s "${ROOT_MB}M" "$WORK/root.img"
mkfs.ext4 -q -F -L cloudimg-rootfs -d "$RF" "$WORK/root.img"

RAW=$WORK/disk.raw
truncate -s "${TOTAL_MB}M" "$RAW"
sfdisk -q "$RAW" <<EOT
label: dos
start=$((BOOT_OFF * 2048)), size=$((BOOT_MB * 2048)), type=6, bootable
start=$((ROOT_OFF * 2048)), size=$((ROOT_MB * 2048)), type=83
EOT
dd if="$MBR_BIN" of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/boot.img" of="$RAW" bs=1M seek=$BOOT_OFF conv=notrunc status=none
dd if="$WORK/root.img" of="$RAW" bs=1M seek=$ROOT_OFF conv=notrunc status=none

qemu-img convert -c -O qcow2 "$RAW" "$WORK/out.qcow2"
mv -f "$WORK/out.qcow2" "$OUT"
say "wrote $OUT ($(du -m "$OUT" | cut -f1) MiB, virtual ${TOTAL_MB} MiB, kernel $KV, $(($(date +%s) - start)) s)"
