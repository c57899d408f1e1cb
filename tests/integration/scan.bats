#!/usr/bin/env bats
# owl scan: every socket of every namespace, mapped to its process (issue 2).
# Namespaces owlc-*, addresses 192.0.2.32/27 and 2001:db8:2::/48.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	require_root
	netns_add owlc-cli
	netns_add owlc-srv
	veth_pair owlc-cli owlc-c 192.0.2.33/27 owlc-srv owlc-s 192.0.2.34/27 2001:db8:2::1/64 2001:db8:2::2/64
	out=$(mktemp)
}

teardown() {
	cleanup_all
	rm -f "$out"
}

@test "an outbound TCP connection inside a namespace: egress, process, netns" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8443
	sockprog owlc-cli tcp-connect 192.0.2.34 8443
	sleep 0.3
	run --separate-stderr "$OWL" scan --json
	[ "$status" -le 1 ]   # 1: something else on this machine reached --fail-on
	echo "$output" >"$out"
	sel='.destination.ip == "192.0.2.34" and .destination.port == 8443 and .network.direction == "egress"'
	[ "$(jq_count "$sel" "$out")" -eq 1 ]
	rec=$(jq -c "select($sel)" "$out")
	[ "$(jq -r .process.pid <<<"$rec")" = "$bg_pid" ]
	[ "$(jq -r .process.executable <<<"$rec")" = "$(readlink /proc/$bg_pid/exe)" ]
	[ "$(jq -r '.process.args[1]' <<<"$rec")" = "$HELPERS/sockprog.py" ]
	[ "$(jq -r .owl.netns.name <<<"$rec")" = owlc-cli ]
	[ "$(jq -r .owl.netns.inode <<<"$rec")" = "$(stat -L -c %i /run/netns/owlc-cli)" ]
	[ "$(jq -r .owl.state <<<"$rec")" = ESTAB ]
	[ "$(jq -r .network.transport <<<"$rec")" = tcp ]
	[ "$(jq -r .network.type <<<"$rec")" = ipv4 ]
	[ "$(jq -r .user.name <<<"$rec")" = root ]
	[ "$(jq -r '.process.parent.pid' <<<"$rec")" = "$(awk '{print $4}' /proc/$bg_pid/stat)" ]
	[ "$(jq -r '.owl.pids | length' <<<"$rec")" = 1 ]
	# the server's accepted end is ingress, not in the default view
	[ "$(jq_count '.source.port == 8443 and .network.direction == "ingress"' "$out")" -eq 0 ]
	run "$OWL" scan --all --json --netns owlc-srv
	echo "$output" >"$out"
	[ "$(jq_count '.source.port == 8443 and .network.direction == "ingress" and .owl.state == "ESTAB"' "$out")" -eq 1 ]
	[ "$(jq_count '.source.port == 8443 and .network.direction == "listening"' "$out")" -eq 1 ]
}

@test "byte counters of a connection to a non-loopback peer" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8444
	sockprog owlc-cli tcp-send 192.0.2.34 8444 50000
	local client=$bg_pid
	sleep 0.5
	run "$OWL" scan --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	[ "$(jq_count '.destination.port == 8444 and .process.pid == '"$client"' and .owl.socket.bytes_acked >= 50000' "$out")" -eq 1 ]
	run "$OWL" scan --all --json --netns owlc-srv
	echo "$output" >"$out"
	[ "$(jq_count '.source.port == 8444 and .owl.state == "ESTAB" and .owl.socket.bytes_received >= 50000' "$out")" -eq 1 ]
}

@test "SYN-SENT to an address nobody answers is listed" {
	sockprog owlc-cli tcp-connect 192.0.2.40 9
	sleep 0.3
	run "$OWL" scan --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	[ "$(jq_count '.destination.ip == "192.0.2.40" and .owl.state == "SYN-SENT" and .process.pid == '"$bg_pid" "$out")" -eq 1 ]
}

