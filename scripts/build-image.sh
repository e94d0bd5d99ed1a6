#!/bin/sh
# Builds the knotscope container image without a container engine: a
# Debian 12 root filesystem from debootstrap (cached), the agent from
# BUILD/knotscope on top, as an OCI image layout in BUILD/image/oci and the
# same as an oci-archive, BUILD/image/knotscope.oci.tar, which `podman load`
# or `skopeo copy oci-archive:...` take.  The Dockerfile builds the same
# image where a registry and an engine are at hand.
#
# Usage: scripts/build-image.sh [BUILD]   as root (debootstrap chroots);
# BUILD, the build directory, is relative to the repository's root.
set -eu

cd "$(dirname "$0")/.."
build=${1:-build}
suite=bookworm
# What the agent needs at run time; the Dockerfile installs the same.
runtime_pkgs=$(scripts/deps.sh --list runtime)
# The image runs as nobody; file capabilities on the binary give it what
# it needs (see the Dockerfile for why these three).
agent_caps=cap_bpf,cap_perfmon,cap_sys_ptrace+ep
agent_user=65534:65534

dir=$build/image
rootfs=$dir/rootfs-$suite
layout=$dir/oci
archive=$dir/knotscope.oci.tar
agent=$build/knotscope

die() {
	echo "build-image.sh: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap chroots, and \
the image's files must belong to root)"
[ -x "$agent" ] || die "$agent is missing: run make first"
for tool in debootstrap umoci setcap; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: run scripts/deps.sh image"
done

version=$(sed -n 's/^#define KS_VERSION "\(.*\)"$/\1/p' agent/base/version.h)
[ -n "$version" ] || die "no KS_VERSION in agent/base/version.h"

# The repository of Debian suite $1 that apt already uses here, else $2:
# the build needs no other network access than apt does.
debian_repo() {
	# shellcheck disable=SC2016 # $(REPO_URI) is apt's, not the shell's
	apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' \
		'Origin: Debian' "Codename: $1" 2>/dev/null | head -n 1 |
		grep . || echo "$2"
}

# debootstrap installs the release alone: add its updates and security
# updates, with the sources Debian's own images have.
update_rootfs() {
	root=$1
	rm -f "$root/etc/apt/sources.list"
	cat >"$root/etc/apt/sources.list.d/debian.sources" <<-SOURCES
		Types: deb
		URIs: $mirror
		Suites: $suite $suite-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb
		URIs: $security_mirror
		Suites: $suite-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SOURCES
	chroot "$root" sh -c 'apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq'
}

# Removes what a container image has no use for, as debian:*-slim does:
# package caches and lists, documentation but the copyright files, manual
# pages, translations, logs; and the files debootstrap copied from this
# machine, which the container runtime provides.
slim_rootfs() {
	root=$1
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
		"$root"/var/lib/apt/lists/* "$root"/usr/share/man \
		"$root"/usr/share/info "$root"/usr/share/locale \
		"$root"/etc/hostname "$root"/etc/resolv.conf
	find "$root"/usr/share/doc -type f ! -name copyright -delete
	find "$root"/usr/share/doc -depth -type d -empty -delete
	find "$root"/var/log -type f -delete
}

# The root filesystem is built again when the suite or the package list
# change, and after a week, to take the updates published since.
rootfs_key="$suite $runtime_pkgs"
mkdir -p "$dir"
if [ ! -d "$rootfs" ] ||
	[ "$(cat "$rootfs.key" 2>/dev/null)" != "$rootfs_key" ] ||
	[ -n "$(find "$rootfs.key" -mtime +7)" ]; then
	mirror=${DEBIAN_MIRROR:-$(debian_repo "$suite" \
		http://deb.debian.org/debian/)}
	security_mirror=${DEBIAN_SECURITY_MIRROR:-$(debian_repo \
		"$suite-security" http://deb.debian.org/debian-security/)}
	echo "build-image.sh: debootstrap $suite from $mirror"
	rm -rf "$rootfs" "$rootfs.tmp" "$rootfs.key"
	debootstrap --variant=minbase \
		--include="$(echo "$runtime_pkgs" | tr ' ' ',')" \
		"$suite" "$rootfs.tmp" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		die "debootstrap failed; see $dir/debootstrap.log"
	update_rootfs "$rootfs.tmp" >>"$dir/debootstrap.log" 2>&1 ||
		die "updating the root filesystem failed; see $dir/debootstrap.log"
	slim_rootfs "$rootfs.tmp"
	mv "$rootfs.tmp" "$rootfs"
	echo "$rootfs_key" >"$rootfs.key"
fi

work=$(mktemp -d "$dir/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The agent must start in this root filesystem: a library missing from
# runtime_pkgs shows here rather than in a cluster.
install -m 0755 -s "$agent" "$rootfs/usr/bin/knotscope"
if ! chroot "$rootfs" /usr/bin/knotscope --version >/dev/null; then
	rm -f "$rootfs/usr/bin/knotscope"
	die "the agent does not start in the image's root filesystem"
fi
mv "$rootfs/usr/bin/knotscope" "$work/knotscope"
setcap "$agent_caps" "$work/knotscope"

# Two layers, the Debian base and the agent, so a new agent changes only
# the small one.
image="$work/oci:$version"
umoci init --layout "$work/oci"
umoci new --image "$image"
umoci insert --image "$image" --history.created_by \
	"debootstrap --variant=minbase $suite $runtime_pkgs" "$rootfs" /
umoci insert --image "$image" --history.created_by "knotscope $version" \
	"$work/knotscope" /usr/bin/knotscope
umoci config --image "$image" --no-history \
	--config.entrypoint /usr/bin/knotscope --config.user "$agent_user" \
	--config.workingdir / \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.label org.opencontainers.image.title=knotscope \
	--config.label org.opencontainers.image.version="$version"
umoci tag --image "$image" latest
umoci gc --layout "$work/oci"

# Replace the previous result only once the new one is complete.
tar -C "$work/oci" -cf "$work/knotscope.oci.tar" .
rm -rf "$layout" "$archive"
mv "$work/oci" "$layout"
mv "$work/knotscope.oci.tar" "$archive"
echo "build-image.sh: $layout (tags $version, latest) and $archive"
