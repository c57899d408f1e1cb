#!/usr/bin/env bats
# QA: owl as a demanding user meets it — errors that must say the right
# thing, privilege it cannot do without, hostile names, identity before
# trust.  Namespaces owlq-*, addresses 192.0.2.224/27 and 2001:db8:9::/48.

load helpers
bats_require_minimum_version 1.5.0

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

setup() {
	require_root
	netns_add owlq-cli
	netns_add owlq-srv
	veth_pair owlq-cli owlq-c 192.0.2.225/27 owlq-srv owlq-s 192.0.2.226/27 2001:db8:9::1/64 2001:db8:9::2/64
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
}

teardown() {
	cleanup_all
	rm -rf "$tmp"
}

@test "scan --netns NS with a missing --db blames the store, not the namespace" {
	run --separate-stderr "$OWL" scan --netns owlq-cli --db "$tmp/none/owl.db"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$tmp/none/owl.db"* ]]
	[[ "$stderr" != *"no network namespace"* ]]
}

@test "scan --netns NS that an unprivileged user cannot enter fails (exit 2), never an empty all-clear" {
	# the binary must be reachable for nobody
	cp "$OWL" "$tmp/owl"
	chmod 755 "$tmp/owl"
	sockprog owlq-srv tcp-listen 192.0.2.226 4444
	sockprog owlq-cli tcp-connect 192.0.2.226 4444
	run --separate-stderr $NOBODY "$tmp/owl" scan --netns owlq-cli --fail-on medium
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *owlq-cli* ]]
	[[ "$stderr" == *root* ]]
}

@test "watch with a --db that is not a database says so, like scan does" {
	head -c 4096 /dev/urandom >"$tmp/junk.db"
	run --separate-stderr "$OWL" watch --db "$tmp/junk.db" --duration 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$tmp/junk.db"*"not an owl database"* ]]
	run --separate-stderr "$OWL" watch --db "$tmp/none/owl.db" --duration 1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$tmp/none/owl.db"*"no such database"* ]]
}

@test "baseline allow on a store this user cannot write says why (not 'Read-only file system')" {
	cp "$OWL" "$tmp/owl"
	chmod 755 "$tmp/owl"
	"$OWL" baseline allow --db "$tmp/owl.db" --exe /usr/bin/ssh --note "qa root entry"
	chmod 644 "$tmp/owl.db"
	run --separate-stderr $NOBODY "$tmp/owl" baseline allow --db "$tmp/owl.db" --exe /usr/bin/ssh --dest 192.0.2.226 --note "qa nobody"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"write permission"* ]]
	[[ "$stderr" != *"Read-only file system"* ]]
}

# a process that names itself with terminal escapes, a newline, a bidi
# override and invalid UTF-8, connected to an abuse port
hostile_proc() {
	start_bg ip netns exec owlq-cli "$PY" -c '
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(b"\x1b[2J\n\xe2\x80\xae\xff"), 0, 0, 0)
s = socket.create_connection(("192.0.2.226", 4444), timeout=5)
print("ready", os.getpid(), flush=True)
time.sleep(60)' "$(printf '\033]0;title\007\n\342\200\256\377')"
}

@test "hostile comm and argv reach the table and JSON only escaped" {
	sockprog owlq-srv tcp-listen 192.0.2.226 4444
	hostile_proc
	sleep 0.2
	run --separate-stderr "$OWL" scan --netns owlq-cli
	[ "$status" -le 1 ]
	! grep -q $'\033' <<<"$output"
	! grep -q $'\342\200\256' <<<"$output"
	! LC_ALL=C grep -q $'\377' <<<"$output"
	[[ "$output" == *'\x1b[2J\n\u{202e}\xff'* ]]
	# one socket, one row (+ its finding lines): the newline did not split it
	[ "$(grep -c "^medium" <<<"$output")" -eq 1 ]
	run --separate-stderr "$OWL" scan --netns owlq-cli --json
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -r .process.pid <<<"$output")" = "$bg_pid" ]
	[ "$(jq -r .event.kind <<<"$output")" = alert ]
	! grep -q $'\033' <<<"$output"
}

@test "a catalogue match (known-agent) never hides preload or ioc-match" {
	[ -x /usr/bin/ssh ] || skip "no ssh client"
	export OWL_CATALOGUE_DIR="$BATS_TEST_DIRNAME/../../data/catalogue"
	sockprog owlq-srv tcp-listen 192.0.2.226 22
	ip netns exec owlq-cli env LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 /usr/bin/ssh -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o ConnectTimeout=60 root@192.0.2.226 </dev/null >/dev/null 2>&1 &
	_owl_pids+=("$!")
	ip netns exec owlq-cli /usr/bin/ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=60 \
		root@192.0.2.226 </dev/null >/dev/null 2>&1 &
	_owl_pids+=("$!")
	sleep 0.7
	echo 192.0.2.226 >"$tmp/bad.list"
	run --separate-stderr "$OWL" scan --netns owlq-cli --json --intel-dir ''
	echo "$output" >"$tmp/a.json"
	[ "$(jq_count '.process.name == "ssh"' "$tmp/a.json")" -eq 2 ]
	# the clean one is a known agent; the preloaded one is not, and stays high
	[ "$(jq_count '.process.name == "ssh" and .owl.severity == "info" and ([.owl.findings[].id] | index("known-agent"))' "$tmp/a.json")" -eq 1 ]
	[ "$(jq_count '.process.name == "ssh" and .owl.severity == "high" and ([.owl.findings[].id] | index("preload")) and (.owl.known_agent == null)' "$tmp/a.json")" -eq 1 ]
	run --separate-stderr "$OWL" scan --netns owlq-cli --json --intel-dir '' --intel "$tmp/bad.list" --fail-on high
	[ "$status" -eq 1 ]
	echo "$output" >"$tmp/b.json"
	[ "$(jq_count '.process.name == "ssh" and .owl.severity == "high" and ([.owl.findings[].id] | index("ioc-match"))' "$tmp/b.json")" -eq 2 ]
}

