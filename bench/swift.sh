#!/usr/bin/env bash
# kumo's object store against Debian Swift (issue 4), from make bench
# (bench/run.sh calls it; SWIFT_BENCH=0 skips it there).
#
# 1. builds kumo, shared/bench/loadgen and bench/kumobench if missing;
# 2. starts its own kumo with the default configuration (3 devices,
#    3 replicas, every object fsynced before the answer) on a free port
#    offset in a temp dir, its consistency daemons held off as the anchors'
#    are (KUMO_DAEMONS);
# 3. runs loadgen's swift workloads with -pids (server CPU per step):
#    4 KiB PUT/GET/HEAD/DELETE at concurrency 1, 8, 32; 64 MiB PUT/GET at
#    1 and 4; full listings of a 10,000-object container;
# 4. when the Swift anchor answers on 127.0.0.1:8080 and shared/bench's
#    anchors/pids names its swift-proxy, runs the same workloads against it
#    right after, in this session (the anchors are only read: never started
#    or stopped here); otherwise compares with the recorded anchor run
#    ANCHOR_RUN in ANCHORS_FILE;
# 5. prints kumobench swiftcompare: kumo/Swift ratios against the goals
#    (4 KiB >= 10x ops/s, 64 MiB >= 2x MB/s, listing >= 5x), CPU ms/op.
#
# Results: bench/results/kumo-swift-<date>.jsonl (both runs, with a
# machine line holding the load average before and after each).
# Knobs: SHARED, ANCHORS_FILE, ANCHOR_RUN, OUT, KUMO_BIN, LOADGEN,
# KUMOBENCH, SWIFT_ANCHOR (0: never measure the live anchor), KUMO_DAEMONS
# (1: kumo's replicators, updaters, expirer and auditor at their defaults),
# LOADGEN_ARGS (extra loadgen flags, e.g. "-duration 2s -large-duration 4s"),
# WORKLOADS (loadgen workloads, default swift-small,swift-large,swift-list),
# BENCH_DIR (where kumo's temporary data dir is made; default /srv, beside
# the anchor's /srv/node).
# Takes about 10 minutes with the anchor (5 without); needs about 2 GiB
# free under BENCH_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-../shared}
SHARED=$(cd "$SHARED" && pwd)
ANCHOR_DIR=$SHARED/bench/anchors
ANCHORS_FILE=${ANCHORS_FILE:-$SHARED/bench/results/anchors-2026-11-21.jsonl}
ANCHOR_RUN=${ANCHOR_RUN:-anchors-20261121T093717}
SWIFT_ANCHOR=${SWIFT_ANCHOR:-1}
BENCH_DIR=${BENCH_DIR:-/srv}
DATE=$(date -u +%F)
RUN=kumo-swift-$(date -u +%Y%m%dT%H%M%S)
mkdir -p bench/results build/bench
OUT=${OUT:-$ROOT/bench/results/kumo-swift-$DATE.jsonl}
KUMO_BIN=${KUMO_BIN:-$ROOT/bin/kumo}
LOADGEN=${LOADGEN:-$ROOT/build/bench/loadgen}
KUMOBENCH=${KUMOBENCH:-$ROOT/build/bench/kumobench}
GO=${GO:-go}
export PATH=/usr/local/go/bin:$PATH
# shellcheck disable=SC2206
EXTRA=(${LOADGEN_ARGS:-})
WORKLOADS=${WORKLOADS:-swift-small,swift-large,swift-list}

say() { echo "[swift-bench $(date +%H:%M:%S)] $*" >&2; }

[ -x "$KUMO_BIN" ] || "$GO" build -o "$KUMO_BIN" ./cmd/kumo
[ -x "$LOADGEN" ] || (cd "$SHARED/bench/loadgen" && "$GO" build -o "$LOADGEN" .)
[ -x "$KUMOBENCH" ] || "$GO" build -o "$KUMOBENCH" ./bench/kumobench

. "$ROOT/scripts/kumo-proc.sh"

