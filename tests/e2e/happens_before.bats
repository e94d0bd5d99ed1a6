#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Happens-before, end to end: the workload tests/workloads/hb_scenes.c
# synchronises its threads in ways whose order is known by construction;
# the agent exports their waits as spans; the order of two spans is
# computed from their exported knotscope.hb.clock attributes alone, by
# build/tests/tools/hb_order, as a backend would.

load helpers

HB_ORDER="$ROOT/build/tests/tools/hb_order"
# A decoder of the exported clocks of its own, written from the docs.
HB_CLOCK="$BATS_TEST_DIRNAME/hb_clock.py"

setup_file() {
	require_bpf
	make -s -C "$ROOT" otlp-test >&2
}

setup() {
	e2e_setup
	quick_otlp_batches
	AGENT_ARGS=()
}

# run_scene ARGS...: the agent watches one run of hb_scenes ARGS, and has
# exported everything when this returns.
run_scene() {
	start_receiver
	start_agent --comm hb_scenes "${AGENT_ARGS[@]}"
	start_workload hb_scenes "$@"
	wait "$WORKLOAD_PID"
	stop_agent
}

# tid_of ROLE: the thread the workload said plays ROLE.
tid_of() {
	awk -v role="$1" '$1 == "role" && $2 == role { print $3 }' "$WORKLOAD_OUT"
}

# The received spans, reduced to what ordering needs, one per line; group
# marks the roots of threads' busy periods, which have no point.
hb_spans_all() {
	spans | jq -c '{id: .spanId, name, group: (.name == "thread busy"),
		tid: .attrs["thread.id"],
		pid: .resource["process.pid"], start: .startTimeUnixNano,
		end: .endTimeUnixNano, parent: .parentSpanId,
		clock: .attrs["knotscope.hb.clock"],
		lamport: .attrs["knotscope.hb.lamport"],
		source: .attrs["knotscope.hb.source.tid"],
		edge: .attrs["knotscope.hb.edge"],
		links: [.links[]? | {id: .spanId,
			kind: (.attributes[]? | select(.key == "knotscope.link.kind") | .value.stringValue)}]}'
}

# The spans with a point: all but the busy periods' roots.
hb_spans() {
	hb_spans_all | jq -c 'select(.group | not)'
}

# spans_where JQ_CONDITION: matching spans, in the order they ended.
# Timestamps are 19-digit strings: compared as strings, they order exactly.
spans_where() {
	hb_spans | jq -c -s "map(select($1)) | sort_by(.end) | .[]"
}

# orders: reads "A B" lines of encoded points, prints how each A relates
# to its B.
orders() {
	"$HB_ORDER"
}

# expect_chain JQ_CONDITION N: at least N spans match, and by end time
# each happened before the next.
expect_chain() {
	local n result

	n="$(spans_where "$1" | wc -l)"
	[ "$n" -ge "$2" ] || {
		echo "expected at least $2 spans where $1, got $n" >&2
		return 1
	}
	result="$(spans_where "$1" | jq -r -s '
		range(1; length) as $i | "\(.[$i - 1].clock) \(.[$i].clock)"' |
		orders | sort | uniq -c)"
	expect_eq "orders along the chain" "$result" "$(printf '%7d before' $((n - 1)))"
}

# expect_consistent LINKS: everything exported is consistent, and there
# are at least LINKS links to check: every span carries a point; links
# point to spans that were exported, which happened before the span that
# links to them and ended no later; and no span that happened before
# another ended after it.
expect_consistent() {
	local all="$BATS_TEST_TMPDIR/all.jsonl" n

	hb_spans >"$all"
	jq -e -s 'length > 0 and all(.[]; .clock != null and .lamport != null)' "$all" >/dev/null
	n="$(jq -s '[.[].links[]] | length' "$all")"
	[ "$n" -ge "$1" ] || {
		echo "expected at least $1 links, got $n" >&2
		return 1
	}
	jq -e -s 'map(.id) as $ids | all(.[]; all(.links[]; .id as $l | $ids | index($l)))' "$all" >/dev/null
	expect_eq "link targets that happened before" "$(jq -r -s 'INDEX(.id) as $by |
		.[] | . as $s | .links[] | $by[.id] | "\(.clock) \($s.clock)"' "$all" |
		orders | grep -cx before)" "$n"
	expect_eq "link targets that ended later" "$(jq -s 'INDEX(.id) as $by |
		[.[] | . as $s | .links[] | select($by[.id].end > $s.end)] | length' "$all")" 0
	# Every ordered pair, checked against the clock of the wall: an order
	# for each, and none against it.
	jq -r -s '.[] as $a | .[] | select(.id != $a.id) | "\($a.clock) \(.clock)"' "$all" |
		orders >"$BATS_TEST_TMPDIR/orders"
	expect_eq "ordered pairs" "$(grep -c . "$BATS_TEST_TMPDIR/orders")" \
		"$(jq -s 'length * (length - 1)' "$all")"
	expect_eq "pairs ordered against time" "$(jq -r -s '.[] as $a | .[] |
		select(.id != $a.id) | ($a.end <= .end)' "$all" |
		paste - "$BATS_TEST_TMPDIR/orders" | grep -c '^false	before$')" 0
}

