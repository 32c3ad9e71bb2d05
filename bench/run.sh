#!/usr/bin/env bash
# kumo's identity benchmark against the Keystone anchor (make bench).
#
# 1. builds kumo, shared/bench/loadgen and bench/kumobench;
# 2. starts kumo (default config: bcrypt cost 12, SQLite, log level info)
#    on a free port offset in a temp dir, timing the first start (empty
#    data dir) and a restart on that data (what the anchors' cold start is);
# 3. samples memory after IDLE_WAIT (15 s) idle: loadgen mem and VmRSS;
# 4. runs loadgen's keystone workloads (token-issue, token-validate at
#    concurrency 1, 8, 32; 10 s each) with -pids for server CPU;
# 5. runs kumobench rescope (token-method auth at 1, 8, 32) against kumo,
#    and against the Keystone anchor when it is up on 127.0.0.1:5000 (it is
#    only read: never started or stopped here);
# 6. runs kumobench image against kumo's image API (catalog type "image"):
#    a 1 GiB random file read with cat (the ceiling, best of 3), uploaded
#    (PUT /v2/images/{id}/file) and downloaded (GET) best of 3 each; then
#    10,000 metadata-only images, GET /v2/images?limit=25 (2,000 requests
#    at concurrency 8, p50/p99) and a paged walk with limit=1000;
# 7. when Debian's glance-api (bench/glance/setup.sh, start.sh) answers on
#    GLANCE_URL beside the Keystone anchor, runs the same kumobench image
#    against it (its list images deleted afterwards) in this session;
# 8. prints loadgen's side-by-side table, kumobench's ratios, the image
#    table and, with glance, the kumo/glance image ratios.
#
# Results: bench/results/kumo-<date>.jsonl (and keystone-rescope-<date>.jsonl).
# Knobs: SHARED, ANCHOR_RUN, IDLE_WAIT, DURATION, CONCURRENCY, OUT, KUMO_BIN,
# COMPUTE_BENCH (0 skips bench/compute.sh), SWIFT_BENCH (0 skips bench/swift.sh),
# IMAGE_BENCH (0 skips the image part), IMAGE_SIZE_MIB (1024), IMAGE_COUNT
# (10000), GLANCE_URL (http://127.0.0.1:9393; "" or GLANCE_BENCH=0 skips
# glance).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-../shared}
SHARED=$(cd "$SHARED" && pwd)
LOADGEN_SRC=$SHARED/bench/loadgen
ANCHORS_FILE=${ANCHORS_FILE:-$SHARED/bench/results/anchors-2026-11-21.jsonl}
# The anchors' default configuration (MariaDB, memcached cache on).
ANCHOR_RUN=${ANCHOR_RUN:-anchors-20261121T093717}
IDLE_WAIT=${IDLE_WAIT:-15}
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-1,8,32}
IMAGE_BENCH=${IMAGE_BENCH:-1}
IMAGE_SIZE_MIB=${IMAGE_SIZE_MIB:-1024}
IMAGE_COUNT=${IMAGE_COUNT:-10000}
GLANCE_URL=${GLANCE_URL-http://127.0.0.1:9393}
GLANCE_BENCH=${GLANCE_BENCH:-1}
DATE=$(date -u +%F)
RUN=kumo-$(date -u +%Y%m%dT%H%M%S)
mkdir -p bench/results build/bench
OUT=${OUT:-$ROOT/bench/results/kumo-$DATE.jsonl}
KS_OUT=${KS_OUT:-$ROOT/bench/results/keystone-rescope-$DATE.jsonl}
KUMO_BIN=${KUMO_BIN:-$ROOT/bin/kumo}
GO=${GO:-go}
export PATH=/usr/local/go/bin:$PATH

say() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

[ -x "$KUMO_BIN" ] || "$GO" build -o "$KUMO_BIN" ./cmd/kumo
say "building loadgen ($LOADGEN_SRC) and kumobench"
(cd "$LOADGEN_SRC" && "$GO" build -o "$ROOT/build/bench/loadgen" .)
"$GO" build -o build/bench/kumobench ./bench/kumobench
LOADGEN=$ROOT/build/bench/loadgen
KUMOBENCH=$ROOT/build/bench/kumobench

. "$ROOT/scripts/kumo-proc.sh"

TMP=$(mktemp -d /tmp/kumo-bench.XXXXXX)
KUMO_PID=
cleanup() {
	stop_kumo
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# tag adds run and target to loadgen's coldstart line.
tag() { sed -e "s/^{/{\"run\":\"$RUN\",\"target\":\"kumo\",/"; }

OFFSET=$(pick_offset) || { say "no free port offset"; exit 2; }
PORT=$((5000 + OFFSET))
PASSWORD=bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
KUMO_VERSION=$("$KUMO_BIN" version)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
printf '{"ts":"%s","run":"%s","target":"kumo","workload":"machine","cpu_model":"%s","nproc":%d,"mem_total_kib":%d,"kernel":"%s","os":"%s","kumo_version":"%s","go":"%s","kumo_db":"sqlite","bcrypt_cost":12,"log_level":"info","port":%d,"loadavg":"%s"}\n' \
	"$(date -u +%FT%TZ)" "$RUN" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$(nproc)" \
	"$(awk '/MemTotal/ {print $2}' /proc/meminfo)" "$(uname -r)" "$(. /etc/os-release && echo "$PRETTY_NAME")" \
	"$KUMO_VERSION" "$("$GO" env GOVERSION)" "$PORT" "$LOADAVG" | tee -a "$OUT"

start_kumo() { # $1: service label for the coldstart line
	local line
	line=$("$LOADGEN" coldstart -url "http://127.0.0.1:$PORT/v3" -name "$1" -pidfile "$TMP/kumo.pid" \
		-log "$TMP/kumo.log" -timeout 60s -- \
		"$KUMO_BIN" up --data-dir "$TMP/data" --port-offset "$OFFSET" --admin-password "$PASSWORD") || {
		say "kumo did not start:"
		cat "$TMP/kumo.log" >&2
		exit 1
	}
	KUMO_PID=$(cat "$TMP/kumo.pid")
	echo "$line" | tag | tee -a "$OUT"
}

say "first start of kumo on 127.0.0.1:$PORT (empty data dir)"
start_kumo kumo-first-start
stop_kumo
say "restart on the same data (cold start)"
start_kumo kumo
echo "kumo $KUMO_PID" >"$TMP/pids"

say "idle for ${IDLE_WAIT} s"
sleep "$IDLE_WAIT"
VMRSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$KUMO_PID/status")
# VmRSS as the kernel reports it, next to loadgen's own memory sample.
printf '{"ts":"%s","run":"%s","target":"kumo","workload":"memory","label":"idle-vmrss","source":"/proc/%d/status VmRSS","processes":1,"rss_kib":%d,"idle_s":%d}\n' \
	"$(date -u +%FT%TZ)" "$RUN" "$KUMO_PID" "$VMRSS" "$IDLE_WAIT" | tee -a "$OUT"
"$LOADGEN" mem -pids "$TMP/pids" -label idle -target kumo -run "$RUN" -out "$OUT"

set -a
# shellcheck disable=SC1091
. "$TMP/data/openrc"
set +a
say "loadgen keystone workloads (token-issue, token-validate)"
"$LOADGEN" -workloads token-issue,token-validate -concurrency "$CONCURRENCY" -duration "$DURATION" \
	-target kumo -run "$RUN" -out "$OUT" -pids "$TMP/pids" -max-runtime 10m
"$LOADGEN" mem -pids "$TMP/pids" -label after-load -target kumo -run "$RUN" -out "$OUT"

say "kumobench rescope against kumo"
"$KUMOBENCH" rescope -concurrency "$CONCURRENCY" -duration "$DURATION" -pids "$TMP/pids" \
	-target kumo -run "$RUN" -out "$OUT"

# The image service (issue 3): a 1 GiB file read by cat (the ceiling), then
# uploaded and downloaded through /v2/images/{id}/file; then 10,000
# metadata-only images and the list latency. The file and the image data
# live under $TMP (about 3 GiB at the peak), removed on exit.
IMAGE_TABLE=
if [ "$IMAGE_BENCH" != 0 ]; then
	say "kumobench image against kumo (${IMAGE_SIZE_MIB} MiB file, ${IMAGE_COUNT} images)"
	IMAGE_TABLE=$TMP/image-table.md
	"$KUMOBENCH" image -size-mib "$IMAGE_SIZE_MIB" -repeat 3 -dir "$TMP" -images "$IMAGE_COUNT" \
		-create-concurrency 8 -list-requests 2000 -list-concurrency 8 -max-runtime 20m \
		-pids "$TMP/pids" -target kumo -run "$RUN" -out "$OUT" -table "$IMAGE_TABLE" ||
		say "kumobench image failed (status $?); see above"
fi
stop_kumo

# Debian's glance-api (issue 3): only read, never started or stopped here
# (bench/glance/ sets it up beside the Keystone anchor). Same workload,
# same client, right after kumo's.
GLANCE_TABLE=
GLANCE_RUN=glance-$(date -u +%Y%m%dT%H%M%S)
if [ "$IMAGE_BENCH" != 0 ] && [ "$GLANCE_BENCH" != 0 ] && [ -n "$GLANCE_URL" ]; then
	g_code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 "$GLANCE_URL/" || true)
	if [ "$g_code" = 300 ]; then
		say "glance-api answers on $GLANCE_URL: kumobench image against it"
		GLANCE_TABLE=$TMP/glance-table.md
		. "$ROOT/bench/glance/config.env"
		g_pid=$(cat "$GLANCE_STATE_DIR/run/glance-api.pid" 2>/dev/null || true)
		# Server CPU: glance-api and what it leans on (kumo's figure holds its
		# in-process SQLite and token validation too).
		[ -n "$g_pid" ] && { echo "glance-api $g_pid"; grep -E '^(keystone|mariadb|memcached) ' "$SHARED/bench/anchors/pids" 2>/dev/null; } >"$TMP/glance-pids"
		(
			# shellcheck disable=SC1091
			. "$SHARED/bench/anchors/config.env"
			export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD \
				OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
			"$KUMOBENCH" image -endpoint "$GLANCE_URL" -cleanup -size-mib "$IMAGE_SIZE_MIB" -repeat 3 -dir "$TMP" \
				-images "$IMAGE_COUNT" -create-concurrency 8 -list-requests 2000 -list-concurrency 8 -max-runtime 30m \
				${g_pid:+-pids "$TMP/glance-pids"} -target glance -run "$GLANCE_RUN" -out "$OUT" -table "$GLANCE_TABLE"
		) || say "kumobench image against glance failed (status $?); see above"
	else
		say "no glance-api on $GLANCE_URL (HTTP '$g_code'): no glance figures (bench/glance/README in bench/README.md)"
	fi
fi

# The Keystone anchor, only if it is up (it belongs to shared/bench/anchors).
KS_ARGS=()
ANCHOR_DIR=$SHARED/bench/anchors
ks_code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 http://127.0.0.1:5000/v3 || true)
ks_pid=$(awk '$1 == "keystone" {print $2}' "$ANCHOR_DIR/pids" 2>/dev/null || true)
if [ "$ks_code" = 200 ] && [ -n "$ks_pid" ] && grep -q uwsgi "/proc/$ks_pid/comm" 2>/dev/null; then
	say "Keystone anchor is up on :5000 (uwsgi pid $ks_pid): kumobench rescope against it"
	(
		if [ -f "$ANCHOR_DIR/openrc" ]; then
			set -a
			# shellcheck disable=SC1091
			. "$ANCHOR_DIR/openrc"
			set +a
		else
			# shellcheck disable=SC1091
			. "$ANCHOR_DIR/config.env"
			export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD \
				OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
		fi
		"$KUMOBENCH" rescope -concurrency "$CONCURRENCY" -duration "$DURATION" -pids "$ANCHOR_DIR/pids" \
			-target keystone-anchor -run "keystone-rescope-$(date -u +%Y%m%dT%H%M%S)" -out "$KS_OUT"
	)
	KS_ARGS=(-keystone-rescope "$KS_OUT")
elif [ -f "$KS_OUT" ]; then
	say "Keystone anchor not up on :5000; using the earlier rescope run in $KS_OUT"
	KS_ARGS=(-keystone-rescope "$KS_OUT")
else
	say "Keystone anchor not up on :5000 (HTTP '$ks_code'): no Keystone rescope figures"
fi

echo
echo "## loadgen table -compare ($ANCHOR_RUN vs $RUN)"
echo
"$LOADGEN" table -in "$ANCHORS_FILE,$OUT" -run "$ANCHOR_RUN,$RUN" -compare
"$KUMOBENCH" summary -anchors "$ANCHORS_FILE" -anchor-run "$ANCHOR_RUN" -kumo "$OUT" -kumo-run "$RUN" "${KS_ARGS[@]}"
if [ -n "$IMAGE_TABLE" ] && [ -f "$IMAGE_TABLE" ]; then
	echo
	cat "$IMAGE_TABLE"
fi
if [ -n "$GLANCE_TABLE" ] && [ -f "$GLANCE_TABLE" ]; then
	echo
	cat "$GLANCE_TABLE"
	echo
	"$KUMOBENCH" imagecompare -in "$OUT" -kumo-run "$RUN" -glance-run "$GLANCE_RUN" || true
fi
# The compute service: bench/compute.sh starts its own kumos (the QEMU
# driver for the boot part, simulated hosts for the others) and appends
# to bench/results/kumo-compute-<date>.jsonl. COMPUTE_BENCH=0 skips it.
if [ "${COMPUTE_BENCH:-1}" != 0 ]; then
	say "compute benchmarks (bench/compute.sh, about 2 minutes)"
	KUMO_BIN=$KUMO_BIN KUMOBENCH=$KUMOBENCH "$ROOT/bench/compute.sh" ||
		say "bench/compute.sh failed (status $?); see above"
fi
# The object store (issue 4): bench/swift.sh starts its own kumo and, when
# the Swift anchor is up on 127.0.0.1:8080, measures it in the same session
# (never starting or stopping it); appends to
# bench/results/kumo-swift-<date>.jsonl. SWIFT_BENCH=0 skips it.
if [ "${SWIFT_BENCH:-1}" != 0 ]; then
	say "object store benchmarks (bench/swift.sh, about 10 minutes)"
	KUMO_BIN=$KUMO_BIN LOADGEN=$LOADGEN KUMOBENCH=$KUMOBENCH "$ROOT/bench/swift.sh" ||
		say "bench/swift.sh failed (status $?); see above"
fi
say "results appended to $OUT"
