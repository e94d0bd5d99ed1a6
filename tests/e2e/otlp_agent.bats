#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The agent's OpenTelemetry export, end to end: real BPF capture of real
# workloads, OTLP/HTTP to tests/otlp/receiver.js, which decodes with
# OpenTelemetry's own generated code.  What is asserted is what a backend
# would read.  A test about one workload's spans watches that workload
# only: with every process of a busy machine, its spans can be the ones a
# full export queue drops.

load helpers

setup_file() {
	require_bpf
	make -s -C "$ROOT" otlp-test >&2
}

setup() {
	e2e_setup
	quick_otlp_batches
}

@test "a deadlock becomes an ERROR log record and one trace: a deadlock span over its waits" {
	local pid log trace

	start_receiver
	start_agent --comm abba
	start_workload abba
	pid=$WORKLOAD_PID
	wait_until 10 has_log ".eventName == \"knotscope.deadlock\" and
		.resource[\"process.pid\"] == \"$pid\""
	wait_until 10 error_spans_of "$pid" 3
	log="$(logs | jq -c --arg pid "$pid" 'select(.eventName == "knotscope.deadlock" and
		.resource["process.pid"] == $pid)' | head -n1)"

	jq -e --arg pid "$pid" '.severityNumber == 17 and .severityText == "ERROR" and
		(.body.stringValue | test("DEADLOCK: 2 threads")) and
		.resource["process.pid"] == $pid and
		.resource["service.name"] == "abba" and
		.resource["host.name"] != null and .resource["os.type"] == "linux" and
		.attrs["knotscope.deadlock.threads"] == "2" and
		(.attrs["knotscope.deadlock.report"] | fromjson | .threads | length) == 2' \
		<<<"$log" >/dev/null
	# The log points at the deadlock's root span ...
	trace="$(jq -r .traceId <<<"$log")"
	# ... and names every blocked wait under it.
	expect_eq "spans the log names" "$(jq -r '.attrs["knotscope.deadlock.span_ids"] |
		split(",") | sort | join(" ")' <<<"$log")" "$(spans | jq -r -s --arg t "$trace" \
		'[.[] | select(.traceId == $t and .name != "deadlock") | .spanId] | sort | join(" ")')"
	spans | jq -e -s --arg t "$trace" --arg root "$(jq -r .spanId <<<"$log")" '
		[.[] | select(.traceId == $t)] as $all |
		[$all[] | select((.parentSpanId // "") == "")] as $roots |
		[$all[] | select(.parentSpanId == $root)] as $waits |
		($all | length) == 3 and ($roots | length) == 1 and
		$roots[0].spanId == $root and $roots[0].name == "deadlock" and
		$roots[0].status.code == 2 and $roots[0].attrs["error.type"] == "deadlock" and
		$roots[0].attrs["knotscope.deadlock.threads"] == "2" and
		($waits | length) == 2 and
		all($waits[]; .status.message == "deadlock" and
			.attrs["error.type"] == "deadlock" and
			.name == "wait for mutex" and
			.links[0].traceId == $t and
			(.links[0].spanId as $l | any($waits[]; .spanId == $l)) and
			.attrs["knotscope.lock.kind"] == "mutex" and
			.attrs["code.function.name"] == "take")' >/dev/null
	# Each blocked wait has its place in the happens-before order: the
	# two threads blocked with no edge between them.
	expect_eq "order of the deadlocked waits" "$(spans | jq -r -s --arg t "$trace" '
		[.[] | select(.traceId == $t and .name != "deadlock") |
			.attrs["knotscope.hb.clock"]] |
		join(" ")' | "$ROOT/build/tests/tools/hb_order")" concurrent
	stop_agent
	expect_accounted
}

@test "deadlocked waits that copied no stack when they began still name their site" {
	local pid

	start_receiver
	# Each thread's deadlock wait is its second, well within the hour.
	start_agent --comm abba --wait-stack-every 3600s
	start_workload abba normal rewait
	pid=$WORKLOAD_PID
	wait_until 10 error_spans_of "$pid" 3
	spans | jq -e -s --arg pid "$pid" '[.[] | select(.resource["process.pid"] == $pid and
		.status.code == 2 and .name == "wait for mutex")] |
		length == 2 and all(.[]; .attrs["code.function.name"] == "take")' >/dev/null
	stop_agent
}

# How many spans trace TRACE has now: whether it has N.
trace_has_spans() {
	spans | jq -e -s --arg t "$1" --argjson n "$2" \
		'[.[] | select(.traceId == $t)] | length == $n' >/dev/null
}

@test "a deadlock through pipes becomes an ERROR log record and a span per blocked write" {
	local pid log trace

	start_receiver
	# Its own processes only: on a busy machine the spans of everything
	# else could fill the export queue.
	start_agent --comm io_deadlock --comm cat
	start_workload io_deadlock subprocess cat
	pid=$WORKLOAD_PID
	wait_until 20 has_log ".eventName == \"knotscope.deadlock\" and
		.resource[\"process.pid\"] == \"$pid\""
	log="$(logs | jq -c --arg pid "$pid" 'select(.eventName == "knotscope.deadlock" and
		.resource["process.pid"] == $pid)' | head -n1)"
	jq -e '.severityText == "ERROR" and
		(.body.stringValue | test("waits in write\\(\\) on pipe:")) and
		.attrs["knotscope.deadlock.threads"] == "2" and
		(.attrs["knotscope.deadlock.report"] | fromjson |
			[.threads[].wait.kind] == ["pipe-write", "pipe-write"])' \
		<<<"$log" >/dev/null
	# Under the deadlock's root span, each blocked write is a span named
	# by what it waits on.
	trace="$(jq -r .traceId <<<"$log")"
	wait_until 10 trace_has_spans "$trace" 3
	spans | jq -e -s --arg t "$trace" --arg root "$(jq -r .spanId <<<"$log")" '
		[.[] | select(.traceId == $t and .parentSpanId == $root)] as $waits |
		($waits | length) == 2 and
		all($waits[]; .name == "wait for pipe-write" and
			.status.message == "deadlock" and
			.attrs["knotscope.io.syscall"] == "write" and
			(.attrs["knotscope.io.object"] | test("^pipe:")))' >/dev/null
	stop_agent
	expect_accounted
}

@test "lock waits over --min-wait become spans with their site, thread and holder" {
	local start_ns

	start_receiver
	start_ns="$(date +%s%N)"
	start_agent --min-wait 100us --comm contention
	start_workload contention 8 2 3
	wait "$WORKLOAD_PID"
	stop_agent

	has_span ".resource[\"process.pid\"] == \"$WORKLOAD_PID\""
	# Durations from the low digits: a double cannot hold 19-digit
	# timestamps to the nanosecond.
	# A span's site costs an unwind, which a loaded machine's main loop
	# sheds and counts: every span without its site is one counted.
	spans | jq -e -s --arg pid "$WORKLOAD_PID" --arg start "$start_ns" --arg now "$(date +%s%N)" \
		--argjson shed "$(agent_records '.type == "summary"' | jq '.shed.span_sites')" '
		def duration_ns: ((.endTimeUnixNano[-12:] | tonumber) -
			(.startTimeUnixNano[-12:] | tonumber) + 1e12) % 1e12;
		[.[] | select(.resource["process.pid"] == $pid and
			.attrs["knotscope.lock.kind"] == "mutex")] |
		length > 10 and all(.[];
			.name == "wait for mutex" and .kind == 1 and
			(.traceId | test("^[0-9a-f]{32}$")) and .traceId != ("0" * 32) and
			(.spanId | test("^[0-9a-f]{16}$")) and
			(.startTimeUnixNano | tonumber) >= ($start | tonumber) and
			(.endTimeUnixNano | tonumber) <= ($now | tonumber) and
			duration_ns >= 100000 and
			(.attrs["thread.id"] | tonumber) > 0 and
			.attrs["thread.name"] == "contention" and
			(.attrs["knotscope.lock.address"] | test("^0x[0-9a-f]+$")) and
			.attrs["knotscope.mutex.type"] == "normal") and
		([.[] | select(.attrs["code.function.name"] != null)] | length > 10 and all(.[];
			.attrs["code.function.name"] == "transfer_in_order" and
			(.attrs["code.file.path"] | endswith("contention.c")))) and
		([.[] | select(.attrs["code.function.name"] == null)] | length <= $shed)' >/dev/null
	# One call site, one name, whether its waits had a known holder or not.
	spans | jq -e -s --arg pid "$WORKLOAD_PID" '[.[] | select(.resource["process.pid"] == $pid and
		.attrs["code.function.name"] == "transfer_in_order") | .name] | unique == ["wait for mutex"]' >/dev/null
	# A worker's waits are one trace per busy period, under a root named
	# after the thread, spanning them all.
	spans | jq -e -s --arg pid "$WORKLOAD_PID" '
		[.[] | select(.resource["process.pid"] == $pid)] as $mine |
		INDEX($mine[]; .spanId) as $by |
		[$mine[] | select(.name == "thread busy")] as $roots |
		($roots | length) >= 1 and ($roots | length) < ($mine | length) / 2 and
		all($mine[] | select(.name != "thread busy");
			$by[.parentSpanId].name == "thread busy" and
			$by[.parentSpanId].traceId == .traceId and
			$by[.parentSpanId].attrs["thread.id"] == .attrs["thread.id"] and
			($by[.parentSpanId].startTimeUnixNano | tonumber) <= (.startTimeUnixNano | tonumber))' >/dev/null
	# main() joining the workers waits for them to exit: a span too.
	has_span ".resource[\"process.pid\"] == \"$WORKLOAD_PID\" and
		.name == \"wait for thread-exit\" and .attrs[\"code.function.name\"] == \"main\""
	# Holders are threads of the same process.
	spans | jq -e -s --arg pid "$WORKLOAD_PID" '[.[] |
		select(.resource["process.pid"] == $pid) | .attrs["knotscope.lock.holder.tid"]] |
		map(select(. != null)) | length > 0' >/dev/null
	expect_accounted
}

