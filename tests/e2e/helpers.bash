# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Shared by the end-to-end tests that run the real agent against real
# workloads.  Every wait here polls a condition with a deadline.
#
# It also gives each test its setup() and teardown(); a file that needs
# more defines its own, after loading this, and calls e2e_setup and
# e2e_teardown from them.

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
KNOTSCOPE="$ROOT/build/knotscope"
WORKLOADS="$ROOT/build/workloads"

setup() {
	e2e_setup
}

teardown() {
	e2e_teardown
}

# A test runs only if its file can run (see skip_file), starts with
# nothing of an earlier test's, and with none of the OTEL_* settings of
# the shell that runs the tests.
e2e_setup() {
	skip_if_file_skipped
	unset_otel_env
	AGENT_PID=
	AGENT_NETNS=
	WORKLOAD_PIDS=
	RECEIVER_PID=
	RECEIVED="$BATS_TEST_TMPDIR/received.jsonl"
	: >"$RECEIVED"
}

# A test leaves nothing running, however it ended.
e2e_teardown() {
	kill_workloads
	stop_agent KILL || true
	stop_receiver
}

# --- Skips.  A test may skip only when this kernel cannot run BPF
# programs at all, and says why.  bats 1.8 (Debian 12) fails a file whose
# setup_file skips, so skip_file leaves the reason where e2e_setup, in
# each test of the file, finds it.

# skip_file REASON: from setup_file, skips every test of the file.
skip_file() {
	printf '%s\n' "$1" >"$BATS_FILE_TMPDIR/skip-reason"
}

skip_if_file_skipped() {
	if [ -e "$BATS_FILE_TMPDIR/skip-reason" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/skip-reason")"
	fi
}

# From setup_file: skips the file when this kernel cannot run knotscope's
# BPF programs, saying why; from a test: skips that test.  Any other
# failure to start fails.
require_bpf() {
	local why

	why="$(why_bpf_cannot_run)" || return 1
	[ -n "$why" ] || return 0
	why="this kernel cannot run knotscope's BPF programs: ${why//$'\n'/; }"
	if [[ " ${FUNCNAME[*]} " == *" setup_file "* ]]; then
		skip_file "$why"
	else
		skip "$why"
	fi
}

# Starts the agent for a second with --preflight warn, so that its
# start-up checks (agent/capture/preflight.c) name what is missing and it
# loads its programs anyway.  Prints nothing when it runs.  When it fails
# and the checks found what the kernel lacks (BTF, lockdown
# confidentiality, a bpf() that is missing or refused by seccomp or an
# LSM), prints their findings.  Any other failure (a verifier rejection,
# a field the kernel does not have, missing privileges) is shown and
# returns 1: the tests must fail then, not skip.
why_bpf_cannot_run() {
	local err="${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/bpf-probe.err" status=0

	"$KNOTSCOPE" --preflight warn --listen off --pid $$ --duration 1 \
		>/dev/null 2>"$err" || status=$?
	[ "$status" -ne 0 ] || return 0
	kernel_lacks <"$err" && return 0
	echo "knotscope failed to start, and its checks found nothing this kernel lacks:" >&2
	cat "$err" >&2
	return 1
}

# The start-up checks' findings about the kernel in the agent's stderr,
# one per line; fails if there is none.  Checks reworded without this
# being told fail the tests rather than skip them.
kernel_lacks() {
	local finding='(this kernel |kernel lockdown is in confidentiality mode|the kernel refused a ).*'

	sed -n -E "s/^knotscope: warning: ($finding) \(--preflight warn: starting anyway\)\$/\1/p" |
		grep .
}

# Only what a test sets may reach the agent or the exporter: drops every
# OTEL_* variable of the environment the tests run in.
unset_otel_env() {
	local var

	for var in $(compgen -e); do
		case "$var" in
		OTEL_*) unset "$var" ;;
		esac
	done
}

# wait_until SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))

	shift
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# start_agent ARGS...: runs the agent with --json into $AGENT_JSON, in
# the network namespace $AGENT_NETNS if set, and returns once it reports
# that capture is attached.
start_agent() {
	local netns=()

	AGENT_JSON="$BATS_TEST_TMPDIR/agent.jsonl"
	AGENT_ERR="$BATS_TEST_TMPDIR/agent.err"
	: >"$AGENT_JSON"
	if [ -n "${AGENT_NETNS:-}" ]; then
		netns=(nsenter --net="/run/netns/$AGENT_NETNS")
	fi
	"${netns[@]}" "$KNOTSCOPE" --json "$AGENT_JSON" "$@" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	wait_until 30 agent_said '.type == "ready"' || {
		cat "$AGENT_ERR" >&2
		return 1
	}
}

