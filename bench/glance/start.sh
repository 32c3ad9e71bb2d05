#!/bin/bash
# Start glance-api as Debian's init script does (/usr/bin/glance-api, the
# eventlet server, as user glance, --config-file), in its own session;
# prints its cold start (spawn to the first answer on /). PID in
# $GLANCE_STATE_DIR/run/glance-api.pid (stop.sh uses it).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/config.env"
PIDF=$GLANCE_STATE_DIR/run/glance-api.pid
[ -f "$GLANCE_CONF_DIR/glance-api.conf" ] || { echo "no $GLANCE_CONF_DIR/glance-api.conf: run setup.sh" >&2; exit 1; }
if [ -s "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
	echo "glance-api already running (pid $(cat "$PIDF"))"
	exit 0
fi
t0=$(date +%s%N)
setsid setpriv --reuid glance --regid glance --init-groups \
	/usr/bin/glance-api --config-file "$GLANCE_CONF_DIR/glance-api.conf" \
	>"$GLANCE_STATE_DIR/run/glance-api.out" 2>&1 </dev/null &
echo $! >"$PIDF"
for _ in $(seq 1 600); do # at most ~60 s
	code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://$GLANCE_BIND_IP:$GLANCE_PORT/" || true)
	[ "$code" = 300 ] || [ "$code" = 200 ] && break
	kill -0 "$(cat "$PIDF")" 2>/dev/null || { echo "glance-api exited:" >&2; tail -20 "$GLANCE_STATE_DIR/run/glance-api.out" "$GLANCE_STATE_DIR/run/glance-api.log" >&2; exit 1; }
	sleep 0.1
done
[ "$code" = 300 ] || [ "$code" = 200 ] || { echo "glance-api not answering on :$GLANCE_PORT (HTTP '$code')" >&2; exit 1; }
echo "glance-api started: pid $(cat "$PIDF"), http://$GLANCE_BIND_IP:$GLANCE_PORT, cold start $(( ($(date +%s%N) - t0) / 1000000 )) ms"
