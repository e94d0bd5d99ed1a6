#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# When the end-to-end tests skip: only when the agent's start-up checks say
# this kernel cannot run BPF programs, never when the programs fail to load
# on a kernel that can (a verifier rejection is a bug of ours).  And the
# skip works from setup_file under the bats that runs these tests (1.8 on
# Debian 12 fails a file whose setup_file calls skip).

load helpers

# fake_agent STATUS LINE...: an agent that writes each LINE on stderr and
# exits with STATUS, for failures this machine cannot be put into.
fake_agent() {
	local status=$1 line

	shift
	KNOTSCOPE="$BATS_TEST_TMPDIR/fake-knotscope"
	{
		echo '#!/bin/bash'
		for line in "$@"; do
			printf 'echo %q >&2\n' "$line"
		done
		echo "exit $status"
	} >"$KNOTSCOPE"
	chmod +x "$KNOTSCOPE"
}

# What agent/capture/capture.c says when the kernel will not take a program.
VERIFIER_SAID="knotscope: error: the kernel's verifier rejected a BPF program (run with -vv for its log)"
LOAD_FAILED="knotscope: error: cannot load the BPF programs: Invalid argument (run with -vv for the verifier's log)"
# What agent/capture/preflight.c says, with --preflight warn, about lockdown.
LOCKDOWN="knotscope: warning: kernel lockdown is in confidentiality mode, which forbids BPF programs to read kernel memory (bpf_probe_read_kernel), as knotscope's do: boot with lockdown=integrity or none (--preflight warn: starting anyway)"

# run_file SETUP_FILE TEST: runs, under the bats that runs this file, a
# file of two tests whose setup_file and tests have these bodies.
run_file() {
	# (Written so that bats does not take them for tests of this file.)
	printf '%s\n' "load '$BATS_TEST_DIRNAME/helpers'" "KNOTSCOPE='$KNOTSCOPE'" \
		"setup_file() { $1; }" "@test first { $2; }" "@test second { $2; }" \
		>"$BATS_TEST_TMPDIR/file.bats"
	run bats "$BATS_TEST_TMPDIR/file.bats"
	echo "$output" >&2
}

# Both tests of run_file's file were skipped, naming lockdown.
expect_skipped_for_lockdown() {
	local skipped="# skip this kernel cannot run knotscope's BPF programs: kernel lockdown is in confidentiality mode, "

	[ "$status" -eq 0 ]
	[ "$(grep -cF "$skipped" <<<"$output")" -eq 2 ]
}

@test "a kernel whose BTF is hidden skips, saying so" {
	local agent=$KNOTSCOPE

	require_bpf
	# The real agent in a mount namespace where /sys/kernel/btf is empty:
	# the load itself fails, with an error of its own.
	KNOTSCOPE="$BATS_TEST_TMPDIR/knotscope-without-btf"
	printf '%s\n' '#!/bin/sh' \
		"exec unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/kernel/btf && exec \"\$0\" \"\$@\"' $agent \"\$@\"" \
		>"$KNOTSCOPE"
	chmod +x "$KNOTSCOPE"
	run why_bpf_cannot_run
	[ "$status" -eq 0 ]
	[[ "$output" == "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing)"* ]]
	grep -q "error: cannot load the BPF programs" "$BATS_TEST_TMPDIR/bpf-probe.err"
}

@test "a verifier rejection, or any load failure the checks do not explain, fails" {
	local said

	for said in "$VERIFIER_SAID" "$LOAD_FAILED"; do
		fake_agent 1 "$said"
		run why_bpf_cannot_run
		[ "$status" -eq 1 ]
		[[ "$output" == *"$said"* ]]
	done
}

@test "without privileges it fails: the tests run as root" {
	local agent=$KNOTSCOPE

	require_bpf
	KNOTSCOPE="$BATS_TEST_TMPDIR/knotscope-as-nobody"
	printf '%s\n' '#!/bin/sh' \
		"exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all $agent \"\$@\"" \
		>"$KNOTSCOPE"
	chmod +x "$KNOTSCOPE"
	run why_bpf_cannot_run
	[ "$status" -eq 1 ]
	[[ "$output" == *"warning: missing privileges"* ]]
}

@test "an agent that runs although a check failed is not skipped" {
	fake_agent 0 "$LOCKDOWN"
	run why_bpf_cannot_run
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "from setup_file, every test of the file is skipped with the reason" {
	fake_agent 1 "$LOCKDOWN" "$LOAD_FAILED"
	run_file require_bpf false
	expect_skipped_for_lockdown
}

@test "from setup_file, a failed load fails the file" {
	fake_agent 1 "$VERIFIER_SAID"
	run_file require_bpf false
	[ "$status" -eq 1 ]
	[[ "$output" == *"not ok 1 setup_file failed"* ]]
	[[ "$output" == *"$VERIFIER_SAID"* ]]
}

@test "from a test, it skips that test" {
	fake_agent 1 "$LOCKDOWN" "$LOAD_FAILED"
	run_file : "require_bpf; false"
	expect_skipped_for_lockdown
}