# stop_agent [SIGNAL]: stops it and checks that it stopped cleanly.
stop_agent() {
	local status=0

	[ -n "${AGENT_PID:-}" ] || return 0
	kill "-${1:-INT}" "$AGENT_PID" 2>/dev/null || true
	wait "$AGENT_PID" || status=$?
	AGENT_PID=
	if [ "$status" -ne 0 ]; then
		cat "$AGENT_ERR" >&2
		return 1
	fi
	keep_records
}

# Keeps a copy of the records of an agent that stopped cleanly, named after
# the test, for setup_suite.bash to check against the schema at the end.
keep_records() {
	local name

	[ -n "${KS_RECORDS_DIR:-}" ] || return 0
	name="$(basename "$BATS_TEST_FILENAME" .bats).$BATS_TEST_NUMBER"
	name="$name.$(tr -c 'a-zA-Z0-9\n' _ <<<"$BATS_TEST_DESCRIPTION" | cut -c1-60)"
	cp "$AGENT_JSON" "$(mktemp --suffix=.jsonl "$KS_RECORDS_DIR/$name.XXXX")"
}

# agent_said JQ_CONDITION: some JSON record satisfies the condition.
agent_said() {
	jq -e -s "any(.[]; $1)" "$AGENT_JSON" >/dev/null 2>&1
}

# agent_never_said JQ_CONDITION: no JSON record satisfies the condition;
# shows those that do.  Unlike "! agent_said", it fails when the condition
# or the file cannot be read, and it fails a test wherever it stands:
# bats 1.8 ignores a failed "! command" unless it is the test's last.
agent_never_said() {
	local said

	said="$(agent_records "$1")" || return 1
	if [ -n "$said" ]; then
		echo "the agent should not have said:" >&2
		echo "$said" >&2
		return 1
	fi
}

# agent_records JQ_CONDITION: the matching records, one per line.
agent_records() {
	jq -c "select($1)" "$AGENT_JSON"
}

# start_workload NAME ARGS...: runs build/workloads/NAME, waits until it
# says "started", and sets WORKLOAD_PID.
start_workload() {
	local name=$1

	shift
	start_program "$WORKLOADS/$name" "$@"
}

# start_program PATH ARGS...: the same, for a workload anywhere.
start_program() {
	local path=$1

	shift
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/${path##*/}.out"
	: >"$WORKLOAD_OUT"
	"$path" "$@" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PID=$!
	WORKLOAD_PIDS="${WORKLOAD_PIDS:-} $WORKLOAD_PID"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
}

# Kills every workload this test started, and their children.  Each is
# stopped first: a parent that replaces a dead child (nginx's master) must
# not start another one that would outlive it.
kill_workloads() {
	local pid

	for pid in ${WORKLOAD_PIDS:-}; do
		kill -STOP "$pid" 2>/dev/null || true
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	WORKLOAD_PIDS=
}

# futex_waiters PID TEST-OP N: the number of threads of PID blocked in
# futex(2) right now (nr 202 on x86_64, 98 on arm64), as the kernel shows
# them, compares to N; re-evaluated on every call, so wait_until can poll it.
futex_waiters() {
	local nr count

	case "$(uname -m)" in
	aarch64) nr=98 ;;
	*) nr=202 ;;
	esac
	count="$(cat /proc/"$1"/task/*/syscall 2>/dev/null | grep -c "^$nr ")" || true
	test "${count:-0}" "$2" "$3"
}

# Waits for the deadlock report naming $1.  The deadline only ends the
# wait for an agent that never reports: how soon it reports is for the
# benchmark to measure, and a machine busy with other tests can take
# seconds.
await_deadlock() {
	wait_until 30 agent_said ".type == \"deadlock\" and (.pids | index($1))" || {
		cat "$AGENT_ERR" >&2
		return 1
	}
	REPORT="$(deadlock_of "$1")"
}

# deadlock_of PID: the first deadlock record naming PID.
deadlock_of() {
	agent_records ".type == \"deadlock\" and (.pids | index($1))" | head -n1
}