@test "lock waits that copied no stack when they began name their site from their end" {
	start_receiver
	# Only each thread's first wait copies its stack when it begins.
	start_agent --min-wait 100us --wait-stack-every 3600s --comm contention
	start_workload contention 8 2 3
	wait "$WORKLOAD_PID"
	stop_agent

	spans | jq -e -s --arg pid "$WORKLOAD_PID" \
		--argjson shed "$(agent_records '.type == "summary"' | jq '.shed.span_sites')" '
		[.[] | select(.resource["process.pid"] == $pid and
			.attrs["knotscope.lock.kind"] == "mutex")] |
		([.[] | select(.attrs["code.function.name"] != null)] | length > 10 and all(.[];
			.attrs["code.function.name"] == "transfer_in_order")) and
		([.[] | select(.attrs["code.function.name"] == null)] | length <= $shed)' >/dev/null
}

# A wake can come while its thread is still on its way into the sleep,
# before the wait is recorded; such a wait must still end, and end then, not
# at the thread's next wake.  Under contention that happens every few waits;
# a rest of 300 ms between bursts shows a wait ended by the wake after it:
# no wait of this workload lasts nearly as long.
@test "a lock wait woken before it was recorded ends then, not at the next wake" {
	local summary

	start_receiver
	start_agent --min-wait 20us --comm contention
	start_workload contention 8 2 3 300
	wait "$WORKLOAD_PID"
	stop_agent

	spans | jq -e -s --arg pid "$WORKLOAD_PID" '
		[.[] | select(.resource["process.pid"] == $pid and
			.attrs["knotscope.lock.kind"] == "mutex")] |
		length > 10 and all(.[];
			(.endTimeUnixNano | tonumber) - (.startTimeUnixNano | tonumber) < 250e6)' >/dev/null
	# And every wait ends: none is left for the next one to replace.
	summary="$(agent_records '.type == "summary"')"
	jq -e '.events.wait_begin > 100 and
		.events.wait_end >= 0.99 * .events.wait_begin' <<<"$summary" >/dev/null
}