@test "IPv6 connection and UDP, connected and not" {
	sockprog owlc-srv tcp-listen 2001:db8:2::2 8080
	sockprog owlc-cli tcp-connect 2001:db8:2::2 8080
	local tcp6=$bg_pid
	sockprog owlc-cli udp-connect 192.0.2.34 5353
	local udpc=$bg_pid
	sockprog owlc-cli udp-bind 0.0.0.0 5300
	local udpb=$bg_pid
	sleep 0.3
	run "$OWL" scan --all --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	[ "$(jq_count '.destination.ip == "2001:db8:2::2" and .network.type == "ipv6" and .owl.state == "ESTAB" and .process.pid == '"$tcp6" "$out")" -eq 1 ]
	[ "$(jq_count '.network.transport == "udp" and .destination.ip == "192.0.2.34" and .destination.port == 5353 and .network.direction == "egress" and .process.pid == '"$udpc" "$out")" -eq 1 ]
	[ "$(jq_count '.network.transport == "udp" and .source.port == 5300 and .network.direction == "listening" and .owl.state == "UNCONN" and .process.pid == '"$udpb" "$out")" -eq 1 ]
	# the default view has the egress ones only
	run "$OWL" scan --json --netns owlc-cli
	echo "$output" >"$out"
	[ "$(jq_count '.source.port == 5300' "$out")" -eq 0 ]
	[ "$(jq_count '.destination.port == 5353' "$out")" -eq 1 ]
}

@test "packet socket with a BPF filter and a raw socket" {
	sockprog owlc-cli packet-filter
	local pkt=$bg_pid
	sockprog owlc-cli raw-icmp
	local raw=$bg_pid
	run "$OWL" scan --all --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	[ "$(jq_count '.network.transport == "packet" and .owl.packet.filter.attached == true and .owl.packet.filter.instructions == 1 and .owl.packet.protocol_name == "all" and .process.pid == '"$pkt" "$out")" -eq 1 ]
	[ "$(jq_count '.network.transport == "packet" and has("destination")' "$out")" -eq 0 ]
	# nothing about a remote end to say: no empty owl.endpoint object
	[ "$(jq_count '.network.transport == "packet" and (.owl | has("endpoint"))' "$out")" -eq 0 ]
	[ "$(jq_count '.network.transport == "raw" and .owl.raw.protocol == 1 and .owl.socket.source == "procfs" and .process.pid == '"$raw" "$out")" -eq 1 ]
}

@test "a socket shared by two processes names both pids" {
	sockprog owlc-srv tcp-listen 192.0.2.34 7000
	sockprog owlc-cli fork-share 192.0.2.34 7000
	read -r parent child <<<"$bg_pids"
	run "$OWL" scan --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	rec=$(jq -c 'select(.destination.port == 7000)' "$out")
	[ "$(jq -r '.owl.pids | sort | join(",")' <<<"$rec")" = "$(printf '%s\n' "$parent" "$child" | sort -n | paste -sd,)" ]
	[ "$(jq -r .process.pid <<<"$rec")" = "$parent" ]
}

@test "TIME-WAIT in a namespace without processes is listed without an owner" {
	ip netns exec owlc-cli "$PY" - <<'PY'
import socket, threading
l = socket.socket(); l.bind(("127.0.0.1", 7100)); l.listen()
c = socket.create_connection(("127.0.0.1", 7100)); a, _ = l.accept()
c.close(); a.recv(1); a.close(); l.close()
PY
	run "$OWL" scan --all --json --netns owlc-cli
	[ "$status" -eq 0 ]
	echo "$output" >"$out"
	[ "$(jq_count '.owl.state == "TIME-WAIT" and (has("process") | not) and .owl.socket.inode == 0' "$out")" -ge 1 ]
	[ "$(jq_count '.owl.state == "TIME-WAIT" and .owl.netns.name == "owlc-cli"' "$out")" -ge 1 ]
}

