#!/usr/bin/env bats
# owl watch, as root, against real sockets, real processes and real eBPF.
# Namespaces are named owlw-*, addresses come from 203.0.113.0/25 and
# 2001:db8:5::/48; the test kills only the pids it started.

HELPER="$BATS_TEST_DIRNAME/watch_helper.py"

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	: "${OWL:?set OWL to the owl binary}"
	W=$(mktemp -d /tmp/owlw.XXXXXX)
	PIDS=()
}

teardown() {
	# only jobs this shell still holds: a pid that exited may already be
	# someone else's (pid_max is 32768 here and other work forks fast)
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	for p in $(jobs -p); do wait "$p" 2>/dev/null || true; done
	for ns in $(ip netns list 2>/dev/null | awk '/^owlw-/ {print $1}'); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf /etc/netns/owlw-dns
	rm -rf "$W"
}

# start owl watch in the background; wait until its programs are attached
start_watch() { # args...
	"$OWL" watch --json --output "$W/out.json" "$@" 2>"$W/err" &
	OWLPID=$!
	PIDS+=("$OWLPID")
	for _ in $(seq 100); do
		grep -q "owl: watching" "$W/err" && return 0
		kill -0 "$OWLPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/err" >&2
	return 1
}

stop_watch() {
	kill -INT "$OWLPID"
	wait "$OWLPID"
}

