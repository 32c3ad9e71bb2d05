#!/usr/bin/env bash
# Boot check of the test guest under TCG, as CI runs it:
#
#   guest/smoke.sh [image]     (default build/guest/kumo-test.qcow2)
#
# Three boots of one overlay disk, one at a time, each power off by the ACPI
# power button (QMP system_powerdown):
#   1. no NIC, no config drive: marker with instance-id=none, boot=1;
#   2. ISO9660 config drive on an IDE CD-ROM and a virtio NIC on QEMU's
#      user network with restrict=on (its DHCP never leaves QEMU): hostname,
#      2 keys, user_data output and exit code, DHCP address, boot=2;
#   3. vfat config drive on a virtio disk with static IPv4 in
#      network_data.json: the static address, boot=3.
# Exits non-zero when a marker does not appear within $SMOKE_TIMEOUT s
# (default 60) or a line is missing; prints the console log then.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=$(realpath "${1:-build/guest/kumo-test.qcow2}")
TIMEOUT=${SMOKE_TIMEOUT:-60}
export PATH=/usr/sbin:/sbin:$PATH
for t in qemu-system-x86_64 qemu-img genisoimage mkfs.fat mcopy; do
	command -v "$t" >/dev/null || { echo "smoke: missing $t" >&2; exit 2; }
done
[ -r "$IMAGE" ] || { echo "smoke: no image $IMAGE (make guest-image)" >&2; exit 2; }

D=$(mktemp -d /tmp/kumo-guest-smoke.XXXXXX)
QPID= CPID=
cleanup() {
	local rc=$?
	for p in $QPID $CPID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$D"
	exit "$rc"
}
trap cleanup EXIT

fail() {
	echo "smoke: FAIL: $*" >&2
	[ -f "$D/console.log" ] && { echo "---- console.log" >&2; tr -d '\r' <"$D/console.log" | sed 's/\x1b[^a-zA-Z]*[a-zA-Z]//g' >&2; }
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { tr -d '\r' 2>/dev/null <"$D/console.log"; }
# alive: QEMU runs (a zombie answers kill -0, so read its state).
alive() { [ -n "$QPID" ] && grep -q '^State:[[:space:]]*[^Z]' "/proc/$QPID/status" 2>/dev/null; }

# wait_for PATTERN SECS: until the console log has a line matching PATTERN.
wait_for() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		log | grep -qE "$1" && return 0
		alive || { log | grep -qE "$1"; return; }
		sleep 0.2
	done
	return 1
}
expect() { log | grep -qE "$1" || fail "missing console line: $1"; }

