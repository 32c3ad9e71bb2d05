#!/usr/bin/env bash
# Builds build/guest/kumo-test.qcow2: kumo's tiny cloud-style test guest.
#
#   guest/build.sh            (or: make guest-image)
#
# SeaBIOS -> MBR -> syslinux (FAT16 p1) -> Debian cloud kernel + busybox
# initramfs -> ext4 root (p2) with busybox init. See guest/README.md.
# No root, loop devices or mounts are needed. The only network use is
# `apt-get download` of the kernel .deb, which is cached in build/guest/cache
# and reused, so later builds are offline.
#
# Environment:
#   KUMO_GUEST_OUT        output image (default build/guest/kumo-test.qcow2)
#   KUMO_GUEST_KERNEL_DEB use this linux-image-*.deb instead of the cache/apt
#   KUMO_GUEST_CACHE      download cache (default build/guest/cache)
#   KUMO_GUEST_FORCE=1    rebuild even when nothing changed
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$ROOT/guest
OUTDIR=$ROOT/build/guest
CACHE=${KUMO_GUEST_CACHE:-$OUTDIR/cache}
OUT=${KUMO_GUEST_OUT:-$OUTDIR/kumo-test.qcow2}
export PATH=/usr/sbin:/sbin:$PATH

say() { echo "guest-image: $*" >&2; }
die() { say "$*"; exit 1; }

# Sizes in MiB. p1 holds the ~14 MB LZ4 kernel and the initramfs; FAT16
# needs at least ~16 MiB of clusters. p2 is the root the guest writes to.
BOOT_OFF=1 BOOT_MB=24 ROOT_MB=32
ROOT_OFF=$((BOOT_OFF + BOOT_MB))
TOTAL_MB=$((ROOT_OFF + ROOT_MB))

# Modules the guest loads at boot (dependencies are added; built-ins skip).
# The IDE CD-ROM ones (a config drive's bus on -machine pc) are listed apart:
# their probe takes ~0.7 s under TCG, so rcS runs it in the background.
MODULES="virtio_pci virtio_blk virtio_net virtio_rng virtio_balloon virtio_scsi sd_mod
 isofs vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1 button evdev"
ATA_MODULES="ata_piix sr_mod"

for t in busybox syslinux mcopy mkfs.fat mkfs.ext4 sfdisk depmod modprobe cpio gzip qemu-img dpkg-deb; do
	command -v "$t" >/dev/null || die "missing tool $t (apt-get install busybox-static syslinux syslinux-common mtools dosfstools e2fsprogs fdisk kmod cpio qemu-utils)"
done
BUSYBOX=$(command -v busybox)
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] ||
	die "$BUSYBOX is not static (apt-get install busybox-static)"
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
[ -r "$MBR_BIN" ] || die "missing $MBR_BIN (apt-get install syslinux-common)"

