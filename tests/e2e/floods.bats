#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# More records than the agent can take: a futex flood (threads handing a
# token round a ring, every wait a futex wait).  What is lost is counted,
# and counted the same wherever it is shown.

load helpers

setup_file() {
	require_bpf
}

http_address() {
	agent_records '.type == "ready"' | jq -r .http
}

# metric_sum NAME [LABEL-MATCH]: the sum of a /metrics series over its
# labels (those whose labels contain LABEL-MATCH); 0 when absent.
metric_sum() {
	curl -s --max-time 5 "http://$(http_address)/metrics" |
		awk -v name="$1" -v match_="${2:-}" '
		($1 == name || index($1, name "{") == 1) &&
		index($1, match_) { sum += $2 } END { printf "%d\n", sum }'
}

# Polls /healthz every 0.2 s while PID lives, with the chart's liveness
# probe's timeout (2 s); fails where that probe would restart the agent:
# on three answers in a row other than 200.  A single probe left without
# an answer is what a VM whose host pauses it for a moment can give.
healthy_while() {
	local code missed=0

	while kill -0 "$1" 2>/dev/null; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://$(http_address)/healthz" || true)
		if [ "$code" = 200 ]; then
			missed=0
		else
			echo "/healthz answered '$code' during the flood" >&2
			missed=$((missed + 1))
			[ "$missed" -lt 3 ] || return 1
		fi
		sleep 0.2
	done
}

@test "the summary counts the records lost to a full ring buffer, as /metrics does" {
	# Only the flood: other runs on the machine must not add drops.
	start_agent --comm futex_flood --ringbuf-mb 1 --listen 127.0.0.1:0
	start_workload futex_flood 4 3
	# Stopped, the agent reads nothing: a 1 MiB ring buffer fills within
	# milliseconds of the flood, and the kernel side drops the rest.
	kill -STOP "$AGENT_PID"
	sleep 1
	kill -CONT "$AGENT_PID"
	wait_until 20 test "$(metric_sum knotscope_agent_events_lost_total)" -gt 0
	wait "$WORKLOAD_PID"
	local scraped
	scraped=$(metric_sum knotscope_agent_events_lost_total)
	stop_agent

	local summary
	summary=$(agent_records '.type == "summary"')
	if [ "$(jq .kernel_drops <<<"$summary")" -ne "$scraped" ]; then
		echo "/metrics said $scraped lost after the flood; the summary:" >&2
		jq -c . <<<"$summary" >&2
		return 1
	fi
	grep -q " $scraped records lost to a full ring buffer" "$AGENT_ERR"
}

# said_since LINE PATTERN: whether the agent's stderr, from line LINE on,
# has PATTERN.
said_since() {
	tail -n +"$1" "$AGENT_ERR" | grep -q "$2"
}

@test "a flood makes the main loop tick every 5 ms, and its end every 20 ms again" {
	local from

	start_agent -v --comm futex_flood
	from=$(($(wc -l <"$AGENT_ERR") + 1))
	start_workload futex_flood 4 3
	wait_until 20 said_since "$from" "ticks every 5 ms" || {
		cat "$AGENT_ERR" >&2
		return 1
	}
	from=$(($(grep -n "ticks every 5 ms" "$AGENT_ERR" | tail -n1 | cut -d: -f1) + 1))
	wait "$WORKLOAD_PID"
	wait_until 20 said_since "$from" "ticks every 20 ms"
	stop_agent
}

@test "a flood with the collector down: the loop stays on time, memory under its ceiling" {
	# Every wait a span, to a collector that is not there, under a
	# ceiling the flood would go through: spans are shed before it.
	start_agent --comm futex_flood --min-wait 0 --listen 127.0.0.1:0 \
		--memory-limit 80Mi --otlp-endpoint http://127.0.0.1:1
	start_workload futex_flood 4 8
	healthy_while "$WORKLOAD_PID"
	local shed
	shed=$(metric_sum knotscope_agent_shed_total)
	[ "$(metric_sum knotscope_agent_memory_limit_bytes)" -eq $((80 << 20)) ]
	stop_agent

	local summary peak
	summary=$(agent_records '.type == "summary"')
	peak=$(jq .memory.peak_resident_bytes <<<"$summary")
	if [ "$peak" -ge $((80 << 20)) ]; then
		echo "resident memory peaked at $((peak >> 20)) MiB" >&2
		return 1
	fi
	# What was shed, and what was dropped with the queue full, is in
	# the summary as /metrics had it.
	jq -e --argjson shed "$shed" '.shed.spans + .shed.span_sites +
		.shed.hb_points >= $shed and .shed.spans > 0' <<<"$summary" >/dev/null
	grep -q "shedding spans" "$AGENT_ERR"
}