@test "every long option in a command's --help is in its usage line" {
	for cmd in scan watch explain changes; do
		help=$("$OWL" $cmd --help)
		usage=$(sed -n '/^usage:/,/^$/p' <<<"$help")
		for opt in $(grep -oE '^ +(-[a-z], )?--[a-z-]+' <<<"$help" | grep -oE -- '--[a-z-]+' | sort -u); do
			[ "$opt" = --help ] && continue
			[[ "$usage" == *"[$opt"* || "$usage" == *"$opt "* ]] || { echo "$cmd: $opt not in usage"; return 1; }
		done
	done
}

@test "baseline catalogue says so when the shipped catalogue is missing (--check: exit 2)" {
	export OWL_CATALOGUE_DIR="$tmp/no-such-dir"
	export OWL_CATALOGUE_LOCAL_DIR="$tmp/no-local"
	run --separate-stderr "$OWL" baseline catalogue --check
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$tmp/no-such-dir"* ]]
	run --separate-stderr "$OWL" baseline catalogue
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"$tmp/no-such-dir"* ]]
	# a present shipped catalogue: nothing said
	export OWL_CATALOGUE_DIR="$BATS_TEST_DIRNAME/../../data/catalogue"
	run --separate-stderr "$OWL" baseline catalogue --check
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a command line longer than owl keeps is marked truncated in the JSON" {
	sockprog owlq-srv tcp-listen 192.0.2.226 8443
	long=$(printf 'A%.0s' $(seq 3000))
	start_bg ip netns exec owlq-cli "$PY" -c '
import os, socket, time
s = socket.create_connection(("192.0.2.226", 8443), timeout=5)
print("ready", os.getpid(), flush=True)
time.sleep(60)' "$long" "$long" "hidden-payload"
	sleep 0.2
	run --separate-stderr "$OWL" scan --netns owlq-cli --json
	rec=$(jq -c "select(.process.pid == $bg_pid)" <<<"$output")
	[ -n "$rec" ]
	[ "$(jq -r '.owl.args_truncated' <<<"$rec")" = true ]
	[[ "$rec" != *hidden-payload* ]]
	# the listener's short command line is not marked
	run --separate-stderr "$OWL" scan --netns owlq-srv --all --json
	[ "$(jq -c 'select(.owl.args_truncated)' <<<"$output" | wc -l)" -eq 0 ]
}

@test "baseline import of an endless line (/dev/zero) ends with 'line too long', in bounded memory" {
	run --separate-stderr timeout 20 "$OWL" baseline import --db "$tmp/owl.db" /dev/zero
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"/dev/zero:1: line too long"* ]]
	[[ "$stderr" == *"nothing imported"* ]]
}

@test "explain --db uses that store, as scan --db does (documented, or a store error)" {
	sockprog owlq-srv tcp-listen 192.0.2.226 8443
	sockprog owlq-cli tcp-connect 192.0.2.226 8443
	sleep 0.2
	exe=$(readlink "/proc/$bg_pid/exe")
	"$OWL" baseline allow --db "$tmp/owl.db" --exe "$exe" --dest 192.0.2.226 --port 8443 --note "qa-explain-note"
	run --separate-stderr "$OWL" explain "$bg_pid" --db "$tmp/owl.db"
	[ "$status" -eq 0 ]
	[[ "$output" == *qa-explain-note* ]]
	run --separate-stderr "$OWL" explain "$bg_pid" --db "$tmp/none/owl.db"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"$tmp/none/owl.db"*"no such database"* ]]
}

@test "watch and scan name an intel list they cannot read" {
	for cmd in "scan" "watch --duration 1"; do
		run --separate-stderr timeout 20 "$OWL" $cmd --intel "$tmp/missing-list.txt"
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"$tmp/missing-list.txt"* ]]
	done
}

@test "JSON: owl's \\xNN escape of a byte is never the same text as a name that spells it" {
	sockprog owlq-srv tcp-listen 192.0.2.226 4445
	# one process whose name holds the byte 0xff, one whose name holds the
	# four characters \xff
	for name in 'b"\xff"' 'b"\\xff"'; do
		start_bg ip netns exec owlq-cli "$PY" -c '
import ctypes, os, socket, time
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(b"q" + '"$name"'), 0, 0, 0)
s = socket.create_connection(("192.0.2.226", 4445), timeout=5)
print("ready", os.getpid(), flush=True)
time.sleep(60)'
	done
	sleep 0.3
	run --separate-stderr "$OWL" scan --netns owlq-cli --json
	names=$(jq -r 'select(.destination.port == 4445) | .process.name' <<<"$output" | sort)
	# the byte reads as \xff, the text as \\xff (a real backslash is doubled)
	[ "$names" = "$(printf '%s\n' 'q\\xff' 'q\xff' | sort)" ]
}