@test "a mutex hand-off orders each waiter after the thread that released it" {
	local a b

	run_scene handoff 6
	a="$(tid_of handoff-a)" b="$(tid_of handoff-b)"

	# Each thread waits for every lock but maybe its first.
	expect_chain ".name == \"wait for mutex\"" 11
	# Each wait links to the span its releaser, the other thread, had
	# just finished: the wait that gave it the lock.
	spans_where '.name == "wait for mutex"' | jq -e -s --arg a "$a" --arg b "$b" '
		INDEX(.id) as $by |
		(map(.tid) | unique) == ([$a, $b] | sort) and
		all(.[]; .edge == "futex_wake" and .source != .tid) and
		(map(select(.links | length > 0)) | length >= 4 and
			all(.[]; .links[0].kind == "futex_wake" and
				$by[.links[0].id].tid == .source))' >/dev/null
	expect_consistent 4
}

# expect_pingpong_ordered READ_SPAN_NAME: after a pingpong scene of 6
# rounds, the first pair's spans form one chain, and each of pong's reads
# learnt ping's write.
expect_pingpong_ordered() {
	local ping pong

	ping="$(tid_of ping-a)" pong="$(tid_of pong-a)"
	expect_chain ".tid == \"$ping\" or .tid == \"$pong\"" 12
	spans_where ".tid == \"$pong\"" | jq -e -s --arg ping "$ping" --arg name "$1" '
		length == 6 and all(.[]; .name == $name and
			.edge == "channel" and .source == $ping)' >/dev/null
	expect_consistent 6
}

# Each read blocks until the other thread's write: the scheduler sees the
# write wake it (the default), and the per-message hooks see both.
@test "a pipe orders each read after the write of its data" {
	run_scene pingpong 6
	expect_pingpong_ordered "read pipe"
}

@test "a pipe orders each read after the write of its data, with --channel-edges" {
	AGENT_ARGS=(--channel-edges)
	run_scene pingpong 6
	expect_pingpong_ordered "read pipe"
}

@test "a unix stream socket orders each read after the write of its data" {
	run_scene pingpong 6 unix
	expect_pingpong_ordered "read unix_socket"
}

@test "a unix stream socket orders each read after the write of its data, with --channel-edges" {
	AGENT_ARGS=(--channel-edges)
	run_scene pingpong 6 unix
	expect_pingpong_ordered "read unix_socket"
}

@test "threads that share no synchronisation are concurrent" {
	local pair_a pair_b

	run_scene pingpong 6
	pair_a="[\"$(tid_of ping-a)\", \"$(tid_of pong-a)\"]"
	pair_b="[\"$(tid_of ping-b)\", \"$(tid_of pong-b)\"]"

	# The pairs ran side by side, their spans interleaved in time.
	expect_eq "orders across the pairs" "$(hb_spans | jq -r -s \
		--argjson a "$pair_a" --argjson b "$pair_b" '
		map(select(.tid as $t | $a | index($t))) as $sa |
		map(select(.tid as $t | $b | index($t))) as $sb |
		$sa[] as $x | $sb[] | "\($x.clock) \(.clock)"' |
		orders | sort -u)" concurrent
}

@test "fork orders the child after the parent; reaping, the parent after the child" {
	local parent child

	run_scene fork
	parent="$(tid_of parent)" child="$(tid_of child)"

	spans_where ".name == \"read pipe\"" | jq -e -s --arg p "$parent" --arg c "$child" '
		map(.pid) == [$p, $c, $p]' >/dev/null
	expect_chain ".name == \"read pipe\"" 3
	# Fork and reaping order the points of spans, and link none.
	expect_consistent 0
}

