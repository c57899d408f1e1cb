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