@test "C++ lock waits name the caller of std::mutex, not the library's headers" {
	start_receiver
	start_agent
	start_workload cxx_locks mutex
	# The deadlock's root span and its two blocked waits.
	wait_until 10 error_spans_of "$WORKLOAD_PID" 3

	spans | jq -e -s --arg pid "$WORKLOAD_PID" '[.[] |
		select(.resource["process.pid"] == $pid and .status.code == 2 and
			.name != "deadlock")] |
		length == 2 and all(.[];
			.attrs["code.function.name"] ==
				"transfer(account<std::mutex>&, account<std::mutex>&)" and
			(.attrs["code.file.path"] | endswith("cxx_locks.cpp")))' >/dev/null
}

@test "a stall becomes an ERROR log record knotscope.stall in its process" {
	start_receiver
	start_agent --stall-ms 300
	start_workload stall signal
	wait_until 10 has_log ".eventName == \"knotscope.stall\" and .resource[\"process.pid\"] == \"$WORKLOAD_PID\""

	logs | jq -e -s --arg pid "$WORKLOAD_PID" '[.[] | select(.eventName == "knotscope.stall")][0] |
		.severityText == "ERROR" and (.body.stringValue | test("STALL: all 2 threads")) and
		.resource["process.pid"] == $pid and .resource["service.name"] == "stall" and
		.attrs["knotscope.stall.threads"] == "2" and
		.attrs["knotscope.stall.signal_handlers"] == "SIGUSR1" and
		(.attrs["knotscope.stall.detection_latency_ms"] | tonumber) >= 300 and
		(.attrs["knotscope.stall.report"] | fromjson |
			.type == "stall" and ([.threads[].wait.guess] | unique) == ["sem_t"])' >/dev/null
	stop_agent
	expect_accounted
}

