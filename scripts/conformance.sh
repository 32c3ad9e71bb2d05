#!/usr/bin/env bash
# Runs Tempest's identity, image and object-storage tests (shared/conformance/run-tempest) against a
# throw-away kumo: a temp data dir, a free port offset on 127.0.0.1, and
# Keystone's [security_compliance] settings that tempest expects (lockout
# after 2 failures for 5 s, the last 2 passwords unique), so the
# security_compliance tests run too.
#
#   scripts/conformance.sh [run-tempest flags...]     (make conformance CONFORMANCE_ARGS=...)
#
# Without a selection flag it runs `--list identity --list image --list
# object_storage` (138 + 110 + 141 tests). A --regex,
# --list or --guideline among the flags replaces that list, so
#   make conformance CONFORMANCE_ARGS="--regex identity.v3.test_tokens"
# runs only that subset. Results stay in build/conformance/results/latest.
#
# COMPUTE=1 (make conformance-compute) runs Tempest's compute list instead,
# booting real guests: the test guest (make guest-image) is uploaded twice
# as image_ref and image_ref_alt; unified limits as Nova's unified-limits
# jobs; nova-network's security-group quota tests excluded. About 15 minutes
# on 2 cores.
# Exit status: run-tempest's (0 when nothing failed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-../shared}
SHARED=$(cd "$SHARED" && pwd) || { echo "conformance: shared dir not found" >&2; exit 2; }
RUN_TEMPEST=$SHARED/conformance/run-tempest
[ -x "$RUN_TEMPEST" ] || { echo "conformance: $RUN_TEMPEST not found" >&2; exit 2; }
KUMO_BIN=${KUMO_BIN:-$ROOT/bin/kumo}
[ -x "$KUMO_BIN" ] || { echo "conformance: $KUMO_BIN not built (make build)" >&2; exit 2; }
# Debian's tempest and python modules; pyenv's python3 cannot import them.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
export CONFORMANCE_WORKSPACE=${CONFORMANCE_WORKSPACE:-$ROOT/build/conformance}
mkdir -p "$CONFORMANCE_WORKSPACE"

say() { echo "conformance: $*" >&2; }
. "$ROOT/scripts/kumo-proc.sh"

TMP=$(mktemp -d /tmp/kumo-conformance.XXXXXX)
KUMO_PID=
# Guests outlive kumo by design: kill those of this run's data dir.
kill_guests() {
	local pid
	for pid in $(pgrep -f "qemu-system.*$TMP/data" || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}
cleanup() {
	kill_guests
	stop_kumo
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$TMP/kumo.yaml" <<'YAML'
# Keystone's [security_compliance] as tempest's identity tests expect it
# ([identity] user_lockout_failure_attempts, user_lockout_duration,
# user_unique_last_password_count).
identity:
  security_compliance:
    lockout_failure_attempts: 2
    lockout_duration: 5
    unique_last_password_count: 2
# Two filesystem stores, so tempest's multi-store and copy-image tests run.
image:
  enabled_backends:
    - id: fast
      default: true
    - id: cheap
YAML

OFFSET=$(pick_offset) || { echo "conformance: no free port offset" >&2; exit 2; }
PASSWORD=conf-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$KUMO_BIN" up --config "$TMP/kumo.yaml" --data-dir "$TMP/data" --port-offset "$OFFSET" \
	--admin-password "$PASSWORD" --log-level "${KUMO_LOG_LEVEL:-warn}" >"$TMP/kumo.log" 2>&1 &
KUMO_PID=$!
for _ in $(seq 1 600); do
	grep -q '^kumo ready:' "$TMP/kumo.log" && break
	kill -0 "$KUMO_PID" 2>/dev/null || { echo "conformance: kumo exited before it was ready:" >&2; cat "$TMP/kumo.log" >&2; KUMO_PID=; exit 2; }
	sleep 0.1
done
grep -q '^kumo ready:' "$TMP/kumo.log" || { echo "conformance: kumo not ready within 60 s:" >&2; cat "$TMP/kumo.log" >&2; exit 2; }
grep '^kumo ready:' "$TMP/kumo.log"

SELECT=(--list identity --list image --list object_storage)
SERVICES=identity,image,object_storage
EXTRA=()
if [ "${COMPUTE:-0}" = 1 ]; then
	GUEST=${KUMO_GUEST_IMAGE:-$ROOT/build/guest/kumo-test.qcow2}
	[ -f "$GUEST" ] || { say "$GUEST missing (make guest-image)"; exit 2; }
	ids=()
	for name in kumo-test kumo-test-alt; do
		ids+=("$(
			set -a
			. "$TMP/data/openrc"
			set +a
			openstack image create --disk-format qcow2 --container-format bare --public --file "$GUEST" "$name" -f value -c id
		)")
	done
	SELECT=(--list compute)
	SERVICES=identity,compute,image
	EXTRA=(--compute-features interop,unified_limits=true --exclude-regex QuotasSecurityGroupAdminNegativeTest
		--image-ref "${ids[0]}" --image-ref-alt "${ids[1]}" --concurrency 2 --time-limit 3600)
fi
for a in "$@"; do
	case "$a" in --regex|--regex=*|--list|--list=*|--guideline|--guideline=*) SELECT=() ;; esac
done
set +e
(
	set -a
	# shellcheck disable=SC1091
	. "$TMP/data/openrc"
	set +a
	"$RUN_TEMPEST" --services "$SERVICES" "${SELECT[@]}" "${EXTRA[@]}" \
		--identity-features trust,project_tags,application_credentials,access_rules,security_compliance \
		--set identity.user_lockout_failure_attempts=2 --set identity.user_lockout_duration=5 \
		--set identity.user_unique_last_password_count=2 \
		--set image-feature-enabled.import_image=True \
		"$@"
) | tee "$TMP/run-tempest.out"
RC=${PIPESTATUS[0]}
set -e
stop_kumo
RESULTS=$CONFORMANCE_WORKSPACE/results/latest
if [ -d "$RESULTS" ]; then
	cp "$TMP/kumo.log" "$RESULTS/kumo.log" 2>/dev/null || true
fi
echo "conformance: kumo log and tempest results in $RESULTS"
# The closing line is run-tempest's "N passed, N failed, N skipped".
tail -n 1 "$TMP/run-tempest.out"
exit "$RC"