@test "a condvar signal orders the waiter after the signaller" {
	local waiter signaller

	run_scene condvar
	waiter="$(tid_of waiter)" signaller="$(tid_of signaller)"

	# The waiter's condvar wait ended by the signaller's wake, linked to
	# the signaller's span before it: the read.
	hb_spans | jq -e -s --arg w "$waiter" --arg s "$signaller" '
		INDEX(.id) as $by |
		[.[] | select(.tid == $w and .name == "wait for futex" and
			.edge == "futex_wake" and .source == $s)] |
		length >= 1 and all(.[]; .links[0].kind == "futex_wake" and
			$by[.links[0].id].tid == $s)' >/dev/null
	expect_chain "(.tid == \"$signaller\" and .name == \"read pipe\") or
		(.tid == \"$waiter\" and .name == \"wait for futex\" and
			.source == \"$signaller\")" 2
	expect_consistent 1
}

@test "--offcpu-min: time off CPU is a span linked to the thread that woke it" {
	local waiter signaller

	AGENT_ARGS=(--offcpu-min 2ms)
	run_scene condvar
	waiter="$(tid_of waiter)" signaller="$(tid_of signaller)"

	# The waiter slept in its condvar wait until the signaller, back
	# from its read, woke it.
	spans_where ".tid == \"$waiter\" and .name == \"off cpu\"" |
		jq -e -s --arg s "$signaller" 'any(.[]; .edge == "wakeup" and
			.source == $s and .links[0].kind == "wakeup")' >/dev/null
	spans | jq -e -s --arg w "$waiter" 'any(.[]; .name == "off cpu" and
		.attrs["thread.id"] == $w and
		.attrs["knotscope.offcpu.in"] == "futex_wait" and
		.attrs["knotscope.offcpu.state"] == "interruptible")' >/dev/null
	expect_chain "(.tid == \"$signaller\" and .name == \"read pipe\") or
		(.tid == \"$waiter\" and .name == \"off cpu\" and
			.source == \"$signaller\")" 2
	expect_consistent 2
}

# chain_of JQ_CONDITION: the clocks of matching spans by end time, each
# with the next, as "A B" lines.
chain_of() {
	spans_where "$1" | jq -r -s 'range(1; length) as $i |
		"\(.[$i - 1].clock) \(.[$i].clock)"'
}

# expect_churners_unrelated READ_SPAN_NAME: after a churn scene, each
# process's 300 reads are in its program order, and none of the 270,000
# pairs across processes comes out ordered.
expect_churners_unrelated() {
	local reads="$BATS_TEST_TMPDIR/reads.jsonl" pid role churners=()

	for role in churn-0 churn-1 churn-2; do
		churners+=("\"$(tid_of "$role")\"")
	done
	spans_where "(.pid | IN($(
		IFS=,
		echo "${churners[*]}"
	))) and .name == \"$1\"" >"$reads"

	# Each made 300 channels and read each once, in its own program order.
	for pid in "${churners[@]}"; do
		expect_eq "reads of $pid" "$(jq -c "select(.pid == $pid)" "$reads" | wc -l)" 300
		expect_eq "orders along $pid's reads" "$(chain_of ".pid == $pid and
			.name == \"$1\"" | "$HB_CLOCK" order | sort | uniq -c)" \
			"$(printf '%7d before' 299)"
	done
	# Nothing connects the processes: of the 270,000 pairs across them,
	# none may come out ordered (unknown is allowed: it says so).
	"$HB_CLOCK" across pid <"$reads" >"$BATS_TEST_TMPDIR/across"
	sed "s/^/# pairs across the processes: /" "$BATS_TEST_TMPDIR/across" >&3
	expect_eq "pairs across the processes" "$(awk '{ n += $1 } END { print n }' \
		"$BATS_TEST_TMPDIR/across")" 270000
	expect_eq "ordered pairs across the processes" \
		"$(awk '$2 == "before" || $2 == "after" { n += $1 } END { print n + 0 }' \
			"$BATS_TEST_TMPDIR/across")" 0
}

@test "processes that reuse each other's dead pipes share no history" {
	# Reads that never block: only every message's hooks see them.
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene churn 300
	expect_churners_unrelated "read pipe"
}

@test "processes that reuse each other's dead unix sockets share no history" {
	# Reads that never block: only every message's hooks see them.
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene churn 300 unix
	expect_churners_unrelated "read unix_socket"
}

@test "processes that reuse each other's dead eventfds share no history" {
	# Reads that never block: only every message's hooks see them.
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene churn 300 eventfd
	expect_churners_unrelated "read eventfd"
}

