#!/bin/sh
# Reads an OpenStack config drive (label config-2; ISO9660 or vfat, on a
# virtio disk or an IDE CD-ROM) into /run/kumo/cd, applies the hostname and
# public keys, and prints "config_drive: hostname=<h> keys=<n>".
# Exit status 1 when there is no config drive.
. /usr/lib/kumo/json.sh
OUT=/run/kumo/cd
MNT=/run/kumo/cd-mnt
mkdir -p "$OUT" "$MNT"

# other_disks: block devices besides the root disk that could hold it.
other_disks() {
	rootdisk=$(awk '$2 == "/" { print $1 }' /proc/mounts | sed 's|^/dev/||; s|[0-9]*$||')
	for b in /sys/class/block/*; do
		b=${b##*/}
		case $b in loop* | ram* | "$rootdisk"*) continue ;; esac
		echo "$b"
	done
}
# rcS probes the IDE bus in the background: wait for that (up to 10 s).
i=0
while [ $i -lt 100 ] && [ ! -e /run/kumo/ata-probed ]; do
	sleep 0.1
	i=$((i + 1))
done
# Disks and CD-ROMs are probed asynchronously: look for up to 2 s, but give
# up after 0.5 s when no other disk has shown up at all.
dev=
i=0
while [ $i -lt 20 ]; do
	dev=$(findfs LABEL=config-2 2>/dev/null || findfs LABEL=CONFIG-2 2>/dev/null)
	[ -n "$dev" ] && break
	[ $i -ge 5 ] && [ -z "$(other_disks)" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$dev" ]; then
	echo "config_drive: none"
	exit 1
fi
if ! mount -t iso9660 -o ro "$dev" "$MNT" 2>/dev/null && ! mount -t vfat -o ro "$dev" "$MNT" 2>/dev/null; then
	echo "config_drive: cannot mount $dev"
	exit 1
fi
for f in meta_data.json network_data.json user_data vendor_data.json; do
	[ -f "$MNT/openstack/latest/$f" ] && cp "$MNT/openstack/latest/$f" "$OUT/$f"
done
umount "$MNT"
echo "$dev" >"$OUT/device"

h=
n=0
if [ -f "$OUT/meta_data.json" ]; then
	json_flat "$OUT/meta_data.json" >"$OUT/meta.flat"
	json_get "$OUT/meta.flat" .uuid >"$OUT/instance-id"
	h=$(json_get "$OUT/meta.flat" .hostname)
	[ -n "$h" ] || h=$(json_get "$OUT/meta.flat" .name)
	# Hostnames are single tokens; keep what is legal in one.
	h=$(echo "$h" | tr -c 'A-Za-z0-9.\n-' '-' | cut -c1-63)
	if [ -n "$h" ]; then
		hostname "$h"
		echo "$h" >/etc/hostname
	fi
	awk -F'\t' 'index($1, ".public_keys.") == 1 && $2 != "" { print $2 }' "$OUT/meta.flat" >"$OUT/keys"
	n=$(wc -l <"$OUT/keys")
	if [ "$n" -gt 0 ]; then
		mkdir -p /root/.ssh
		chmod 700 /root/.ssh
		cp "$OUT/keys" /root/.ssh/authorized_keys
		chmod 600 /root/.ssh/authorized_keys
	fi
fi
echo "config_drive: hostname=${h:-$(hostname)} keys=$n"
exit 0
