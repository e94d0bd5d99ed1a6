#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The command line: help, errors people make, privileges, and stopping.

load helpers

@test "--help documents every option, and docs/cli.md documents each of them" {
	local option options

	run "$KNOTSCOPE" --help
	[ "$status" -eq 0 ]
	[[ "$output" == Usage:* ]]
	options="$(grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' <<<"$output" | grep -oE -- '--[a-z-]+')"
	# The options were found where --help lists them.
	grep -qx -- --pid <<<"$options"
	grep -qx -- --listen <<<"$options"
	for option in $options; do
		grep -q -- "$option" "$ROOT/docs/cli.md" || {
			echo "docs/cli.md does not document $option" >&2
			return 1
		}
	done
	run "$KNOTSCOPE" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "knotscope "* ]]
}

@test "bad values are usage errors that name the option" {
	local args

	for args in "--pid abc" "--pid 0" "--pid -5" "--confirm-ms 0" \
		"--confirm-ms 100000" "--duration x" "--ringbuf-mb 3" \
		"--comm this-name-is-too-long" "--json="; do
		# shellcheck disable=SC2086 # each case is several words
		run "$KNOTSCOPE" $args
		[ "$status" -eq 2 ] || {
			echo "'$args' exited $status" >&2
			return 1
		}
		[[ "$output" == *"knotscope: ${args%%[ =]*}"* ]]
		[[ "$output" == *"Try 'knotscope --help'"* ]]
	done
	run "$KNOTSCOPE" --no-such-option
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--no-such-option'"* ]]
	run "$KNOTSCOPE" stray
	[ "$status" -eq 2 ]
	run "$KNOTSCOPE" --pid
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs a value"* ]]
}

@test "without privileges it says which ones it needs" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$KNOTSCOPE" --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"run as root or grant CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE"* ]]
}

@test "--preflight warn turns a failed check into a warning, and starts" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$KNOTSCOPE" --preflight warn --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"warning: missing privileges"*"(--preflight warn: starting anyway)"* ]]
	# It went on to load the programs, which the kernel refused.
	[[ "$output" == *"the kernel refused to load BPF programs"* ]]
}

@test "start-up errors are clear and load nothing" {
	run "$KNOTSCOPE" --pid 2147483000 --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--pid 2147483000: no such process"* ]]
	run "$KNOTSCOPE" --json /nonexistent/dir/out.json --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--json /nonexistent/dir/out.json: No such file or directory"* ]]
}

@test "SIGINT, SIGTERM and --duration stop it cleanly with a summary" {
	local signal

	require_bpf
	for signal in INT TERM; do
		start_agent --pid $$
		stop_agent "$signal"
		agent_said '.type == "summary"'
		grep -q "stopped after" "$AGENT_ERR"
	done
	"$KNOTSCOPE" --pid $$ --duration 1 --json - >"$BATS_TEST_TMPDIR/out" 2>/dev/null
	jq -e -s '[.[].type] == ["ready", "summary"]' "$BATS_TEST_TMPDIR/out"
}