@test "a process names its own service through its OTEL_* environment" {
	start_receiver
	start_agent --min-wait 0 --comm contention
	OTEL_SERVICE_NAME=checkout OTEL_RESOURCE_ATTRIBUTES="deployment.environment=prod%20eu,team=payments" \
		start_workload contention 4 1 1
	wait "$WORKLOAD_PID"
	stop_agent

	spans | jq -e -s --arg pid "$WORKLOAD_PID" '[.[] | select(.resource["process.pid"] == $pid)][0].resource |
		.["service.name"] == "checkout" and
		.["deployment.environment"] == "prod eu" and .team == "payments" and
		.["process.executable.name"] == "contention"' >/dev/null
}

@test "resources: a service.instance.id per process, schema URLs, a scope per source" {
	local first second schema=https://opentelemetry.io/schemas/1.37.0

	start_receiver
	export OTEL_METRIC_EXPORT_INTERVAL=300
	start_agent --min-wait 0 --comm contention
	start_workload contention 8 2 2
	first=$WORKLOAD_PID
	start_workload contention 8 2 2
	second=$WORKLOAD_PID
	wait "$first" "$second"
	wait_until 10 has_metric ".resource[\"process.pid\"] == \"$second\""
	stop_agent

	# Two processes of one executable: two instances, each its own UUID,
	# the same for its spans and its metrics.
	spans | jq -e -s --arg a "$first" --arg b "$second" '
		def id($p): [.[] | select(.resource["process.pid"] == $p) |
			.resource["service.instance.id"]] | unique;
		(id($a) | length) == 1 and (id($b) | length) == 1 and
		id($a)[0] != id($b)[0] and
		(id($a)[0] | test("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))' >/dev/null
	expect_eq "metrics' instance" "$(metrics | jq -r -s --arg p "$second" \
		'[.[] | select(.resource["process.pid"] == $p) | .resource["service.instance.id"]] | unique | join(",")')" \
		"$(spans | jq -r -s --arg p "$second" \
		'[.[] | select(.resource["process.pid"] == $p) | .resource["service.instance.id"]] | unique | join(",")')"
	# The agent's own resource has one too.
	metrics | jq -e -s '[.[] | select(.name == "knotscope.agent.events")][0] |
		.resource["service.instance.id"] != null and .scope == "knotscope.agent"' >/dev/null
	received '[.[] | select(.signal == "traces") | .body.resourceSpans[] |
		.schemaUrl, (.scopeSpans[] | .schemaUrl)] | unique | join(",")' |
		grep -qx "$schema"
	received '[.[] | select(.signal == "metrics") | .body.resourceMetrics[] |
		.schemaUrl, (.scopeMetrics[] | .schemaUrl)] | unique | join(",")' |
		grep -qx "$schema"
	spans | jq -e -s 'all(.[]; (.name | startswith("wait for") or . == "thread busy") and
		.scope == "knotscope.locks" or
		(.name | startswith("read ")) and .scope == "knotscope.happens_before")' >/dev/null
	metrics | jq -e -s 'all(.[] | select(.name | startswith("knotscope.lock.")); .scope == "knotscope.locks")' >/dev/null
}

