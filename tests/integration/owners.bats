#!/usr/bin/env bats
# owl scan --owners: socket inode -> owning processes, from the BPF task_file
# iterator and from the /proc/PID/fd walk (issue 2, owner map).  The two
# backends must agree with each other and with ss -p on real sockets: shared
# by fork, passed with SCM_RIGHTS, held by threads, in a namespace, TIME-WAIT.
# Namespaces owlfd-*, addresses 192.0.2.112/28 and 2001:db8:b::/48.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	require_root
	netns_add owlfd-a
	netns_add owlfd-b
	veth_pair owlfd-a owlfd-va 192.0.2.113/28 owlfd-b owlfd-vb 192.0.2.114/28 2001:db8:b::1/64 2001:db8:b::2/64
	out=$(mktemp)
}

teardown() {
	cleanup_all
	rm -f "$out" "$out".*
}

# the comparisons need the iterator: skip where the kernel or the build lacks it
# (exit 2 from --owners bpf; 0 or 1 is a scan that ran)
bpf_or_skip() {
	local rc=0
	"$OWL" scan --netns owlfd-a --no-verify --owners bpf >/dev/null 2>&1 || rc=$?
	[ "$rc" -le 1 ] || skip "the BPF iterator does not run here"
}

ownerprog() { # NS MODE ARGS...
	local ns=$1
	shift
	start_bg ip netns exec "$ns" "$PY" "$HELPERS/ownerprog.py" "$@"
}

# owners BACKEND NS: one line per TCP/UDP socket of NS:
# "transport sport dport inode pids process.pid"
owners() {
	"$OWL" scan --all --json --no-verify --netns "$2" --owners "$1" |
		jq -r 'select(.network.transport == "tcp" or .network.transport == "udp") |
			"\(.network.transport) \(.source.port) \(.destination.port // 0) \(.owl.socket.inode) \(.owl.pids | sort | join(",")) \(.process.pid // 0)"' |
		sort
}

# ss_owners NS: "transport sport dport inode pids" from ss -tuanpe, sockets with an inode
ss_owners() {
	ip netns exec "$1" ss -tuanpe | awk 'NR > 1 && /ino:[1-9]/ {
		match($0, /ino:[0-9]+/); ino = substr($0, RSTART + 4, RLENGTH - 4)
		n = split($5, l, ":"); m = split($6, r, ":"); rp = r[m]; if (rp == "*") rp = 0
		s = $0; pids = ""
		while (match(s, /pid=[0-9]+/)) { pids = pids " " substr(s, RSTART + 4, RLENGTH - 4); s = substr(s, RSTART + RLENGTH) }
		print $1, l[n], rp, ino, pids }' |
		while read -r t sp dp ino pids; do
			echo "$t $sp $dp $ino $(tr ' ' '\n' <<<"$pids" | sed '/^$/d' | sort -n -u | paste -sd,)"
		done | sort
}

start_load() {
	sockprog owlfd-b tcp-listen 192.0.2.114 7000
	srv=$bg_pid
	sockprog owlfd-b tcp-listen 2001:db8:b::2 7006
	sockprog owlfd-a fork-share 192.0.2.114 7000
	fork_pids=$bg_pids
	ownerprog owlfd-a scm-pass 192.0.2.114 7000
	scm_pids=$bg_pids
	ownerprog owlfd-a scm-handoff 2001:db8:b::2 7006
	handoff_pids=$bg_pids
	ownerprog owlfd-a threads 192.0.2.114 7000 4
	thr_pid=$bg_pid
	sockprog owlfd-a udp-connect 192.0.2.114 53
	udp_pid=$bg_pid
	# TIME-WAIT on loopback inside owlfd-a: no owner
	ip netns exec owlfd-a "$PY" - <<'PY'
import socket
l = socket.socket(); l.bind(("127.0.0.1", 7100)); l.listen()
c = socket.create_connection(("127.0.0.1", 7100)); a, _ = l.accept()
c.close(); a.recv(1); a.close(); l.close()
PY
	sleep 0.2
}

