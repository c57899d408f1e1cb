#!/usr/bin/env bats
# owl evidence (issue 8): the bundle of a process, collected without
# disturbing it.  Files under /tmp/owla-evidence.*; one netns owla-e with
# 192.0.2.160/28 for a connection to show up in the bundle.

load helpers

ACT="$BATS_TEST_DIRNAME/../helpers/actprog.py"

setup() {
	require_root
	tmp=$(mktemp -d /tmp/owla-evidence.XXXXXX)
}

teardown() {
	cleanup_all
	rm -rf "$tmp"
}

# a copy of sleep under /tmp, started, then deleted from disk
start_deleted() {
	cp /bin/sleep "$tmp/owla-bin"
	orig_sum=$(sha256sum "$tmp/owla-bin" | cut -d' ' -f1)
	"$tmp/owla-bin" 600 &
	victim=$!
	_owl_pids+=("$victim")
	for _ in $(seq 50); do
		[ "$(readlink /proc/$victim/exe)" = "$tmp/owla-bin" ] && break
		sleep 0.02
	done
	rm "$tmp/owla-bin"
}

@test "the bundle of a deleted /tmp binary holds the original image, and the manifest verifies" {
	start_deleted
	[[ "$(readlink /proc/$victim/exe)" == *"(deleted)" ]]
	run "$OWL" evidence "$victim" --out "$tmp/b"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"executable image sha256 $orig_sum"* ]]
	[ "$(sha256sum "$tmp/b/exe" | cut -d' ' -f1)" = "$orig_sum" ]
	(cd "$tmp/b" && sha256sum --strict -c SHA256SUMS)
	m=$tmp/b/manifest.json
	[ "$(jq -r .format "$m")" = owl-evidence/1 ]
	[ "$(jq -r .owl_version "$m")" = "$("$OWL" --version | cut -d' ' -f2)" ]
	[ "$(jq -r .host.name "$m")" = "$(uname -n)" ]
	[ "$(jq -r .process.pid "$m")" = "$victim" ]
	[ "$(jq -r .process.executable "$m")" = "$tmp/owla-bin (deleted)" ]
	[ "$(jq -r .process.exited_during_collection "$m")" = false ]
	[ "$(jq -r .process.executable_file.links "$m")" = 0 ]
	[ "$(jq -r .process.executable_file.size "$m")" = "$(stat -c %s /bin/sleep)" ]
	[ "$(jq -r .complete "$m")" = true ]
	[ "$(jq -r .size_cap_bytes "$m")" -gt 0 ]
	# every file but the manifest and SHA256SUMS is in the manifest, with its size and digest
	for f in exe proc/cmdline proc/environ proc/status proc/limits proc/cgroup proc/mountinfo proc/maps \
		fds.json connections.ndjson ancestry.json libraries.json namespaces.txt explain.txt explain.json; do
		[ "$(jq -r --arg f "$f" '.files[] | select(.name == $f) | .size' "$m")" = "$(stat -c %s "$tmp/b/$f")" ]
		grep -q "  $f\$" "$tmp/b/SHA256SUMS"
	done
	grep -q "  manifest.json\$" "$tmp/b/SHA256SUMS"
	# the raw /proc files are the process's
	[ "$(tr '\0' ' ' <"$tmp/b/proc/cmdline")" = "$tmp/owla-bin 600 " ]
	diff <(cat /proc/$victim/limits) "$tmp/b/proc/limits"
	# mapped files: the deleted image is hashed as mapped
	[ "$(jq -r --arg p "$tmp/owla-bin (deleted)" '.[] | select(.path == $p) | .sha256' "$tmp/b/libraries.json")" = "$orig_sum" ]
	[ "$(jq -r '.[] | select(.path | test("libc")) | .sha256' "$tmp/b/libraries.json" | head -1)" = \
	  "$(sha256sum "$(jq -r '.[] | select(.path | test("libc")) | .path' "$tmp/b/libraries.json" | head -1)" | cut -d' ' -f1)" ]
	# what owl explain says about it
	grep -q "exe-deleted\|deleted" "$tmp/b/explain.txt"
	grep -q "^NEXT STEPS" "$tmp/b/explain.txt"
	[ "$(jq -r '.containment.state' "$tmp/b/explain.json")" = "none in force" ]
	# ancestry: the process first, then its parent
	[ "$(jq -r '.[0].pid' "$tmp/b/ancestry.json")" = "$victim" ]
	[ "$(jq -r '.[1].pid' "$tmp/b/ancestry.json")" = "$(awk '{print $4}' /proc/$victim/stat)" ]
	# not disturbed: still running, not stopped
	[ "$(awk '{print $3}' /proc/$victim/stat)" = S ]
	# an existing bundle is never overwritten
	run "$OWL" evidence "$victim" --out "$tmp/b"
	[ "$status" -eq 2 ]
	[[ "$output" == *"already exists"* ]]
}