@test "owl agrees with ss on the sockets of a namespace" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8443
	sockprog owlc-cli tcp-connect 192.0.2.34 8443
	sockprog owlc-cli tcp-connect 192.0.2.34 8443
	sockprog owlc-cli udp-connect 192.0.2.34 53
	sockprog owlc-cli tcp-connect 2001:db8:2::2 8443
	sleep 0.3
	for ns in owlc-cli owlc-srv; do
		"$OWL" scan --all --json --netns "$ns" |
			jq -r 'select(.network.transport == "tcp" or .network.transport == "udp") | "\(.network.transport) \(.source.port) \(.destination.port // 0) \(.owl.socket.inode)"' |
			sort >"$out.owl"
		ip netns exec "$ns" ss -tuanpe | awk 'NR > 1 { match($0, /ino:[0-9]+/); ino = substr($0, RSTART + 4, RLENGTH - 4);
			n = split($5, l, ":"); m = split($6, r, ":"); rp = r[m]; if (rp == "*") rp = 0;
			print $1, l[n], rp, ino }' | sort >"$out.ss"
		diff "$out.owl" "$out.ss"
		[ -s "$out.owl" ]
	done
	rm -f "$out.owl" "$out.ss"
}

@test "sock_diag and /proc/net give the same set of sockets" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8443
	sockprog owlc-cli tcp-connect 192.0.2.34 8443
	sockprog owlc-cli udp-connect 192.0.2.34 53
	sockprog owlc-cli tcp-connect 2001:db8:2::2 8443
	sockprog owlc-cli packet-filter
	sockprog owlc-cli raw-icmp
	sleep 0.3
	key='"\(.network.transport) \(.source.ip // "-") \(.source.port // 0) \(.destination.ip // "-") \(.destination.port // 0) \(.owl.state) \(.owl.socket.inode) \(.process.pid // 0)"'
	for ns in owlc-cli owlc-srv; do
		"$OWL" scan --all --json --netns "$ns" --source diag 2>/dev/null | jq -r "$key" | sort >"$out.diag"
		"$OWL" scan --all --json --netns "$ns" --source proc | jq -r "$key" | sort >"$out.proc"
		# raw sockets have no diag module on this kernel: auto takes them from /proc
		"$OWL" scan --all --json --netns "$ns" | jq -r "$key" | sort >"$out.auto"
		grep -v '^raw ' "$out.proc" | diff "$out.diag" -
		diff "$out.auto" "$out.proc"
		[ -s "$out.proc" ]
	done
	rm -f "$out.diag" "$out.proc" "$out.auto"
}

@test "--verbose says which source served each kind" {
	run "$OWL" scan --all --verbose --netns owlc-cli
	[ "$status" -eq 0 ]
	[[ "$output" == *"tcp4: "*" from sock_diag"* ]]
	[[ "$output" == *"raw4: "*"from /proc/net/raw"* ]]
	[[ "$output" == *"netns owlc-cli"* ]]
}

@test "every namespace is visited once, named ones by name" {
	run "$OWL" scan --all --verbose
	[ "$status" -le 1 ]
	[ "$(grep -c '^owl: netns owlc-cli ' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^owl: netns owlc-srv ' <<<"$output")" -eq 1 ]
	[ "$(grep -c '^owl: netns host ' <<<"$output")" -eq 1 ]
	# inodes are unique
	[ -z "$(grep '^owl: netns ' <<<"$output" | sed 's/.*(\([0-9]*\)).*/\1/' | sort | uniq -d)" ]
}

@test "a namespace kept alive only by a bind mount outside /run/netns is found" {
	mkdir -p /tmp/owlc-mnt
	touch /tmp/owlc-mnt/ns
	mount --bind /run/netns/owlc-srv /tmp/owlc-mnt/ns
	ip netns del owlc-srv   # drops the /run/netns name; the bind mount keeps it
	run "$OWL" scan --all --verbose
	umount /tmp/owlc-mnt/ns
	rm -rf /tmp/owlc-mnt
	[ "$status" -le 1 ]
	[[ "$output" == *"owl: netns ns ("* ]]
}

