#!/usr/bin/env bash
# kumo's compute benchmarks (make bench, after run.sh): each part against
# its own throw-away kumo (temp data dir, free port offset), results
# appended to bench/results/kumo-compute-<date>.jsonl.
#
# 1. boot: the real QEMU driver (default config), BOOT_COUNT (5) servers of
#    m1.nano from the test guest image (make guest-image), networks "none",
#    one after another: POST /servers (202) to ACTIVE, each deleted before
#    the next; then no QEMU of that kumo may remain;
# 2. burst: one POST of min_count=max_count=BURST_COUNT (100) on
#    BURST_HOSTS (10) simulated hosts, to the last ACTIVE (goal < 2 s),
#    BURST_REPEAT (3) times;
# 3. throughput: TP_COUNT (2000) single-instance POSTs from TP_CONCURRENCY
#    (16) clients on TP_HOSTS (1000) simulated hosts, ACTIVE instances per
#    second (goal >= 500/s), then no host over capacity (os-hypervisors);
#    then (fill, same kumo) a flavor of half a free host's RAM and 10% more
#    creates than the hosts can take, at once: at most the capacity ACTIVE,
#    the rest ERROR, no host over; and the in-process Go benchmarks
#    BenchmarkSchedule1000Hosts and BenchmarkCreate1000Hosts (the API create
#    path, single and 50 per POST: ACTIVE/s and process CPU ms per create);
# 4. list: LIST_COUNT (10000) instances on LIST_HOSTS (10) simulated hosts
#    (POSTs of min_count=100), then GET /servers and /servers/detail with
#    the default limit and limit=100 at each LIST_CONCURRENCY ("1,8": one
#    client, the latency a user sees, then 8, loaded; p50/p99, goal p99 <
#    30 ms) and paged walks with limit=1000.
# The project's unified limits are raised through Keystone (POST /v3/limits,
# system scope) by kumobench before the simulated parts.
#
# Knobs: PARTS (boot,burst,throughput,fill,gobench,list), the counts above,
# LIST_CONCURRENCY,
# GUEST_IMAGE, COMPUTE_OUT (the results file), KUMO_BIN, KUMOBENCH,
# MAX_RUNTIME (20m per part).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=/usr/local/go/bin:$PATH
GO=${GO:-go}
PARTS=${PARTS:-boot,burst,throughput,fill,gobench,list}
BOOT_COUNT=${BOOT_COUNT:-5}
BURST_COUNT=${BURST_COUNT:-100}
BURST_REPEAT=${BURST_REPEAT:-3}
BURST_HOSTS=${BURST_HOSTS:-10}
TP_COUNT=${TP_COUNT:-2000}
TP_CONCURRENCY=${TP_CONCURRENCY:-16}
TP_HOSTS=${TP_HOSTS:-1000}
LIST_COUNT=${LIST_COUNT:-10000}
LIST_HOSTS=${LIST_HOSTS:-10}
LIST_CONCURRENCY=${LIST_CONCURRENCY:-1,8}
MAX_RUNTIME=${MAX_RUNTIME:-20m}
GUEST_IMAGE=${GUEST_IMAGE:-$ROOT/build/guest/kumo-test.qcow2}
DATE=$(date -u +%F)
RUN=kumo-compute-$(date -u +%Y%m%dT%H%M%S)
mkdir -p bench/results build/bench
OUT=${COMPUTE_OUT:-$ROOT/bench/results/kumo-compute-$DATE.jsonl}
KUMO_BIN=${KUMO_BIN:-$ROOT/bin/kumo}

say() { echo "[compute-bench $(date +%H:%M:%S)] $*" >&2; }

[ -x "$KUMO_BIN" ] || "$GO" build -o "$KUMO_BIN" ./cmd/kumo
if [ -z "${KUMOBENCH:-}" ]; then
	KUMOBENCH=$ROOT/build/bench/kumobench
	"$GO" build -o "$KUMOBENCH" ./bench/kumobench
fi

. "$ROOT/scripts/kumo-proc.sh"

TMP=$(mktemp -d /tmp/kumo-compute-bench.XXXXXX)
KUMO_PID=
# kill_guests kills, by pid, the QEMU processes of this script's kumos
# (their command lines name $TMP): guests outlive kumo by design.
kill_guests() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $(cat "$d/comm" 2>/dev/null) == qemu-system* ]] || continue
		if tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qF "$TMP/"; then
			say "killing leftover QEMU pid $pid"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}