# expect_reads_of_own_writes READ_SPAN_NAME: after a sequence scene of 30,
# each read is ordered after the writer's points before the write of its
# byte, and is not after later ones; it links to that write's span only.
expect_reads_of_own_writes() {
	local writer reader pairs spans

	writer="$(tid_of writer)" reader="$(tid_of reader)"
	spans="$(spans_where "(.tid == \"$writer\" or .tid == \"$reader\") and
		.name == \"$1\"")"
	# The writer's k-th point came before its write of k; the reader read
	# the values one by one, long after all were written, so its read of v
	# returned the byte of write v and nothing else.  With k <= v the pair
	# is ordered (30 * 31 / 2 of them); with k > v nothing the program did
	# orders it (30 * 29 / 2): concurrent, or unknown, never before.
	pairs="$(jq -r -s --arg w "$writer" --arg r "$reader" '
		map(select(.tid == $w)) as $ws | map(select(.tid == $r)) as $rs |
		if ($ws | length) != 30 or ($rs | length) != 30 then
			error("expected 30 reads each")
		else range(30) as $v | range(30) as $k |
			"\(if $k <= $v then "own" else "later" end) \($ws[$k].clock) \($rs[$v].clock)" end' <<<"$spans")"
	expect_eq "pairs of a point and a read of its write or a later one" \
		"$(grep '^own ' <<<"$pairs" | cut -d' ' -f2- | "$HB_CLOCK" order | sort | uniq -c)" \
		"$(printf '%7d before' 465)"
	expect_eq "pairs of a point and a read of an earlier write, ordered" \
		"$(grep '^later ' <<<"$pairs" | cut -d' ' -f2- | "$HB_CLOCK" order |
			grep -cv -e concurrent -e unknown)" 0
	# Each read links to the writer's span just before the write of its
	# byte, and to nothing else.
	expect_eq "reads linked to the span before their own write" \
		"$(jq -r -s --arg w "$writer" --arg r "$reader" '
		map(select(.tid == $w)) as $ws | map(select(.tid == $r)) as $rs |
		[range(30) as $v | select($rs[$v].links == [{id: $ws[$v].id, kind: "channel"}])] |
		length' <<<"$spans")" 30
	# The share of unknown answers, for docs/happens-before.md.
	grep '^later ' <<<"$pairs" | cut -d' ' -f2- | "$HB_CLOCK" order |
		sort | uniq -c | sed "s/^ */# reads against later writes' points: /" >&3
}

@test "a pipe read is ordered after the write of its own byte, and no later one" {
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene sequence 30
	expect_reads_of_own_writes "read pipe"
}

@test "a unix stream socket read is ordered after the write of its own byte only" {
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene sequence 30 unix
	expect_reads_of_own_writes "read unix_socket"
}

# expect_crowd_never_wrong READ_SPAN_NAME ROUNDS: after a crowd scene, no
# pair of a writer's point and a read comes out against the program's
# logic (an order it has not, or none where it has one).  Unknown is
# allowed: the two readers mostly wait in read() at the same time, and
# which of two overlapping reads took which bytes cannot be told, so how
# many answers are exact depends on the scheduling; the counts are shown.
expect_crowd_never_wrong() {
	local result

	result="$(hb_spans | jq -c --arg name "$1" 'select(.name == $name)' |
		"$HB_CLOCK" crowd "$WORKLOAD_OUT")"
	sed "s/^/# crowd: /" <<<"$result" >&3
	expect_eq "pairs" "$(awk '{ n += $1 } END { print n }' <<<"$result")" \
		"$((3 * $2 * 3 * $2))"
	expect_eq "answers against the program's logic" "$(awk '
		($2 == "ordered" && $3 != "before" && $3 != "unknown") ||
		($2 == "unordered" && $3 != "concurrent" && $3 != "unknown") { n += $1 }
		END { print n + 0 }' <<<"$result")" 0
}

@test "writers and readers crowding one pipe: no order against the program's" {
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene crowd 40
	expect_crowd_never_wrong "read pipe" 40
}

@test "writers and readers crowding one unix stream socket: no order against the program's" {
	AGENT_ARGS=(--min-wait 0 --channel-edges)
	run_scene crowd 40 unix
	expect_crowd_never_wrong "read unix_socket" 40
}

@test "--offcpu-min needs somewhere to send its spans" {
	run "$KNOTSCOPE" --offcpu-min 1ms --duration 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--offcpu-min makes spans: it needs an OTLP endpoint"* ]]
}
