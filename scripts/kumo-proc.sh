# Shell helpers shared by scripts that start a throw-away kumo
# (scripts/conformance.sh, bench/run.sh). Source it; it defines:
#   pick_offset   print a port offset under which every standard port is free
#   stop_kumo     SIGTERM $KUMO_PID, SIGKILL after 30 s, then forget it
# KUMO_PID is the caller's; stop_kumo reports through the caller's `say`.

port_in_use() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pick_offset() {
	local off p busy
	for _ in $(seq 1 100); do
		off=$((11000 + RANDOM % 11000))
		busy=0
		for p in 5000 6200 6201 6202 8004 8080 8774 8776 8778 9292 9696; do
			if port_in_use $((p + off)); then busy=1; break; fi
		done
		[ $busy = 0 ] && { echo "$off"; return 0; }
	done
	return 1
}

stop_kumo() {
	[ -n "${KUMO_PID:-}" ] || return 0
	kill -TERM "$KUMO_PID" 2>/dev/null || true
	for _ in $(seq 1 300); do
		kill -0 "$KUMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$KUMO_PID" 2>/dev/null; then
		say "kumo (pid $KUMO_PID) did not stop within 30 s of SIGTERM; killing it"
		kill -KILL "$KUMO_PID" 2>/dev/null || true
	fi
	wait "$KUMO_PID" 2>/dev/null || true
	KUMO_PID=
}