@test "metrics: lock wait histograms per process, the agent's health under its own resource" {
	start_receiver
	export OTEL_METRIC_EXPORT_INTERVAL=500 OTEL_SERVICE_NAME=knotscope-node
	start_agent
	start_workload contention 8 2 2
	wait "$WORKLOAD_PID"
	wait_until 10 has_metric ".name == \"knotscope.lock.wait.duration\" and .resource[\"process.pid\"] == \"$WORKLOAD_PID\""
	stop_agent

	metrics | jq -e -s --arg pid "$WORKLOAD_PID" '
		[.[] | select(.name == "knotscope.lock.wait.duration" and .resource["process.pid"] == $pid)] | last |
		.unit == "s" and .histogram.aggregationTemporality == 2 and
		(.histogram.dataPoints[0] |
			(.count | tonumber) > 0 and
			(.bucketCounts | map(tonumber) | add) == (.count | tonumber) and
			(.explicitBounds | length) == 7 and
			.attributes[0].key == "knotscope.lock.kind")' >/dev/null
	metrics | jq -e -s '[.[] | select(.name == "knotscope.agent.events")] | last |
		.resource["service.name"] == "knotscope-node" and
		.sum.isMonotonic and .sum.aggregationTemporality == 2' >/dev/null
	# The final snapshot matches the summary the agent printed.
	expect_eq "wait_begin events" \
		"$(metrics | jq -r -s '[.[] | select(.name == "knotscope.agent.events")] | last |
			.sum.dataPoints[] | select(.attributes[0].value.stringValue == "wait_begin") | .asInt')" \
		"$(agent_records '.type == "summary"' | jq -r '.events.wait_begin')"
	has_metric '.name == "knotscope.agent.export.items"'
}

@test "short-lived processes: their final metrics ride the periodic export, not a request each" {
	local pids="" i

	start_receiver
	export OTEL_METRIC_EXPORT_INTERVAL=2000
	start_agent --comm contention
	for i in 1 2 3 4 5 6 7 8; do
		start_workload contention 2 1 1
		wait "$WORKLOAD_PID"
		pids="$pids $WORKLOAD_PID"
	done
	for i in $pids; do
		wait_until 10 has_metric ".name == \"knotscope.futex.waits\" and .resource[\"process.pid\"] == \"$i\""
	done
	stop_agent

	# Eight exits, and no request but the periodic ones (two seconds
	# apart) and the last at the stop: the exits added none of their own.
	received '[.[] | select(.signal == "metrics") | .t_ms] | .[0:-1] |
		[range(1; length) as $i | .[$i] - .[$i - 1]] | all(. >= 1800)' | grep -qx true
	# A request carries every process that left since the last one,
	# each a resource of its own.
	received '[.[] | select(.signal == "metrics") | .body.resourceMetrics | length] | max' |
		{ read -r most; [ "$most" -ge 3 ]; }
	expect_accounted
}