@test "the bundle of a fileless (memfd) process holds its image" {
	start_bg "$PY" "$ACT" memfd-exec /bin/sleep 600
	v=$bg_pid
	for _ in $(seq 50); do
		[[ "$(readlink /proc/$v/exe)" == /memfd:* ]] && break
		sleep 0.02
	done
	[[ "$(readlink /proc/$v/exe)" == "/memfd:owla-fileless (deleted)" ]]
	run "$OWL" evidence "$v" --out "$tmp/m"
	[ "$status" -eq 0 ]
	[ "$(sha256sum "$tmp/m/exe" | cut -d' ' -f1)" = "$(sha256sum /bin/sleep | cut -d' ' -f1)" ]
	[ "$(jq -r .process.executable "$tmp/m/manifest.json")" = "/memfd:owla-fileless (deleted)" ]
	(cd "$tmp/m" && sha256sum --strict -c SHA256SUMS)
}

@test "a hostile executable name never becomes a path in the bundle" {
	evil=$tmp/$'owla-\e[31m..x\nname\u202e'
	cp /bin/sleep "$evil"
	"$evil" 600 &
	victim=$!
	_owl_pids+=("$victim")
	sleep 0.2
	rm "$evil"
	run "$OWL" evidence "$victim" --out "$tmp/h"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e'* ]]
	# exactly owl's fixed names
	[ "$(cd "$tmp/h" && find . -mindepth 1 | sort | tr '\n' ' ')" = \
	  "./SHA256SUMS ./ancestry.json ./connections.ndjson ./exe ./exe.link ./explain.json ./explain.txt ./fds.json ./libraries.json ./manifest.json ./namespaces.txt ./proc ./proc/cgroup ./proc/cmdline ./proc/environ ./proc/limits ./proc/loginuid ./proc/maps ./proc/mountinfo ./proc/sessionid ./proc/stat ./proc/status " ]
	# the name is in the JSON, escaped there (controls as JSON escapes, the
	# text-reversing U+202E made visible), and raw only inside exe.link
	! grep -q $'\e' "$tmp/h/manifest.json"
	[ "$(jq -r .process.executable "$tmp/h/manifest.json")" = "$tmp/"$'owla-\e[31m..x\nname''\u{202e} (deleted)' ]
	[ "$(cat "$tmp/h/exe.link")" = "$evil (deleted)" ]
	(cd "$tmp/h" && sha256sum --strict -c SHA256SUMS)
}