cleanup() {
	stop_kumo
	kill_guests
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_kumo NAME [YAML]: a new kumo on a fresh data dir and free offset,
# ready when /v3 answers; sets KUMO_PID, DATA and the pids file.
start_kumo() {
	local name=$1 cfg=() off
	DATA=$TMP/$name
	mkdir -p "$DATA"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" >"$DATA.yaml"
		cfg=(--config "$DATA.yaml")
	fi
	off=$(pick_offset) || { say "no free port offset"; exit 2; }
	"$KUMO_BIN" up "${cfg[@]}" --data-dir "$DATA/data" --port-offset "$off" \
		--admin-password "bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$DATA/kumo.log" 2>&1 &
	KUMO_PID=$!
	echo "kumo $KUMO_PID" >"$DATA/pids"
	for _ in $(seq 1 600); do
		[ -f "$DATA/data/openrc" ] && curl -sf -o /dev/null -m 2 "http://127.0.0.1:$((5000 + off))/v3" && return 0
		kill -0 "$KUMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "kumo ($name) did not start:"
	cat "$DATA/kumo.log" >&2
	exit 1
}

# bench PART ARGS...: kumobench compute against the running kumo.
bench() {
	local part=$1
	shift
	(
		set -a
		# shellcheck disable=SC1091
		. "$DATA/data/openrc"
		set +a
		"$KUMOBENCH" compute -part "$part" -pids "$DATA/pids" -run "$RUN" -out "$OUT" -max-runtime "$MAX_RUNTIME" "$@"
	)
}

has() { [[ ",$PARTS," == *",$1,"* ]]; }
STATUS=0

printf '{"ts":"%s","run":"%s","target":"kumo","workload":"machine","cpu_model":"%s","nproc":%d,"mem_total_kib":%d,"kernel":"%s","kumo_version":"%s","go":"%s","loadavg":"%s"}\n' \
	"$(date -u +%FT%TZ)" "$RUN" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
	"$(awk '/MemTotal/ {print $2}' /proc/meminfo)" "$(uname -r)" "$("$KUMO_BIN" version)" "$("$GO" env GOVERSION)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT"

if has boot; then
	if [ -f "$GUEST_IMAGE" ]; then
		say "boot: $BOOT_COUNT servers with the QEMU driver, one at a time"
		start_kumo boot
		bench boot -count "$BOOT_COUNT" -image-file "$GUEST_IMAGE" -data-dir "$DATA/data" || { STATUS=1; say "boot part failed"; }
		stop_kumo
		kill_guests
	else
		say "boot: no guest image $GUEST_IMAGE (make guest-image): skipped"
		STATUS=1
	fi
fi

if has burst; then
	say "burst: $BURST_REPEAT x one request for $BURST_COUNT instances on $BURST_HOSTS simulated hosts"
	start_kumo burst "$(printf 'compute:\n  driver: simulated\n  simulated_hosts: %d' "$BURST_HOSTS")"
	bench burst -count "$BURST_COUNT" -repeat "$BURST_REPEAT" || { STATUS=1; say "burst part failed"; }
	stop_kumo
fi

if has throughput || has fill; then
	start_kumo throughput "$(printf 'compute:\n  driver: simulated\n  simulated_hosts: %d' "$TP_HOSTS")"
	if has throughput; then
		say "throughput: $TP_COUNT single creates from $TP_CONCURRENCY clients on $TP_HOSTS simulated hosts"
		bench throughput -count "$TP_COUNT" -concurrency "$TP_CONCURRENCY" || { STATUS=1; say "throughput part failed"; }
	fi
	if has fill; then
		say "fill: 10% more creates than the $TP_HOSTS hosts can take, from $TP_CONCURRENCY clients"
		bench fill -per-host 2 -concurrency "$TP_CONCURRENCY" || { STATUS=1; say "fill part failed"; }
	fi
	stop_kumo
fi

if has gobench; then
	say "go test -bench BenchmarkSchedule1000Hosts ./internal/compute/scheduler/"
	"$GO" test -run '^$' -bench 'BenchmarkSchedule1000Hosts$' -benchtime 3s ./internal/compute/scheduler/ | tee "$TMP/gobench.txt"
	say "go test -bench BenchmarkCreate1000Hosts ./internal/compute/ (the API create path in process: active/s, cpu-ms/create)"
	"$GO" test -run '^$' -bench 'BenchmarkCreate1000Hosts' -benchtime "${TP_COUNT}x" ./internal/compute/ | tee -a "$TMP/gobench.txt"
	"$KUMOBENCH" compute -part gobench -in "$TMP/gobench.txt" -run "$RUN" -out "$OUT" || STATUS=1
fi

if has list; then
	say "list: $LIST_COUNT instances on $LIST_HOSTS simulated hosts, then list latency"
	start_kumo list "$(printf 'compute:\n  driver: simulated\n  simulated_hosts: %d' "$LIST_HOSTS")"
	# One pass per concurrency: the first fills the cloud, the next find
	# it full; the lines' "concurrency" field tells them apart.
	for c in ${LIST_CONCURRENCY//,/ }; do
		say "list: latency at concurrency $c"
		bench list -count "$LIST_COUNT" -concurrency 4 -list-concurrency "$c" || { STATUS=1; say "list part failed (c=$c)"; break; }
	done
	stop_kumo
fi

echo
"$KUMOBENCH" compute -part table -in "$OUT" -run "$RUN" || true
say "results appended to $OUT"
exit $STATUS
