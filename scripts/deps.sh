#!/bin/sh
# Installs the Debian packages a target needs, and nothing when all are there.
# Usage: scripts/deps.sh build|test|bench ...
set -eu

build_pkgs="make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev
libdw-dev zlib1g-dev libjson-c-dev uthash-dev protobuf-c-compiler
libprotobuf-c-dev libcurl4-openssl-dev"
test_pkgs="libcmocka-dev bats jq util-linux procps nodejs clang-14
libclang-rt-14-dev"
# Debian ships npm apart from nodejs; other builds of nodejs bundle it.
command -v npm >/dev/null 2>&1 || test_pkgs="$test_pkgs npm"
bench_pkgs="bpftrace"

want=""
for group in "$@"; do
	case "$group" in
	build) want="$want $build_pkgs" ;;
	test) want="$want $build_pkgs $test_pkgs" ;;
	bench) want="$want $build_pkgs $test_pkgs $bench_pkgs" ;;
	*) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

missing=""
for pkg in $want; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get install -y -qq --no-install-recommends $missing