# The kernel: linux-image-<ver>-cloud-amd64, downloaded once, never installed.
mkdir -p "$CACHE"
kernel_deb() {
	if [ -n "${KUMO_GUEST_KERNEL_DEB:-}" ]; then
		echo "$KUMO_GUEST_KERNEL_DEB"
		return
	fi
	local have
	have=$(ls "$CACHE"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$have" ]; then
		echo "$have"
		return
	fi
	local pkg
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
	say "downloading $pkg"
	(cd "$CACHE" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
	ls "$CACHE"/"$pkg"_*.deb | sort -V | tail -n1
}
DEB=$(kernel_deb)
[ -r "$DEB" ] || die "kernel package $DEB not readable"
say "kernel package $(basename "$DEB")"

# Skip the build when nothing it reads has changed: overlays made on the
# previous image stay valid (a rebuilt image differs in every mkfs UUID).
# KUMO_GUEST_FORCE=1 rebuilds anyway.
STAMP=$OUT.stamp
stamp=$({
	echo "$(basename "$DEB") $BOOT_MB $ROOT_MB $MODULES $ATA_MODULES"
	sha256sum "$BUSYBOX" "$MBR_BIN"
	(cd "$SRC" && find build.sh syslinux.cfg initramfs rootfs -type f | LC_ALL=C sort | xargs sha256sum)
} | sha256sum | cut -d' ' -f1)
if [ -z "${KUMO_GUEST_FORCE:-}" ] && [ -f "$OUT" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$stamp" ]; then
	say "$OUT is up to date"
	exit 0
fi

mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "$(dirname "$OUT")/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$DEB" "$WORK/k"
KV=$(ls "$WORK/k/lib/modules" | head -n1)
VMLINUZ=$WORK/k/boot/vmlinuz-$KV
[ -n "$KV" ] && [ -r "$VMLINUZ" ] || die "no kernel in $DEB"
depmod -b "$WORK/k" "$KV"

# Copies the listed modules and their dependencies into tree $1 and writes
# the modules.dep that busybox modprobe reads.
install_modules() {
	local dst=$1 m f
	mkdir -p "$dst/lib/modules/$KV"
	cp "$WORK/k/lib/modules/$KV"/modules.builtin* "$WORK/k/lib/modules/$KV/modules.order" "$dst/lib/modules/$KV/"
	for m in $MODULES $ATA_MODULES; do
		modprobe -d "$WORK/k" -S "$KV" --show-depends "$m" 2>/dev/null |
			sed -n 's/^insmod \([^ ]*\).*/\1/p' | while read -r f; do
			mkdir -p "$dst/$(dirname "${f#"$WORK"/k/}")"
			cp "$f" "$dst/${f#"$WORK"/k/}"
		done
	done
	depmod -b "$dst" "$KV"
}

# Busybox with one symlink per applet, except files the recipe ships itself.
install_busybox() {
	local dst=$1 a
	mkdir -p "$dst/bin" "$dst/sbin" "$dst/usr/bin" "$dst/usr/sbin"
	cp "$BUSYBOX" "$dst/bin/busybox"
	for a in $("$BUSYBOX" --list-full); do
		[ -e "$dst/$a" ] || [ -L "$dst/$a" ] || ln -s /bin/busybox "$dst/$a"
	done
}

# initramfs: busybox, modules and /init (loads drivers, mounts the root).
IR=$WORK/initramfs
mkdir -p "$IR"/{dev,proc,sys,newroot}
install -m 0755 "$SRC/initramfs/init" "$IR/init"
install_busybox "$IR"
install_modules "$IR"
(cd "$IR" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$WORK/initrd.gz"

# Root filesystem: the recipe's files, busybox and the same modules.
RF=$WORK/rootfs
mkdir -p "$RF"
cp -a "$SRC/rootfs/." "$RF/"
mkdir -p "$RF"/{dev,proc,sys,run,tmp,mnt,root,var/lib/kumo,var/log,etc/network}
chmod 1777 "$RF/tmp"
chmod 0700 "$RF/root"
chmod 0755 "$RF"/etc/init.d/* "$RF"/etc/acpi/PWRF/* "$RF"/usr/share/udhcpc/default.script "$RF"/usr/lib/kumo/*.sh
chmod 0600 "$RF/etc/shadow"
install_busybox "$RF"
install_modules "$RF"
echo "$KV" >"$RF/etc/kumo-guest-kernel"
echo $MODULES | tr ' ' '\n' >"$RF/etc/modules"
echo $ATA_MODULES | tr ' ' '\n' >"$RF/etc/modules-ata"

# Partition images. -h: hidden sectors = p1's start, which syslinux needs.
mkfs.fat -F16 -n BOOT -h $((BOOT_OFF * 2048)) -C "$WORK/boot.img" $((BOOT_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$WORK/boot.img" "$VMLINUZ" ::vmlinuz
mcopy -i "$WORK/boot.img" "$WORK/initrd.gz" ::initrd.gz
mcopy -i "$WORK/boot.img" "$SRC/syslinux.cfg" ::syslinux.cfg
syslinux --install "$WORK/boot.img"

# root_owner and the ownership fix below keep a non-root build's files root-owned.
truncate -s "${ROOT_MB}M" "$WORK/root.img"
mkfs.ext4 -q -F -L kumoroot -E root_owner=0:0 -d "$RF" "$WORK/root.img"
if [ "$(id -u)" != 0 ]; then
	(cd "$RF" && find . -mindepth 1 | sed 's|^\.||' | while read -r p; do
		printf 'sif "%s" uid 0\nsif "%s" gid 0\n' "$p" "$p"
	done) >"$WORK/chown.debugfs"
	debugfs -w -f "$WORK/chown.debugfs" "$WORK/root.img" >/dev/null 2>&1
fi

# The disk: MBR boot code, partition table, then both partitions.
RAW=$WORK/disk.raw
truncate -s "${TOTAL_MB}M" "$RAW"
sfdisk -q "$RAW" <<EOF
label: dos
start=$((BOOT_OFF * 2048)), size=$((BOOT_MB * 2048)), type=6, bootable
start=$((ROOT_OFF * 2048)), size=$((ROOT_MB * 2048)), type=83
EOF
dd if="$MBR_BIN" of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/boot.img" of="$RAW" bs=1M seek=$BOOT_OFF conv=notrunc status=none
dd if="$WORK/root.img" of="$RAW" bs=1M seek=$ROOT_OFF conv=notrunc status=none

qemu-img convert -c -O qcow2 "$RAW" "$WORK/out.qcow2"
mv -f "$WORK/out.qcow2" "$OUT"
echo "$stamp" >"$STAMP"
say "wrote $OUT ($(du -k "$OUT" | cut -f1) KiB, kernel $KV)"