@test "--tar writes a .tar.gz whose contents verify; the cap is stated and applied" {
	start_deleted
	run "$OWL" evidence "$victim" --out "$tmp/t" --tar --max-size 4096
	echo "$output"
	[ "$status" -eq 0 ]
	[ -f "$tmp/t.tar.gz" ]
	[ ! -e "$tmp/t" ]
	mkdir "$tmp/x"
	tar -xzf "$tmp/t.tar.gz" -C "$tmp/x"
	d=$tmp/x/owl-evidence-$victim
	(cd "$d" && sha256sum --strict -c SHA256SUMS)
	[ "$(jq -r .size_cap_bytes "$d/manifest.json")" = 4096 ]
	[ "$(stat -c %s "$d/exe")" = 4096 ]
	[ "$(jq -r '.files[] | select(.name == "exe") | .truncated' "$d/manifest.json")" = true ]
	[ "$(jq -r '.files[] | select(.name == "proc/status") | .truncated' "$d/manifest.json")" = false ]
	jq -e 'length > 0' "$d/libraries.json" >/dev/null
	[ "$(head -c 4096 /proc/$victim/exe | sha256sum | cut -d' ' -f1)" = "$(sha256sum "$d/exe" | cut -d' ' -f1)" ]
	# tar lists only owl's fixed names
	[ -z "$(tar -tzf "$tmp/t.tar.gz" | grep -v "^owl-evidence-$victim/")" ]
	[ "$(tar -tzf "$tmp/t.tar.gz" | wc -l)" -eq "$(($(jq '.files | length' "$d/manifest.json") + 4))" ]
}

@test "connections and the verdict are in the bundle, as owl scan --json shows them" {
	netns_add owla-e
	ip -n owla-e addr add 192.0.2.161/28 dev lo
	start_bg ip netns exec owla-e "$PY" "$ACT" server 192.0.2.161 9500 "$tmp/log"
	srv=$bg_pid
	start_bg ip netns exec owla-e "$PY" "$ACT" two-conns 192.0.2.161 9500
	set -- $bg_pids
	cli=$1
	sleep 0.2
	run "$OWL" evidence "$cli" --out "$tmp/c"
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 sockets of the process in connections.ndjson"* ]]
	f=$tmp/c/connections.ndjson
	[ "$(jq -c 'select(.destination.ip == "192.0.2.161" and .destination.port == 9500)' "$f" | wc -l)" -eq 2 ]
	[ "$(jq -r '.owl.netns.name' "$f" | sort -u)" = owla-e ]
	[ "$(jq -r '.process.pid' "$f" | sort -u)" = "$cli" ]
	jq -e '.owl.severity' "$f" >/dev/null
	# the fd list names the sockets with their details
	[ "$(jq -c '[.[] | select(.socket.remote == "192.0.2.161:9500")] | length' "$tmp/c/fds.json")" -eq 2 ]
}

@test "a process that exits during collection leaves a complete bundle that says so" {
	# a big image so the copy takes a while; the process is killed meanwhile
	cp /bin/sleep "$tmp/owla-big"
	truncate -s 1500M "$tmp/owla-big"
	"$tmp/owla-big" 600 &
	victim=$!
	_owl_pids+=("$victim")
	sleep 0.2
	"$OWL" evidence "$victim" --out "$tmp/v" --max-size 2000000000 >"$tmp/out" 2>&1 &
	ev=$!
	sleep 0.15
	kill -KILL "$victim"
	wait "$ev"
	cat "$tmp/out"
	grep -q "the process exited during collection" "$tmp/out"
	m=$tmp/v/manifest.json
	[ "$(jq -r .process.exited_during_collection "$m")" = true ]
	[ "$(jq -r .complete "$m")" = false ]
	[ "$(jq -r '.missing | length' "$m")" -gt 0 ]
	(cd "$tmp/v" && sha256sum --strict -c SHA256SUMS)
}

@test "errors: no such process, bad arguments" {
	run "$OWL" evidence 999999999 --out "$tmp/n"
	[ "$status" -eq 2 ]
	run "$OWL" evidence 4194000 --out "$tmp/n"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no process"* ]]
	[ ! -e "$tmp/n" ]
	run "$OWL" evidence
	[ "$status" -eq 2 ]
	run "$OWL" evidence 1 --max-size 0
	[ "$status" -eq 2 ]
}