@test "gzip, headers, and a SIGTERM that flushes what is queued" {
	start_receiver
	export OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	# After the first request, batches would wait a minute, and hold
	# everything: only the stop delivers them.
	export OTEL_BSP_SCHEDULE_DELAY=60000 OTEL_BLRP_SCHEDULE_DELAY=60000
	export OTEL_BSP_MAX_QUEUE_SIZE=65536 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=65536
	start_agent --otlp-header "x-tenant=blue team" --min-wait 0 --comm contention
	start_workload contention 4 1 1
	wait "$WORKLOAD_PID"
	[ "$(received '[.[] | select(.path == "/v1/traces")] | length')" -le 1 ]
	stop_agent TERM
	[ "$(received '[.[] | select(.path == "/v1/traces")] | length')" -ge 2 ]

	received '[.[] | select(.path == "/v1/traces")][0].headers' | jq -e '
		.["content-encoding"] == "gzip" and .["x-tenant"] == "blue team"' >/dev/null
	has_span ".resource[\"process.pid\"] == \"$WORKLOAD_PID\""
	agent_records '.type == "summary"' | jq -e '.export.traces |
		.dropped_shutdown == 0 and .exported == .produced' >/dev/null
	expect_eq "spans received" "$(spans | wc -l)" \
		"$(agent_records '.type == "summary"' | jq -r '.export.traces.exported')"
	expect_accounted
}

@test "an unreachable endpoint costs nothing but counted failures" {
	# Port 1 on loopback: nothing listens, connections are refused.
	export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:1" OTEL_BLRP_EXPORT_TIMEOUT=1000
	start_agent --min-wait 0
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
	stop_agent
	agent_records '.type == "summary"' | jq -e '.deadlocks >= 1 and
		.export.logs.produced >= 1 and .export.logs.exported == 0' >/dev/null
	expect_accounted
}

@test "a full export queue drops, and says how many" {
	start_receiver --statuses 503 --retry-after 30
	export OTEL_BSP_MAX_QUEUE_SIZE=4 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4 OTEL_BSP_SCHEDULE_DELAY=10
	start_agent --min-wait 0
	start_workload contention 8 2 2
	wait "$WORKLOAD_PID"
	stop_agent
	agent_records '.type == "summary"' | jq -e '.export.traces.dropped_queue_full > 0' >/dev/null
	expect_accounted
}

@test "OTEL_* values the spec says to ignore are warned about; malformed endpoints stop the start" {
	OTEL_EXPORTER_OTLP_TIMEOUT=soon OTEL_METRIC_EXPORT_INTERVAL=5s OTEL_METRICS_EXPORTER=console \
		OTEL_RESOURCE_ATTRIBUTES='team=a%00b' \
		OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1 run "$KNOTSCOPE" --duration 1 --listen off
	[ "$status" -eq 0 ]
	[[ "$output" == *"OTEL_EXPORTER_OTLP_TIMEOUT='soon': not a number of milliseconds; the default applies"* ]]
	[[ "$output" == *"OTEL_METRIC_EXPORT_INTERVAL='5s': not a number of milliseconds; the default applies"* ]]
	[[ "$output" == *"OTEL_METRICS_EXPORTER='console': 'console' is not an exporter knotscope has"* ]]
	[[ "$output" == *"OTEL_RESOURCE_ATTRIBUTES='team=a%00b': a value has %00, which would cut it short; discarded whole"* ]]
	run "$KNOTSCOPE" --otlp-endpoint ftp://example --duration 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--otlp-endpoint"* ]]
	run "$KNOTSCOPE" --otlp-protocol http/json --duration 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--otlp-protocol='http/json': not 'grpc' or 'http/protobuf'"* ]]
	run "$KNOTSCOPE" --min-wait 5parsecs --duration 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--min-wait"* ]]
	# Headers that would add lines to requests or break their framing,
	# and URLs that cannot work: one line each, before anything loads.
	local bad
	for bad in "--otlp-header=Content-Length=5" \
		$'--otlp-header=x=a\r\nEvil: 1' \
		"--otlp-endpoint=http://[::1" "--otlp-endpoint=http://a b" \
		"--otlp-endpoint=http://127.0.0.1:99999" "--otlp-timeout-ms=soon"; do
		run "$KNOTSCOPE" "$bad" --duration 1
		[ "$status" -eq 2 ] || {
			echo "'$bad' exited $status: $output" >&2
			return 1
		}
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"${bad%%=*}"* ]]
	done
	OTEL_EXPORTER_OTLP_HEADERS='x=a%0d%0aEvil: 1' run "$KNOTSCOPE" \
		--otlp-endpoint http://127.0.0.1:1 --duration 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"OTEL_EXPORTER_OTLP_HEADERS"* ]]
	# From the environment too, a gRPC endpoint without a scheme included.
	OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=collector:0 \
		run "$KNOTSCOPE" --duration 1
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"OTEL_EXPORTER_OTLP_ENDPOINT='collector:0': not a usable URL: port 0"* ]]
}