# Fails with both values shown when they differ.
expect_eq() {
	if [ "$2" != "$3" ]; then
		echo "$1: expected '$3', got '$2'" >&2
		return 1
	fi
}

# --- OTLP: tests/otlp/receiver.js decodes with OpenTelemetry's own code.

# Quick batches for tests of the agent's export, so they wait for data
# rather than for timers.
quick_otlp_batches() {
	export OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BLRP_SCHEDULE_DELAY=200
}

# start_peer SCRIPT OPTIONS...: runs tests/otlp/SCRIPT, a receiver, and
# waits until it listens (it prints its port only then); points the
# exporter at it.
start_peer() {
	local fifo="$BATS_TEST_TMPDIR/port.$RANDOM" script=$1

	shift
	mkfifo "$fifo"
	node "$ROOT/tests/otlp/$script" --out "$RECEIVED" "$@" \
		>"$fifo" 2>>"$BATS_TEST_TMPDIR/receiver.log" 3>&- &
	RECEIVER_PID=$!
	read -r -t 30 PORT <"$fifo"
	rm -f "$fifo"
	[ -n "$PORT" ]
	export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PORT"
}

# The OTLP/HTTP receiver, with its options.
start_receiver() {
	start_peer receiver.js "$@"
}

# The OTLP/gRPC receiver, a gRPC server: the exporter speaks gRPC to it.
start_grpc_receiver() {
	start_peer grpc_receiver.js "$@"
	export OTEL_EXPORTER_OTLP_PROTOCOL=grpc
}

stop_receiver() {
	if [ -n "${RECEIVER_PID:-}" ]; then
		kill "$RECEIVER_PID" 2>/dev/null || true
		wait "$RECEIVER_PID" 2>/dev/null || true
		RECEIVER_PID=
	fi
}

# The value of a jq filter over all received requests, as one array.
received() {
	jq -r -s "$1" "$RECEIVED"
}

# All received items of a signal, one JSON object per line, each with the
# attributes of its resource flattened into .resource, and the name of its
# instrumentation scope in .scope.
spans() {
	jq -c 'select(.signal == "traces") | .body.resourceSpans[] |
		(.resource.attributes | map({(.key): (.value | to_entries[0].value)}) | add) as $r |
		.scopeSpans[] | .scope.name as $s | .spans[] | . + {resource: $r, scope: $s} |
		.attrs = (.attributes // [] | map({(.key): (.value | to_entries[0].value)}) | add)' "$RECEIVED"
}

logs() {
	jq -c 'select(.signal == "logs") | .body.resourceLogs[] |
		(.resource.attributes | map({(.key): (.value | to_entries[0].value)}) | add) as $r |
		.scopeLogs[] | .scope.name as $s | .logRecords[] | . + {resource: $r, scope: $s} |
		.attrs = (.attributes // [] | map({(.key): (.value | to_entries[0].value)}) | add)' "$RECEIVED"
}

metrics() {
	jq -c 'select(.signal == "metrics") | .body.resourceMetrics[] |
		(.resource.attributes | map({(.key): (.value | to_entries[0].value)}) | add) as $r |
		.scopeMetrics[] | .scope.name as $s | .metrics[] | . + {resource: $r, scope: $s}' "$RECEIVED"
}

has_span() {
	spans | jq -e -s "any(.[]; $1)" >/dev/null
}

has_log() {
	logs | jq -e -s "any(.[]; $1)" >/dev/null
}

# error_spans_of PID N: N spans with status ERROR arrived for PID.
error_spans_of() {
	spans | jq -e -s --arg pid "$1" --argjson n "$2" '[.[] |
		select(.status.code == 2 and .resource["process.pid"] == $pid)] |
		length == $n' >/dev/null
}

has_metric() {
	metrics | jq -e -s "any(.[]; $1)" >/dev/null
}

# produced = exported + rejected + dropped + failed + queued, exactly, for
# every signal of the agent's summary.
expect_accounted() {
	agent_records '.type == "summary"' | jq -e '.export | length > 0 and (to_entries | all(.[];
		.value.produced == .value.exported + .value.rejected +
			.value.dropped_queue_full + ([.value.failed[]] | add) +
			.value.dropped_shutdown + .value.queued))' >/dev/null || {
		agent_records '.type == "summary"' | jq .export >&2
		return 1
	}
}
