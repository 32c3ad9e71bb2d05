#!/bin/bash
# Stop the glance-api that start.sh started, by its recorded PID (SIGTERM,
# SIGKILL after 30 s); its worker processes follow their parent.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/config.env"
PIDF=$GLANCE_STATE_DIR/run/glance-api.pid
[ -s "$PIDF" ] || exit 0
pid=$(cat "$PIDF")
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { echo "glance-api (pid $pid) alive after 30 s: SIGKILL"; kill -KILL "$pid"; }
	echo "stopped glance-api (pid $pid)"
fi
rm -f "$PIDF"
