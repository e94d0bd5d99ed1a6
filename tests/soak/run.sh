#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The soak: a futex flood (tests/workloads/futex_flood, every wait a span)
# watched by the real agent for SOAK_SECONDS, the first half with the OTLP
# collector down, the second with it back.  It checks, and fails unless:
#   - /healthz answered 200 every second of it;
#   - the agent's resident memory stayed under its ceiling (peak included);
#   - what was lost and shed is counted the same in /metrics, in the JSON
#     summary and in the last metrics the agent exported over OTLP: the
#     records the kernel dropped, the spans shed, the spans dropped with the
#     export queue full;
#   - spans reached the collector once it was back.
# Then it prints what it measured.
#
# usage: tests/soak/run.sh (SOAK_SECONDS, default 300; SOAK_MEMORY_LIMIT,
# default 128Mi; SOAK_RINGBUF_MB, default 1: small, so the kernel side has
# to drop and count too; SOAK_THREADS, default 4).  Needs root and BPF,
# like the agent.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_TOTAL=${SOAK_SECONDS:-300}
LIMIT=${SOAK_MEMORY_LIMIT:-128Mi}
THREADS=${SOAK_THREADS:-4}
RINGBUF_MB=${SOAK_RINGBUF_MB:-1}
DIR="$(mktemp -d /tmp/knotscope-soak.XXXXXX)"
AGENT_PID= FLOOD_PID= RECEIVER_PID=

cleanup() {
	for pid in $FLOOD_PID $RECEIVER_PID $AGENT_PID; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT

fail() {
	echo "soak: FAILED: $*" >&2
	echo "soak: agent stderr (last lines):" >&2
	tail -n 20 "$DIR/agent.err" >&2 || true
	echo "soak: everything is in $DIR" >&2
	exit 1
}

bytes_of() {
	case "$1" in
	*Gi | *G) echo $((${1%%G*} << 30)) ;;
	*Mi | *M) echo $((${1%%M*} << 20)) ;;
	*Ki | *K) echo $((${1%%K*} << 10)) ;;
	*) echo "$1" ;;
	esac
}
LIMIT_BYTES=$(bytes_of "$LIMIT")

# A port nothing listens on yet: the collector comes there later.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

kib_of() {
	awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# metric NAME [LABEL-MATCH]: the sum of a /metrics series.
metric() {
	curl -s --max-time 5 "http://$ADDRESS/metrics" |
		awk -v name="$1" -v match_="${2:-}" '
		($1 == name || index($1, name "{") == 1) && index($1, match_) {
			sum += $2 } END { printf "%d\n", sum }'
}

# The three counters compared everywhere, from /metrics, one line.
scrape() {
	echo "$(metric knotscope_agent_events_lost_total)" \
		"$(metric knotscope_agent_shed_total)" \
		"$(metric knotscope_agent_export_items_total \
			'{knotscope_signal="traces",knotscope_outcome="dropped_queue_full"}')"
}

echo "soak: ${SECONDS_TOTAL}s of futex flood ($THREADS threads), the" \
	"collector down for the first half; memory ceiling $LIMIT, ring" \
	"buffer $RINGBUF_MB MiB; in $DIR"

OTEL_BSP_SCHEDULE_DELAY=200 OTEL_METRIC_EXPORT_INTERVAL=5000 \
	"$ROOT/build/knotscope" --comm futex_flood --min-wait 0 \
	--memory-limit "$LIMIT" --ringbuf-mb "$RINGBUF_MB" --listen 127.0.0.1:0 \
	--otlp-endpoint "http://127.0.0.1:$PORT" --json "$DIR/agent.jsonl" \
	2>"$DIR/agent.err" &
AGENT_PID=$!
for _ in $(seq 300); do
	ADDRESS=$(jq -r 'select(.type == "ready") | .http' "$DIR/agent.jsonl" 2>/dev/null || true)
	[ -n "$ADDRESS" ] && break
	kill -0 "$AGENT_PID" || fail "the agent did not start"
	sleep 0.1
done
[ -n "$ADDRESS" ] || fail "the agent was not ready in 30 s"

"$ROOT/build/workloads/futex_flood" "$THREADS" "$SECONDS_TOTAL" \
	>"$DIR/flood.out" 2>&1 &
FLOOD_PID=$!

unhealthy=0 max_rss_kib=0 second=0
while kill -0 "$FLOOD_PID" 2>/dev/null; do
	if [ "$second" -eq $((SECONDS_TOTAL / 2)) ] && [ -z "$RECEIVER_PID" ]; then
		node "$ROOT/tests/otlp/receiver.js" --out "$DIR/received.jsonl" \
			--port "$PORT" --headers-only --bodies-for /v1/metrics \
			>"$DIR/receiver.out" 2>"$DIR/receiver.err" &
		RECEIVER_PID=$!
		echo "soak: ${second}s: the collector is back"
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		"http://$ADDRESS/healthz" || true)
	if [ "$code" != 200 ]; then
		unhealthy=$((unhealthy + 1))
		echo "soak: ${second}s: /healthz answered '$code'" >&2
	fi
	rss=$(kib_of "$AGENT_PID" VmRSS)
	[ "$rss" -gt "$max_rss_kib" ] && max_rss_kib=$rss
	if [ $((rss * 1024)) -ge "$LIMIT_BYTES" ]; then
		fail "${second}s: resident memory $((rss / 1024)) MiB, over the ceiling"
	fi
	if [ $((second % 30)) -eq 0 ]; then
		echo "soak: ${second}s: rss $((rss / 1024)) MiB;" \
			"lost, shed, dropped (queue full): $(scrape)"
	fi
	sleep 1
	second=$((second + 1))
