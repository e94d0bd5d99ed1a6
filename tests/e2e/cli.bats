#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The command line: help, errors people make, privileges, and stopping.

load helpers

# The options --help lists: lines that start with "-x, --name" or "--name".
help_options() {
	"$KNOTSCOPE" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'
}

@test "--help lists the options, and docs/cli.md documents each of them" {
	local option

	run "$KNOTSCOPE" --help
	[ "$status" -eq 0 ]
	[[ "$output" == Usage:* ]]
	[ "$(help_options | wc -l)" -gt 20 ]
	for option in $(help_options); do
		grep -q -- "\`$option" "$ROOT/docs/cli.md" || {
			echo "docs/cli.md does not document $option" >&2
			return 1
		}
	done
	run "$KNOTSCOPE" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "knotscope "* ]]
}

@test "man ./build/knotscope.8 shows every option --help lists, and the same version" {
	local page="$BATS_TEST_TMPDIR/knotscope.8.txt" option

	LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$ROOT/build/knotscope.8" >"$page"
	grep -q '^NAME' "$page"
	grep -q '^ENVIRONMENT' "$page"
	for option in $(help_options); do
		grep -qE -- "^ +(-[a-zA-Z], )?$option( |\$)" "$page" || {
			echo "the manual page does not show $option" >&2
			return 1
		}
	done
	grep -qF "$("$KNOTSCOPE" --version)" "$page"
}

@test "make install puts the agent and its manual page under DESTDIR and PREFIX" {
	local dest="$BATS_TEST_TMPDIR/root"

	make -s -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/ks >/dev/null
	[ -x "$dest/opt/ks/sbin/knotscope" ]
	cmp "$ROOT/build/knotscope.8" "$dest/opt/ks/share/man/man8/knotscope.8"
	run "$dest/opt/ks/sbin/knotscope" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "knotscope "* ]]
	make -s -C "$ROOT" uninstall DESTDIR="$dest" PREFIX=/opt/ks
	[ ! -e "$dest/opt/ks/sbin/knotscope" ]
	[ ! -e "$dest/opt/ks/share/man/man8/knotscope.8" ]
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

@test "--json to a full disk or a closed pipe: the run goes on, and says what it lost" {
	require_bpf
	# /dev/full: every write fails with ENOSPC.
	run "$KNOTSCOPE" --pid $$ --duration 1 --json /dev/full
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot write to the --json sink: No space left on device"* ]]
	[[ "$output" == *"stopped after"* ]]
	[[ "$output" == *"--json /dev/full: 2 records could not be written"* ]]

	# A reader that goes away after one byte: no SIGPIPE death.
	local status_of err="$BATS_TEST_TMPDIR/pipe.err"
	"$KNOTSCOPE" --pid $$ --duration 2 --json - 2>"$err" | head -c 1 >/dev/null
	status_of=${PIPESTATUS[0]}
	expect_eq "exit status" "$status_of" 1
	grep -q "stopped after" "$err"
	grep -q "Broken pipe" "$err"
	grep -q -- "--json -: 1 record could not be written" "$err"
}