@test "the BPF iterator and the /proc walk name the same owners" {
	bpf_or_skip
	start_load
	for ns in owlfd-a owlfd-b; do
		owners bpf "$ns" >"$out.bpf"
		owners proc "$ns" >"$out.proc"
		diff "$out.proc" "$out.bpf"
		[ "$(wc -l <"$out.bpf")" -ge 4 ]
	done
}

@test "owners: fork, SCM_RIGHTS, threads, UDP and TIME-WAIT, as ss -p sees them" {
	bpf_or_skip
	start_load
	for backend in bpf proc; do
		"$OWL" scan --all --json --no-verify --netns owlfd-a --owners "$backend" >"$out"
		# fork: both processes, the parent named
		read -r p c <<<"$fork_pids"
		fork_rec=$(jq -c 'select(.destination.port == 7000 and .process.pid == '"$p"')' "$out")
		[ "$(jq -r '.owl.pids | join(",")' <<<"$fork_rec")" = "$(printf '%s\n' "$p" "$c" | sort -n | paste -sd,)" ]
		# SCM_RIGHTS: sender and receiver (each once, at different fd numbers)
		read -r p c <<<"$scm_pids"
		[ "$(jq -c --argjson p "$p" --argjson c "$c" \
			'select(.destination.port == 7000 and .owl.pids == ([$p, $c] | sort) and .process.pid == ([$p, $c] | min))' "$out" | wc -l)" -eq 1 ]
		# handed off: only the receiver
		read -r p c <<<"$handoff_pids"
		[ "$(jq -c --argjson c "$c" 'select(.destination.port == 7006 and .owl.pids == [$c] and .process.pid == $c)' "$out" | wc -l)" -eq 1 ]
		# four threads, four sockets, one process named once each
		[ "$(jq -c --argjson t "$thr_pid" 'select(.destination.port == 7000 and .owl.pids == [$t])' "$out" | wc -l)" -eq 4 ]
		# UDP
		[ "$(jq -c --argjson u "$udp_pid" 'select(.network.transport == "udp" and .destination.port == 53 and .owl.pids == [$u])' "$out" | wc -l)" -eq 1 ]
		# TIME-WAIT: nobody
		[ "$(jq_count '.owl.state == "TIME-WAIT" and .owl.pids == [] and (has("process") | not)' "$out")" -ge 1 ]
	done
	# and exactly what ss -tuanp says, socket by socket
	for ns in owlfd-a owlfd-b; do
		owners bpf "$ns" | awk '$4 != 0 { print $1, $2, $3, $4, $5 }' >"$out.bpf"
		ss_owners "$ns" >"$out.ss"
		diff "$out.ss" "$out.bpf"
		[ -s "$out.ss" ]
	done
}

@test "a thread with its own file table: its process is named once" {
	bpf_or_skip
	sockprog owlfd-b tcp-listen 192.0.2.114 7000
	ownerprog owlfd-a private-files 192.0.2.114 7000
	p=$bg_pid
	sleep 0.2
	"$OWL" scan --all --json --no-verify --netns owlfd-a --owners bpf >"$out"
	# both sockets belong to the process; the first is in two file tables of
	# it (the leader's and the thread's copy) and is listed with one pid
	[ "$(jq -c --argjson p "$p" 'select(.destination.port == 7000 and .owl.pids == [$p])' "$out" | wc -l)" -eq 2 ]
	# /proc/PID/fd shows the leader's table only: the thread's own socket has no owner there
	"$OWL" scan --all --json --no-verify --netns owlfd-a --owners proc >"$out.proc"
	[ "$(jq -c --argjson p "$p" 'select(.destination.port == 7000 and .owl.pids == [$p])' "$out.proc" | wc -l)" -eq 1 ]
}

@test "--verbose says which backend served the owners, and why not the iterator" {
	run --separate-stderr "$OWL" scan --netns owlfd-a --no-verify --owners proc -v
	[ "$status" -le 1 ]
	[[ "$stderr" == *"owl: owners: /proc/PID/fd walk"*"--owners proc"* ]]
	run --separate-stderr "$OWL" scan --netns owlfd-a --no-verify -v
	[ "$status" -le 1 ]
	[[ "$stderr" == *"owl: owners: "* ]]
	if [[ "$stderr" == *"BPF task_file iterator (load "*" ms during collect, waited "*" ms; walk "*" ms"* ]]; then
		run --separate-stderr "$OWL" scan --netns owlfd-a --no-verify --owners bpf -v
		[ "$status" -le 1 ]
		[[ "$stderr" == *"owl: owners: BPF task_file iterator"* ]]
	else
		# the fallback must say why
		[[ "$stderr" == *"BPF iterator not used: "* ]]
	fi
}