done
wait "$FLOOD_PID" || fail "the flood failed"
FLOOD_PID=

# The flood is over: once the counters stand still, they are final.
before=$(scrape)
for _ in $(seq 30); do
	sleep 2
	after=$(scrape)
	[ "$after" = "$before" ] && break
	before=$after
done
read -r m_lost m_shed m_dropped <<<"$after"
peak_kib=$(kib_of "$AGENT_PID" VmHWM)
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || fail "the agent exited with status $?"
AGENT_PID=

summary=$(jq -c 'select(.type == "summary")' "$DIR/agent.jsonl")
[ -n "$summary" ] || fail "no summary"
s_lost=$(jq .kernel_drops <<<"$summary")
s_shed=$(jq '.shed.spans + .shed.span_sites + .shed.hb_points' <<<"$summary")
s_dropped=$(jq .export.traces.dropped_queue_full <<<"$summary")
s_exported=$(jq .export.traces.exported <<<"$summary")

# The last value the agent exported of a sum, over the data points whose
# attribute values include all of $2 (a JSON array of strings).
last_metric() {
	jq -s --arg name "$1" --argjson having "${2:-[]}" '
		[.[] | select(.path == "/v1/metrics") | .body.resourceMetrics[]
		 | .scopeMetrics[].metrics[] | select(.name == $name)
		 | [.sum.dataPoints[]
		    | select([.attributes // [] | .[].value.stringValue] as $v
			| all($having[]; . as $h | $v | index($h) != null))
		    | (.asInt | tonumber)] | add] | last // 0' \
		"$DIR/received.jsonl"
}
o_lost=$(last_metric knotscope.agent.events.lost)
o_shed=$(last_metric knotscope.agent.shed)
o_dropped=$(last_metric knotscope.agent.export.items \
	'["traces", "dropped_queue_full"]')

printf '\nsoak: %-36s %14s %14s %14s\n' "counted as" /metrics summary OTLP
printf 'soak: %-36s %14s %14s %14s\n' "records lost (ring buffer full)" \
	"$m_lost" "$s_lost" "$o_lost"
printf 'soak: %-36s %14s %14s %14s\n' "items shed (all kinds)" \
	"$m_shed" "$s_shed" "$o_shed"
printf 'soak: %-36s %14s %14s %14s\n' "spans dropped, queue full" \
	"$m_dropped" "$s_dropped" "$o_dropped"
echo "soak: spans exported: $s_exported; /healthz failures: $unhealthy;" \
	"rss peak $((peak_kib / 1024)) MiB (sampled max" \
	"$((max_rss_kib / 1024)) MiB) of a $((LIMIT_BYTES >> 20)) MiB ceiling;" \
	"flood: $(grep passes "$DIR/flood.out")"

[ "$unhealthy" -eq 0 ] || fail "/healthz failed $unhealthy times"
[ $((peak_kib * 1024)) -lt "$LIMIT_BYTES" ] || fail "memory peaked over the ceiling"
[ "$m_lost" = "$s_lost" ] && [ "$s_lost" = "$o_lost" ] ||
	fail "records lost are not counted the same everywhere"
[ "$m_shed" = "$s_shed" ] && [ "$s_shed" = "$o_shed" ] ||
	fail "items shed are not counted the same everywhere"
[ "$m_dropped" = "$s_dropped" ] && [ "$s_dropped" = "$o_dropped" ] ||
	fail "spans dropped are not counted the same everywhere"
[ "$s_exported" -gt 0 ] || fail "no span was exported once the collector was back"
echo "soak: passed"
rm -rf "$DIR"