# kumo's data lives beside the anchor's /srv/node by default, on the same
# file system but away from /tmp: this root ext4 has no journal, so each new
# inode costs a scan of the recently freed ones, and /tmp's churn (every
# test's temp files) made that scan cost 0.2-0.4 ms per file there against
# 0.02 ms elsewhere (H31, 2026-11-21): the same per-file work Swift's
# servers do in /srv/node.
mkdir -p "$BENCH_DIR"
TMP=$(mktemp -d "$BENCH_DIR/kumo-swift-bench.XXXXXX")
KUMO_PID=
cleanup() {
	stop_kumo
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# machine prints a machine line for run $1 / target $2 / label $3.
machine() {
	printf '{"ts":"%s","run":"%s","target":"%s","workload":"machine","label":"%s","cpu_model":"%s","nproc":%d,"kernel":"%s","loadavg":"%s"%s}\n' \
		"$(date -u +%FT%TZ)" "$1" "$2" "$3" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
		"$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" "${4:-}" | tee -a "$OUT"
}

# The anchors run only the four Swift servers, no consistency daemons
# (replicators, updaters, expirer, auditor); kumo's node runs them every
# 30 s by default. Their passes are pushed past the run's end so that both
# sides do the same work per request; KUMO_DAEMONS=1 keeps kumo's defaults.
DAEMONS=defaults
if [ "${KUMO_DAEMONS:-0}" = 0 ]; then
	export KUMO_OBJECT_STORE_UPDATER_INTERVAL=3h KUMO_OBJECT_STORE_REPLICATION_INTERVAL=3h \
		KUMO_OBJECT_STORE_AUDIT_INTERVAL=3h
	DAEMONS="off (intervals 3h, as the anchors)"
fi

OFFSET=$(pick_offset) || { say "no free port offset"; exit 2; }
PASSWORD=bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
machine "$RUN" kumo start ",\"kumo_version\":\"$("$KUMO_BIN" version)\",\"replicas\":3,\"devices\":3,\"port_offset\":$OFFSET,\"daemons\":\"$DAEMONS\""
say "starting kumo (default config) on port offset $OFFSET"
line=$("$LOADGEN" coldstart -url "http://127.0.0.1:$((5000 + OFFSET))/v3" -name kumo -pidfile "$TMP/kumo.pid" \
	-log "$TMP/kumo.log" -timeout 60s -- \
	"$KUMO_BIN" up --data-dir "$TMP/data" --port-offset "$OFFSET" --admin-password "$PASSWORD") || {
	say "kumo did not start:"
	cat "$TMP/kumo.log" >&2
	exit 1
}
KUMO_PID=$(cat "$TMP/kumo.pid")
echo "$line" | sed -e "s/^{/{\"run\":\"$RUN\",\"target\":\"kumo\",/" >>"$OUT"
echo "kumo $KUMO_PID" >"$TMP/pids"
# The object store answers once the node is up (kumo ready covers it).
for _ in $(seq 1 100); do
	curl -s -o /dev/null -m 2 "http://127.0.0.1:$((8080 + OFFSET))/healthcheck" && break
	sleep 0.2
done

say "loadgen $WORKLOADS against kumo"
(
	set -a
	# shellcheck disable=SC1091
	. "$TMP/data/openrc"
	set +a
	"$LOADGEN" -workloads "$WORKLOADS" -target kumo -run "$RUN" -out "$OUT" -pids "$TMP/pids" \
		-max-runtime 20m "${EXTRA[@]}" >/dev/null
)
machine "$RUN" kumo end
stop_kumo

# The Swift anchor: only read, never started or stopped here.
SWIFT_FILE=$ANCHORS_FILE
SWIFT_RUN_ID=$ANCHOR_RUN
code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:8080/healthcheck || true)
proxy_pid=$(awk '$1 == "swift-proxy" {print $2}' "$ANCHOR_DIR/pids" 2>/dev/null || true)
if [ "$SWIFT_ANCHOR" != 0 ] && [ "$code" = 200 ] && [ -n "$proxy_pid" ] && kill -0 "$proxy_pid" 2>/dev/null &&
	[ -f "$ANCHOR_DIR/openrc" ]; then
	SWIFT_RUN_ID=swift-anchor-$(date -u +%Y%m%dT%H%M%S)
	SWIFT_FILE=$OUT
	say "Swift anchor up on :8080 (swift-proxy pid $proxy_pid): the same workloads against it"
	machine "$SWIFT_RUN_ID" swift-anchor start
	(
		set -a
		# shellcheck disable=SC1091
		. "$ANCHOR_DIR/openrc"
		set +a
		# All anchor processes count (Keystone, MariaDB and memcached too), as
		# kumo's one process holds its identity service.
		"$LOADGEN" -workloads "$WORKLOADS" -target swift-anchor -run "$SWIFT_RUN_ID" -out "$OUT" \
			-pids "$ANCHOR_DIR/pids" -max-runtime 30m "${EXTRA[@]}" >/dev/null
	) || say "loadgen against the Swift anchor failed (status $?)"
	machine "$SWIFT_RUN_ID" swift-anchor end
else
	say "Swift anchor not measured (SWIFT_ANCHOR=$SWIFT_ANCHOR, :8080 HTTP '$code', swift-proxy pid '$proxy_pid'): comparing with the recorded run $ANCHOR_RUN"
fi

echo
echo "## kumo object store vs Debian Swift 2.30 ($RUN vs $SWIFT_RUN_ID)"
echo
"$KUMOBENCH" swiftcompare -kumo "$OUT" -kumo-run "$RUN" -swift "$SWIFT_FILE" -swift-run "$SWIFT_RUN_ID"
say "results appended to $OUT"