# a listener in the background (prints "listening" once bound)
start_listener() { # [netns] host port
	local pre=()
	if [ $# = 3 ]; then pre=(ip netns exec "$1"); shift; fi
	"${pre[@]}" python3 "$HELPER" listen "$1" "$2" >"$W/listen.$2" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q listening "$W/listen.$2" && return 0; sleep 0.1; done
	return 1
}

ev() { # jq filter over the events
	jq -c "select(.event.kind != \"metric\") | $1" "$W/out.json"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

PY=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')

@test "watch: short-lived TCP connections are attributed to their pid and executable" {
	port=$(free_port)
	start_listener 127.0.0.1 "$port"
	start_watch
	pids=()
	for i in 1 2 3 4 5; do
		python3 "$HELPER" connect 127.0.0.1 "$port" &
		pids+=($!)
		wait $!
	done
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" &
	bashpid=$!
	wait $bashpid || true
	sleep 0.5
	stop_watch
	for p in "${pids[@]}"; do
		run ev "select(.event.action == \"connection-established\" and .process.pid == $p and .destination.port == $port) | .process.executable"
		[ "${#lines[@]}" -eq 1 ]
		[ "${lines[0]}" = "\"$PY\"" ]
		run ev "select(.event.action == \"connection-closed\" and .process.pid == $p and .destination.port == $port) | .source.bytes"
		[ "${lines[0]}" = 5 ]
	done
	run ev "select(.event.action == \"connection-established\" and .process.pid == $bashpid) | .process.executable"
	[ "${lines[0]}" = '"/usr/bin/bash"' ]
	# the listener's side: accepted, by the listener's pid
	lpid=${PIDS[1]}
	run ev "select(.event.action == \"connection-accepted\" and .source.port == $port) | .process.pid"
	[ "${#lines[@]}" -ge 6 ]
	# the summary closes the stream
	run jq -r 'select(.event.action == "watch-summary") | .owl.watch.lost' "$W/out.json"
	[ "$output" = 0 ]
}

@test "watch: IPv6, UDP and a refused port" {
	port=$(free_port)
	start_watch
	python3 "$HELPER" connect ::1 "$port" &
	p6=$!; wait $p6
	python3 "$HELPER" udp 127.0.0.1 "$port" &
	pu=$!; wait $pu
	python3 "$HELPER" connect 127.0.0.1 "$port" &
	pr=$!; wait $pr
	sleep 0.5
	stop_watch
	run ev "select(.process.pid == $p6) | [.event.action, .network.type, .destination.ip, .event.reason] | join(\" \")"
	[ "$output" = '"connection-failed ipv6 ::1 connection refused"' ]
	run ev "select(.process.pid == $pu) | [.event.action, .network.transport, .destination.ip, (.destination.port|tostring)] | join(\" \")"
	[ "$output" = "\"udp-sent udp 127.0.0.1 $port\"" ]
	run ev "select(.process.pid == $pr) | [.event.action, .event.outcome, .event.reason] | join(\" \")"
	[ "$output" = '"connection-failed failure connection refused"' ]
}

@test "watch: a connection inside another network namespace carries that namespace" {
	ip netns add owlw-ns1
	ip -n owlw-ns1 link set lo up
	ip -n owlw-ns1 addr add 203.0.113.10/32 dev lo
	ino=$(stat -L -c %i /run/netns/owlw-ns1)
	start_listener owlw-ns1 203.0.113.10 8080
	start_watch
	ip netns exec owlw-ns1 python3 "$HELPER" connect 203.0.113.10 8080 &
	pc=$!; wait $pc
	sleep 0.5
	stop_watch
	run ev "select(.process.pid == $pc and .event.action == \"connection-established\") | [.destination.ip, (.owl.netns.inode|tostring), .owl.netns.name] | join(\" \")"
	[ "$output" = "\"203.0.113.10 $ino owlw-ns1\"" ]
}

@test "watch: a DNS answer gives the later connection its destination.domain" {
	ip netns add owlw-dns
	ip -n owlw-dns link set lo up
	ip -n owlw-dns addr add 203.0.113.53/32 dev lo
	ip -n owlw-dns addr add 203.0.113.80/32 dev lo
	mkdir -p /etc/netns/owlw-dns
	echo "nameserver 203.0.113.53" >/etc/netns/owlw-dns/resolv.conf
	printf 'hosts: files dns\n' >/etc/netns/owlw-dns/nsswitch.conf
	ip netns exec owlw-dns python3 "$HELPER" dns 203.0.113.53 svc.owlw.test 203.0.113.80 >"$W/dns" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do grep -q ready "$W/dns" && break; sleep 0.1; done
	start_listener owlw-dns 203.0.113.80 8081
	start_watch
	ip netns exec owlw-dns python3 "$HELPER" resolve-connect svc.owlw.test 8081 >"$W/rc" &
	pc=$!; wait $pc
	[ "$(cat "$W/rc")" = 203.0.113.80 ]
	sleep 0.5
	stop_watch
	run ev "select(.process.pid == $pc and .event.action == \"connection-established\") | [.destination.ip, .destination.domain] | join(\" \")"
	[ "$output" = '"203.0.113.80 svc.owlw.test"' ]
	run jq -r 'select(.event.action == "watch-summary") | .owl.watch.dns_answers' "$W/out.json"
	[ "$output" -ge 1 ]
}

@test "watch: a beacon with a 1 s period is reported as beaconing" {
	port=$(free_port)
	start_listener 127.0.0.1 "$port"
	start_watch --duration 25
	python3 "$HELPER" beacon 127.0.0.1 "$port" 1 14 &
	pb=$!
	PIDS+=($pb)
	wait $pb
	wait "$OWLPID"
	run ev "select(.process.pid == $pb and (.owl.findings | map(.id) | index(\"beaconing\"))) | .owl.findings[] | select(.id == \"beaconing\") | .reason"
	[ "${#lines[@]}" -ge 1 ]
	echo "${lines[0]}" | grep -q "every 1.0 s"
	# fired within 30 s of the first connection (at the 6th to 8th)
	first=$(ev "select(.process.pid == $pb and .event.action == \"connection-established\") | .[\"@timestamp\"]" | head -1)
	fired=$(ev "select(.process.pid == $pb and (.owl.findings | map(.id) | index(\"beaconing\"))) | .[\"@timestamp\"]" | head -1)
	d=$(python3 -c "from datetime import datetime as D; f=lambda s: D.fromisoformat(s.strip('\"').replace('Z','+00:00')); print(int((f('$fired')-f('$first')).total_seconds()))")
	[ "$d" -le 30 ]
}

@test "watch: repeated failed attempts to one endpoint are reported" {
	port=$(free_port)
	start_watch
	for i in $(seq 6); do python3 "$HELPER" connect 127.0.0.1 "$port"; done
	sleep 0.5
	stop_watch
	ev "select(.destination.port == $port) | [.process.pid, .process.executable, .event.action, .owl.findings]" >&2
	run ev "select(.destination.port == $port and (.owl.findings | map(.id) | index(\"repeated-attempts\"))) | .owl.severity"
	[ "${#lines[@]}" -ge 2 ]
}

# the ids of owl's BPF programs while it runs
# (bpftool here does not list the holding pids, so: the programs with
# owl watch's names that appeared while this owl started)
OWL_PROGS='["owl_set_state","owl_sys_enter","owl_sys_exit","owl_exec","owl_exit"]'
owl_prog_ids() {
	bpftool prog show -j | jq -r --argjson n "$OWL_PROGS" '.[] | select(.name as $x | $n | index($x)) | .id' | sort
}

gone_within() { # kind id: true once `bpftool KIND show id ID` fails (within 5 s)
	for _ in $(seq 50); do
		bpftool "$1" show id "$2" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

@test "watch: no BPF program or link is left after exit, nor after SIGKILL" {
	before=$(owl_prog_ids)
	start_watch
	ids=$(comm -13 <(echo "$before") <(owl_prog_ids))
	[ "$(echo "$ids" | wc -l)" -eq 5 ]
	stop_watch
	# programs are freed after an RCU grace period
	for id in $ids; do gone_within prog "$id"; done
	before=$(owl_prog_ids)
	start_watch
	ids=$(comm -13 <(echo "$before") <(owl_prog_ids))
	[ "$(echo "$ids" | wc -l)" -eq 5 ]
	links=$(bpftool link show -j | jq -r --argjson ids "[$(echo $ids | tr ' ' ',')]" '.[] | select(.prog_id as $p | $ids | index($p)) | .id')
	[ -n "$links" ]
	kill -KILL "$OWLPID"
	wait "$OWLPID" || true
	for id in $ids; do gone_within prog "$id"; done
	for l in $links; do gone_within link "$l"; done
}

@test "watch --backend poll: sees connections that live across snapshots, says what it cannot see" {
	ip netns add owlw-poll
	ip -n owlw-poll link set lo up
	ip -n owlw-poll addr add 203.0.113.20/32 dev lo
	ip -n owlw-poll addr add 2001:db8:5::20/128 dev lo
	start_listener owlw-poll 203.0.113.20 8082
	start_watch --backend poll --interval 200
	grep -q "poll backend (sock_diag every 200 ms): it cannot see" "$W/err"
	ip netns exec owlw-poll python3 "$HELPER" connect 203.0.113.20 8082 6 &
	pc=$!
	PIDS+=($pc)
	wait $pc
	sleep 4
	stop_watch
	ino=$(stat -L -c %i /run/netns/owlw-poll)
	run ev "select(.process.pid == $pc and .event.action == \"connection-established\") | [.destination.ip, (.owl.netns.inode|tostring), .process.executable] | join(\" \")"
	[ "$output" = "\"203.0.113.20 $ino $PY\"" ]
	run ev "select(.process.pid == $pc and .event.action == \"connection-closed\") | .destination.port"
	[ "$output" = 8082 ]
	run jq -r 'select(.event.action == "watch-summary") | .owl.watch.backend' "$W/out.json"
	[ "$output" = poll ]
}

@test "watch --backend auto falls back to poll when eBPF cannot load (no BTF)" {
	# the only way to take BTF away here is a mount over it; done in a
	# private mount namespace so nothing else sees it
	command -v unshare >/dev/null || skip "unshare missing"
	run unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec '$OWL' watch --json --duration 1"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "eBPF unavailable"
	echo "$output" | grep -q '"backend":"poll"'
	run unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec '$OWL' watch --backend ebpf --duration 1"
	[ "$status" -eq 2 ]
	echo "$output" | grep -q "cannot load the eBPF programs"
}

@test "watch: events the kernel could not hand over are counted, in the stream and the summary" {
	port=$(free_port)
	start_listener 127.0.0.1 "$port"
	# a 4 KiB ring buffer holds about 25 records: a burst of 300 must overflow
	start_watch --buffer-kb 4
	python3 -c "
import socket
for i in range(300):
    s = socket.socket(); s.connect(('127.0.0.1', $port)); s.close()
"
	sleep 0.5
	stop_watch
	lost=$(jq -r 'select(.event.action == "watch-summary") | .owl.watch.lost' "$W/out.json")
	[ "$lost" -gt 0 ]
	streamed=$(jq -s '[.[] | select(.event.action == "events-lost") | .owl.lost] | add' "$W/out.json")
	[ "$streamed" = "$lost" ]
	grep -q "$lost lost" "$W/err"
}

@test "watch: a connect that gets no answer shows as attempted at once, then as failed" {
	command -v nft >/dev/null || skip "nft missing"
	ip netns add owlw-bh
	ip -n owlw-bh link set lo up
	ip -n owlw-bh addr add 203.0.113.30/32 dev lo
	# the SYNs to port 9 vanish: no RST, no answer
	ip netns exec owlw-bh nft add table ip owlw
	ip netns exec owlw-bh nft add chain ip owlw out '{ type filter hook output priority 0; }'
	ip netns exec owlw-bh nft add rule ip owlw out tcp dport 9 drop
	start_watch
	# the program gives up after 4 s (python closes the socket on timeout)
	ip netns exec owlw-bh python3 -c "
import socket
s = socket.socket(); s.settimeout(4)
try: s.connect(('203.0.113.30', 9))
except OSError: pass
s.close()" &
	pc=$!
	PIDS+=($pc)
	sleep 2.5
	# shown while still waiting, before any outcome
	run ev "select(.process.pid == $pc) | .event.action"
	[ "$output" = '"connection-attempted"' ]
	wait $pc || true
	sleep 0.5
	stop_watch
	run ev "select(.process.pid == $pc) | [.event.action, .owl.state, (.event.reason // \"\")] | join(\" \")"
	[ "${lines[0]}" = '"connection-attempted SYN-SENT "' ]
	# (state CLOSE is UNCONN, as ss names it)
	[ "${lines[1]}" = '"connection-failed UNCONN abandoned by the program"' ]
}
