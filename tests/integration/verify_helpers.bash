# Helpers of verify.bats: a loopback listener that accepts and holds
# connections, processes started in the background and killed in teardown,
# and jq queries over `owl scan --all --json`.
#
# Traffic goes only to 127.0.0.1.  Every pid started here is remembered in
# $VT/pids and killed by vt_teardown; cgroups made here are removed.

PY=/usr/bin/python3   # the packaged interpreter (root's PATH has a pyenv one)

vt_setup() {
	VT=$(mktemp -d /tmp/owlv-test.XXXXXX)
	mkdir -m 700 "$VT/cache"
	export OWL_DIGEST_CACHE="$VT/cache/digests"
	: >"$VT/pids"
	: >"$VT/cgroups"
	: >"$VT/mounts"
	vt_listen
}

vt_teardown() {
	local p
	if [ -n "${VT:-}" ] && [ -f "$VT/pids" ]; then
		while read -r p; do
			[ -n "$p" ] && kill -9 "$p" 2>/dev/null
		done <"$VT/pids"
		sleep 0.2
		while read -r p; do
			[ -n "$p" ] && rmdir "$p" 2>/dev/null
		done <"$VT/cgroups"
		while read -r p; do
			[ -n "$p" ] && umount "$p" 2>/dev/null
		done <"$VT/mounts"
		[ -f "$VT/rmdirs" ] && while read -r p; do
			rm -rf "$p"
		done <"$VT/rmdirs"
		[ -f "$VT/altnames" ] && while read -r p; do
			update-alternatives --altdir "$VT/alt" --admindir "$VT/admin" --remove-all "$p" >/dev/null 2>&1
		done <"$VT/altnames"
		rm -rf "$VT"
	fi
}

# A listener on 127.0.0.1 that accepts and keeps every connection, never
# sending a byte.  Sets PORT.
vt_listen() {
	$PY -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept())
' >"$VT/port" 2>/dev/null &
	echo $! >>"$VT/pids"
	local i
	for i in $(seq 50); do
		[ -s "$VT/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$VT/port")
	[ -n "$PORT" ]
}

# Start a command in the background (stdin from /dev/null unless the
# command redirects it); its pid is BGPID.
vt_bg() {
	"$@" </dev/null >/dev/null 2>&1 &
	BGPID=$!
	echo "$BGPID" >>"$VT/pids"
}

# The JSON records of owl scan --all --json that belong to pid $1 and go to
# our listener; waits up to 10 s for the connection to show.
vt_record() {
	local pid=$1 i out
	for i in $(seq 40); do
		out=$("$OWL" scan --all --json 2>/dev/null | jq -c --argjson pid "$pid" --argjson port "$PORT" \
			'select(.process.pid == $pid and .destination.port == $port)' | head -1)
		if [ -n "$out" ]; then
			REC=$out
			return 0
		fi
		sleep 0.25
	done
	echo "no record for pid $pid to port $PORT" >&2
	return 1
}

# Records of any pid whose process.name or args match, to the listener.
vt_record_where() {
	local filter=$1 i out
	for i in $(seq 40); do
		out=$("$OWL" scan --all --json 2>/dev/null | jq -c --argjson port "$PORT" \
			"select(.destination.port == \$port) | select($filter)" | head -1)
		if [ -n "$out" ]; then
			REC=$out
			return 0
		fi
		sleep 0.25
	done
	echo "no record matching $filter" >&2
	return 1
}

# Finding ids of $REC, one per line.
vt_ids() {
	jq -r '.owl.findings[].id' <<<"$REC"
}

vt_has() {
	if ! vt_ids | grep -qx "$1"; then
		echo "expected finding $1 in: $(jq -c '.owl.findings' <<<"$REC")" >&2
		return 1
	fi
}

vt_severity() { # id
	jq -r --arg id "$1" '.owl.findings[] | select(.id == $id) | .severity' <<<"$REC"
}

# None of verify's findings.
vt_clean() {
	local bad
	bad=$(vt_ids | grep -xE 'exe-deleted|exe-memfd|exe-writable-location|exe-unpackaged|exe-modified|name-mismatch|preload|reverse-shell|network-tool|unit-unpackaged' || true)
	if [ -n "$bad" ]; then
		echo "unexpected findings: $(jq -c '.owl.findings' <<<"$REC")" >&2
		return 1
	fi
}

vt_field() {
	jq -r "$1" <<<"$REC"
}

# Move pid $1 into the name=systemd cgroup $2 (e.g. system.slice/x.service).
vt_cgroup() {
	local d=/sys/fs/cgroup/systemd/$2
	mkdir -p "$d"
	echo "$d" >>"$VT/cgroups"
	echo "${d%/*}" >>"$VT/cgroups"
	echo "$1" >"$d/cgroup.procs"
}