@test "without privileges the iterator is refused and the /proc walk serves" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	sockprog owlfd-b tcp-listen 192.0.2.114 7000
	# auto: falls back silently (nothing about BPF without -v), with -v says why
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$OWL" scan --all --no-verify
	[ "$status" -le 1 ]
	[[ "$stderr" != *"BPF"* && "$stderr" != *"libbpf"* ]]
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$OWL" scan --all --no-verify -v
	[ "$status" -le 1 ]
	[[ "$stderr" == *"owl: owners: /proc/PID/fd walk"*"BPF iterator not used: no CAP_BPF+CAP_PERFMON"* ]]
	# root without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: refused before any load
	run --separate-stderr setpriv --inh-caps=-all --bounding-set=-bpf,-perfmon,-sys_admin "$OWL" scan --all --no-verify -v
	[ "$status" -le 1 ]
	[[ "$stderr" == *"BPF iterator not used: no CAP_BPF+CAP_PERFMON"* ]]
	# root of a user namespace: the capabilities look right, the kernel refuses the load
	if unshare --user --map-root-user true 2>/dev/null; then
		run --separate-stderr unshare --user --map-root-user "$OWL" scan --all --no-verify -v
		[ "$status" -le 1 ]
		[[ "$stderr" == *"owl: owners: /proc/PID/fd walk"*"BPF iterator not used: load: Operation not permitted"* ]]
		[[ "$stderr" != *"libbpf: "*$'\n'*"libbpf: "* ]] # libbpf's own lines are not printed, only the last, in the reason
		run --separate-stderr unshare --user --map-root-user "$OWL" scan --all --no-verify --owners bpf
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"owl: owners: BPF iterator failed: load: Operation not permitted"* ]]
	fi
	# bpf forced where it cannot run: an error, exit 2, with the reason
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$OWL" scan --all --no-verify --owners bpf
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--owners bpf"*"Operation not permitted"* ]]
}

@test "in another pid namespace the iterator is not used (its pids would be the host's)" {
	command -v unshare >/dev/null || skip "unshare missing"
	run --separate-stderr unshare --pid --fork --mount-proc "$OWL" scan --all --no-verify -v --netns owlfd-a
	[ "$status" -le 1 ]
	[[ "$stderr" == *"BPF iterator not used: not in the initial pid namespace"* ]]
	run --separate-stderr unshare --pid --fork --mount-proc "$OWL" scan --all --no-verify --owners bpf --netns owlfd-a
	[ "$status" -eq 2 ]
}

@test "--owners takes auto, bpf or proc" {
	run "$OWL" scan --owners kernel
	[ "$status" -eq 2 ]
	[[ "$output" == *"--owners: 'kernel' is not auto, bpf or proc"* ]]
	run "$OWL" scan --help
	[[ "$output" == *"--owners HOW"* ]]
}

@test "processes exiting during the iteration cause no error" {
	bpf_or_skip
	sockprog owlfd-b tcp-listen 192.0.2.114 7000
	# short-lived processes, each with a connection, for the length of the scans
	ip netns exec owlfd-a "$PY" - <<'PY' &
import os, socket, time
end = time.time() + 3
while time.time() < end:
    pid = os.fork()
    if pid == 0:
        try:
            s = socket.create_connection(("192.0.2.114", 7000), timeout=1)
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
PY
	churn=$!
	_owl_pids+=("$churn")
	# --netns: a scan of every namespace enters other suites' namespaces,
	# and their cleanup kills every process it finds inside
	for _ in $(seq 10); do
		"$OWL" scan --all --json --no-verify --owners bpf --netns owlfd-a >/dev/null
	done
	wait "$churn"
}
