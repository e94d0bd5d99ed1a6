#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The container image end to end, without a container engine: `make image`
# builds it, umoci unpacks it into an OCI runtime bundle, and runc runs the
# agent the way a Kubernetes DaemonSet would: as the image's non-root user,
# with only the capabilities the chart adds (no ambient ones: Kubernetes
# sets none), in the host's PID namespace, on a read-only root filesystem,
# with /sys/kernel/btf, /sys/fs/bpf and /sys/kernel/tracing mounted from the
# host.  Skips only when this machine cannot run a container at all, and
# the test that loads BPF programs when its kernel cannot run them.

bats_require_minimum_version 1.5.0

load helpers

# What the chart adds to the container's capability sets.  Bit numbers from
# <linux/capability.h>, to check them against what this machine can grant.
CHART_CAPS="CAP_BPF:39 CAP_PERFMON:38 CAP_SYS_PTRACE:19 CAP_SYS_RESOURCE:24"

setup_file() {
	if [ "$(id -u)" -ne 0 ]; then
		skip_file "building and running the image needs root \
(debootstrap, runc)"
		return 0
	fi
	make -s -C "$ROOT" image >&2

	BUNDLE="$BATS_FILE_TMPDIR/bundle"
	export BUNDLE
	umoci unpack --image "$ROOT/build/image/oci:latest" "$BUNDLE" >&2
	# What the image asks for; each test derives its own config from it.
	mv "$BUNDLE/config.json" "$BUNDLE/image-config.json"

	local why
	if ! why=$(probe_container 2>&1); then
		skip_file "this machine cannot run containers: runc failed to \
run /bin/true from the image with its default configuration: $why"
	fi
}

teardown() {
	runc delete --force "$(container_name)" >/dev/null 2>&1 || true
	e2e_teardown
}

container_name() {
	echo "knotscope-image-test-$$-$BATS_TEST_NUMBER"
}

# Runs /bin/true in the image with runc's own default configuration, as
# root and without the agent's needs: can this machine run containers?
probe_container() {
	local probe="$BATS_FILE_TMPDIR/probe"

	mkdir -p "$probe"
	(cd "$probe" && runc spec)
	jq --arg rootfs "$BUNDLE/rootfs" '.root.path = $rootfs
		| .process.terminal = false | .process.args = ["/bin/true"]' \
		"$probe/config.json" >"$probe/config.tmp"
	mv "$probe/config.tmp" "$probe/config.json"
	timeout 60 runc run --bundle "$probe" "knotscope-image-probe-$$"
}

# The chart's capabilities that this machine's own bounding set holds: a
# container cannot get more than its runtime has.
grantable_caps() {
	local bounding entry

	bounding=$((0x$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
	for entry in $CHART_CAPS; do
		if (((bounding >> ${entry#*:}) & 1)); then
			echo "${entry%:*}"
		else
			echo "# $entry is not in this machine's bounding set: the" \
				"container runs without it" >&3
		fi
	done
}

# Writes the bundle's config.json: the image's own with the DaemonSet's
# settings, to run PROGRAM ARGS...  The capabilities go where Kubernetes
# puts them, in the bounding, effective and permitted sets, never in the
# ambient set, and no_new_privs is on (allowPrivilegeEscalation: false):
# a non-root process keeps them across execve only through its file
# capabilities.
write_config() {
	local program=$1
	shift
	local caps args

	caps=$(grantable_caps | jq -R . | jq -s .)
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq --argjson caps "$caps" --arg program "$program" \
		--argjson args "$args" '
		.process.terminal = false
		| .process.args = [$program] + $args
		| .process.capabilities = {
			bounding: $caps, effective: $caps, permitted: $caps }
		| .process.noNewPrivileges = true
		| .root.readonly = true
		| .linux.namespaces |= map(select(.type != "pid"))
		| .mounts += [
			{ destination: "/sys/kernel/btf", type: "bind",
			  source: "/sys/kernel/btf", options: ["rbind", "ro"] },
			{ destination: "/sys/fs/bpf", type: "bind",
			  source: "/sys/fs/bpf", options: ["rbind", "rw"] },
			{ destination: "/sys/kernel/tracing", type: "bind",
			  source: "/sys/kernel/tracing",
			  options: ["rbind", "ro"] } ]' \
		"$BUNDLE/image-config.json" >"$BUNDLE/config.json"
}

# Runs the bundle; bats sets $status, $output (stdout) and $stderr.
# shellcheck disable=SC2154 # stderr is set by run --separate-stderr
run_agent() {
	run --separate-stderr timeout 60 runc run --bundle "$BUNDLE" \
		"$(container_name)"
	echo "status $status; stdout:" >&2
	echo "$output" >&2
	echo "stderr:" >&2
	echo "$stderr" >&2
}

@test "the image runs the agent as nobody, its binary carrying file capabilities" {
	jq -e '.process.user.uid == 65534 and .process.user.gid == 65534
		and .process.args == ["/usr/bin/knotscope"]' \
		"$BUNDLE/image-config.json"
	run getcap "$BUNDLE/rootfs/usr/bin/knotscope"
	[ "$status" -eq 0 ]
	[[ "$output" == *"cap_sys_ptrace,cap_perfmon,cap_bpf=ep"* ]]
}

@test "in the image, the agent loads its BPF programs and stops cleanly" {
	require_bpf
	write_config /usr/bin/knotscope --duration 2 --json -
	run_agent

	[ "$status" -eq 0 ]
	[[ "$stderr" == *"knotscope: watching "* ]]
	echo "$output" | jq -e -s '
		[.[] | select(.type == "ready")] | length == 1
		and (.[0].attach_mode | test("^(tp_btf|raw_tp)$"))
		and .[0].processes > 1'
	echo "$output" | jq -e -s 'map(select(.type == "summary")) | length == 1'
}

@test "without its file capabilities the agent gets none, and says so" {
	# A copy without the security.capability attribute, in the unpacked
	# root filesystem (a scratch copy of the image's).
	cp "$BUNDLE/rootfs/usr/bin/knotscope" "$BUNDLE/rootfs/tmp/knotscope"
	write_config /tmp/knotscope --duration 2
	run_agent

	[ "$status" -eq 1 ]
	[[ "$stderr" == *"missing privileges"* ]]
}