@test "the table escapes a hostile process name" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8443
	ip netns exec owlc-cli "$PY" -c '
import ctypes, socket, time
ctypes.CDLL(None).prctl(15, b"\x1b[2Jevil\x1b[0m", 0, 0, 0)
s = socket.create_connection(("192.0.2.34", 8443)); print("ready", flush=True); time.sleep(60)' &
	_owl_pids+=($!)
	sleep 0.8
	run "$OWL" scan --netns owlc-cli
	[ "$status" -eq 0 ]
	[[ "$output" == *'\x1b[2Jevil\x1b[0m'* ]]
	[[ "$output" != *$'\x1b'* ]]
	run "$OWL" scan --json --netns owlc-cli
	[[ "$output" == *'\u001b[2Jevil\u001b[0m'* ]]
}

@test "processes vanishing mid-scan cause no error" {
	sockprog owlc-srv tcp-listen 192.0.2.34 8443
	ip netns exec owlc-cli bash -c 'for i in $(seq 400); do
		/usr/bin/python3 -c "import socket; s = socket.create_connection((\"192.0.2.34\", 8443))" & done; wait' &
	local churn=$!
	_owl_pids+=("$churn")
	for i in 1 2 3 4 5; do
		run --separate-stderr "$OWL" scan --all --json
		[ "$status" -le 1 ]
		# nothing but the one-line partial-view note may reach stderr
		[ -z "$stderr" ] || [ "$(wc -l <<<"$stderr")" -eq 1 ]
		# every line is a whole JSON object
		jq -e . <<<"$output" >/dev/null
	done
	wait "$churn" || true
}

@test "usage: --help, --version, bad options exit 2 with a message" {
	run "$OWL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"scan"* ]]
	run "$OWL" scan --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--all"* ]]
	run "$OWL" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "owl "* ]]
	run "$OWL" scan --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--bogus'"* ]]
	# the message and the synopsis, not the whole help
	[[ "$output" == *"usage: owl scan"* ]]
	[[ "$output" == *"Try 'owl scan --help'"* ]]
	[[ "$output" != *"--json           NDJSON"* ]]
	[ "$(wc -l <<<"$output")" -le 8 ]
	run "$OWL" scan --fail-on nope
	[ "$status" -eq 2 ]
	run "$OWL" scan --source
	[ "$status" -eq 2 ]
	run "$OWL" scan --netns owlc-nonexistent
	[ "$status" -eq 2 ]
	[[ "$output" == *"no network namespace named"* ]]
	run "$OWL" frobnicate
	[ "$status" -eq 2 ]
	run "$OWL"
	[ "$status" -eq 2 ]
}

@test "without root it runs, shows what it can and says once what is missing" {
	command -v setpriv >/dev/null || skip "setpriv missing"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$OWL" scan --all
	[ "$status" -le 1 ]
	[ "$(grep -c 'run as root' <<<"$output")" -eq 1 ]
	[[ "$output" == *"PROTO"* ]]
}

@test "the table fits a narrow terminal with an ellipsis" {
	sockprog owlc-srv tcp-listen 2001:db8:2::2 8443
	sockprog owlc-cli tcp-connect 2001:db8:2::2 8443
	sleep 0.3
	run env COLUMNS=60 "$OWL" scan --netns owlc-cli
	[ "$status" -eq 0 ]
	while IFS= read -r line; do
		[ "$(printf '%s' "$line" | wc -m)" -le 60 ] || { echo "too wide: $line"; false; }
	done <<<"$output"
	[[ "$output" == *"…"* ]]
	[[ "$output" != *$'\x1b['* ]]   # no colour when not a tty
}
