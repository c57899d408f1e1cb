#!/bin/sh
# Install the Debian packages owl needs to build, test and benchmark.
# Run as root on Debian 12.  Safe to run again.
set -eu
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (sudo $0)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# build
pkgs="build-essential meson ninja-build pkg-config clang llvm libmnl-dev libbpf-dev bpftool libelf-dev zlib1g-dev
 libsqlite3-dev libjansson-dev libssl-dev libmaxminddb-dev libcap-ng-dev"
# tests, fuzzing and benchmarks
pkgs="$pkgs libcmocka-dev bats libclang-rt-14-dev iproute2 nftables procps psmisc util-linux lsof netcat-openbsd
 socat curl python3 openssh-client sqlite3 jq time bpftrace
 tor-geoipdb libmaxmind-db-writer-perl podman runc busybox-static"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