UUID=6a1c0d64-2c4b-4bd5-9d0f-9e3f0f6d1c2a
MAC=fa:16:3e:12:34:56
mkdir -p "$D/cd/openstack/latest"
cat >"$D/cd/openstack/latest/meta_data.json" <<EOF
{"uuid": "$UUID", "name": "smoke vm", "hostname": "smoke-host", "launch_index": 0,
 "availability_zone": "nova", "project_id": "p1", "devices": [],
 "keys": [{"name": "k1", "type": "ssh", "data": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKumoSmokeKeyOne k1@smoke\\n"}],
 "public_keys": {"k1": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKumoSmokeKeyOne k1@smoke\\n",
                 "k2": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQKumoSmokeKeyTwo k2@smoke"}}
EOF
cat >"$D/cd/openstack/latest/user_data" <<'EOF'
#!/bin/sh
echo "hello from $(hostname)"
echo "keys $(wc -l </root/.ssh/authorized_keys)"
exit 3
EOF
genisoimage -quiet -R -J -V config-2 -o "$D/cfg.iso" "$D/cd"

# start ARGS...: boots the overlay with a QMP monitor on FIFOs ($D/qmp.in/out).
start() {
	rm -f "$D/console.log" "$D/qmp.in" "$D/qmp.out"
	mkfifo "$D/qmp.in" "$D/qmp.out"
	qemu-system-x86_64 -machine pc -accel tcg -m 128 -smp 1 \
		-nodefaults -no-user-config -display none \
		-blockdev "{\"driver\":\"file\",\"filename\":\"$D/disk.qcow2\",\"node-name\":\"root-file\"}" \
		-blockdev '{"driver":"qcow2","file":"root-file","node-name":"root"}' \
		-device virtio-blk-pci,drive=root,bootindex=0 \
		-serial "file:$D/console.log" \
		-chardev "pipe,id=qmp,path=$D/qmp" -mon chardev=qmp,mode=control \
		"$@" 2>"$D/qemu.err" &
	QPID=$!
	# Read-write opens of the FIFOs never block, even if QEMU failed to start;
	# qmp.out is drained so that QEMU never blocks writing replies.
	exec 3<>"$D/qmp.in"
	cat <>"$D/qmp.out" >"$D/qmp.log" &
	CPID=$!
	echo '{"execute":"qmp_capabilities"}' >&3
}

# powerdown: ACPI power button, then the guest must say so and QEMU exit.
powerdown() {
	local t0
	t0=$(now)
	echo '{"execute":"system_powerdown"}' >&3
	wait_for '^KUMO-GUEST-POWEROFF' 30 || fail "no KUMO-GUEST-POWEROFF within 30 s of system_powerdown"
	expect 'acpi: power button$'
	local end=$((SECONDS + 30))
	while alive && [ $SECONDS -lt $end ]; do sleep 0.2; done
	alive && fail "QEMU still running 30 s after system_powerdown"
	wait "$QPID" || true
	kill "$CPID" 2>/dev/null && { wait "$CPID" 2>/dev/null || true; }
	QPID= CPID=
	exec 3>&-
	echo "smoke:   powered off by ACPI in $(since "$t0") s"
}

boot() {
	local name=$1 t0
	shift
	t0=$(now)
	start "$@"
	wait_for '^KUMO-GUEST-READY' "$TIMEOUT" || fail "$name: no KUMO-GUEST-READY within $TIMEOUT s ($(cat "$D/qemu.err"))"
	echo "smoke: $name: READY after $(since "$t0") s: $(log | grep '^KUMO-GUEST-READY' | tail -n1)"
}

qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE" "$D/disk.qcow2"

boot "1 bare" -nic none
expect '^config_drive: none$'
expect '^KUMO-GUEST-READY instance-id=none hostname=kumo-guest boot=1 mem_kb=[0-9]+ cpus=1 ip=none uptime=[0-9.]+$'
powerdown

boot "2 iso+dhcp" \
	-blockdev "{\"driver\":\"file\",\"filename\":\"$D/cfg.iso\",\"node-name\":\"cfg-file\",\"read-only\":true}" \
	-blockdev '{"driver":"raw","file":"cfg-file","node-name":"cfg","read-only":true}' -device ide-cd,drive=cfg \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=$MAC
expect '^config_drive: hostname=smoke-host keys=2$'
expect '^user_data: hello from smoke-host$'
expect '^user_data: keys 2$'
expect '^user_data exit=3$'
expect "^KUMO-GUEST-READY instance-id=$UUID hostname=smoke-host boot=2 mem_kb=[0-9]+ cpus=1 ip=10\\.0\\.2\\.15 uptime=[0-9.]+\$"
powerdown

# Third boot: vfat drive on virtio, static IPv4 for the NIC's MAC.
cat >"$D/cd/openstack/latest/network_data.json" <<EOF
{"links": [{"id": "tap0", "type": "bridge", "ethernet_mac_address": "$MAC", "mtu": 1450, "vif_id": "v0"}],
 "networks": [{"id": "network0", "type": "ipv4", "link": "tap0", "ip_address": "10.0.2.77",
   "netmask": "255.255.255.0", "network_id": "n0",
   "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.2.2"}]}],
 "services": [{"type": "dns", "address": "10.0.2.3"}]}
EOF
mkfs.fat -n config-2 -C "$D/cfg.vfat" 4096 >/dev/null 2>&1
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$D/cfg.vfat" "$D/cd/openstack" ::
boot "3 vfat+static" \
	-drive "file=$D/cfg.vfat,if=virtio,format=raw,readonly=on" \
	-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=$MAC
expect '^config_drive: hostname=smoke-host keys=2$'
expect '^net: eth0 static 10\.0\.2\.77/24$'
expect "^KUMO-GUEST-READY instance-id=$UUID hostname=smoke-host boot=3 mem_kb=[0-9]+ cpus=1 ip=10\\.0\\.2\\.77 uptime=[0-9.]+\$"
powerdown

echo "smoke: PASS"