@test "OTEL_SDK_DISABLED=true: a deadlock is reported, and nothing is exported" {
	start_receiver
	export OTEL_SDK_DISABLED=true
	start_agent --min-wait 0
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
	stop_agent
	grep -q "OTEL_SDK_DISABLED=true: no OpenTelemetry export" "$AGENT_ERR"
	expect_eq "requests" "$(received 'length')" 0
	agent_records '.type == "summary"' | jq -e '.export == null' >/dev/null
}

@test "OTEL_TRACES_SAMPLER=always_off: no spans, the deadlock's log record still goes" {
	start_receiver
	export OTEL_TRACES_SAMPLER=always_off
	start_agent --min-wait 0 --comm abba
	start_workload abba
	wait_until 10 has_log '.eventName == "knotscope.deadlock"'
	stop_agent
	expect_eq "spans" "$(spans | wc -l)" 0
	expect_accounted
}

@test "a deadlock over OTLP/gRPC: its log record and its trace reach a gRPC collector" {
	start_grpc_receiver
	start_agent --min-wait 0 --comm abba
	start_workload abba
	wait_until 10 has_log '.eventName == "knotscope.deadlock"'
	wait_until 10 error_spans_of "$WORKLOAD_PID" 3
	stop_agent
	expect_eq "transport" "$(received '[.[].transport] | unique | join(",")')" grpc
	has_metric '.name == "knotscope.agent.export.items"'
	expect_accounted
}

@test "waits for kernel locks become spans and metrics like user locks" {
	start_receiver
	export OTEL_METRIC_EXPORT_INTERVAL=500
	start_agent --min-wait 0 --comm file_writers
	# Appends to one file serialize on a kernel lock of the file system
	# (the inode's rw-semaphore, or a mutex, depending on the kernel).
	start_workload file_writers "$BATS_TEST_TMPDIR/appended" 4 300
	wait "$WORKLOAD_PID"
	stop_agent

	spans | jq -e -s --arg pid "$WORKLOAD_PID" '
		[.[] | select(.resource["process.pid"] == $pid and
			(.name | startswith("wait for kernel-")))] |
		length > 0 and all(.[];
			(.attrs["knotscope.lock.address"] | test("^k:[0-9a-f]{16}$")) and
			.attrs["thread.name"] == "file_writers") and
		any(.[]; .attrs["knotscope.lock.holder.tid"] != null)' >/dev/null
	metrics | jq -e -s --arg pid "$WORKLOAD_PID" '
		[.[] | select(.name == "knotscope.lock.wait.duration" and
			.resource["process.pid"] == $pid)] | last |
		.histogram.dataPoints | any(.[];
			.attributes[0].value.stringValue | startswith("kernel-"))' >/dev/null
}
