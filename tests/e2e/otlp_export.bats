#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OTLP export end to end, without BPF: tests/otlp/otlp_driver hands known
# telemetry to the export layer, which sends it to tests/otlp/receiver.js.
# The receiver decodes with OpenTelemetry's own generated code, so the
# values compared here are what any OTLP backend would read.  Every test
# also checks that the driver's counters account for each item exactly.

load helpers
load driver

setup_file() {
	# Builds the driver and installs the receiver's modules if needed.
	make -s -C "$ROOT" otlp-test >&2
}

@test "spans arrive with the ids, times and attributes of the official protos" {
	start_receiver
	export OTEL_SERVICE_NAME=knotscope-e2e
	export OTEL_RESOURCE_ATTRIBUTES="deployment.environment=e2e%20test"
	export OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20s3cret"
	run_driver --spans 2 --before-start

	expect_eq "requests" "$(received 'length')" 1
	expect_eq "path" "$(received '.[0].path')" /v1/traces
	expect_eq "content type" "$(received '.[0].headers["content-type"]')" \
		application/x-protobuf
	expect_eq "decoded header" "$(received '.[0].headers.authorization')" \
		"Bearer s3cret"
	expect_eq "user agent" "$(received '.[0].headers["user-agent"]')" \
		knotscope/0.1.0
	# Spans 0 and 1 belong to two processes: one ResourceSpans each.
	local rs='.[0].body.resourceSpans'
	expect_eq "resources" "$(received "$rs | length")" 2
	expect_eq "pid" "$(received "$rs[0].resource.attributes[] |
		select(.key == \"process.pid\").value.intValue")" 1001
	expect_eq "service" "$(received "$rs[1].resource.attributes[] |
		select(.key == \"service.name\").value.stringValue")" philosophers
	expect_eq "environment" "$(received "$rs[1].resource.attributes[] |
		select(.key == \"deployment.environment\").value.stringValue")" \
		"e2e test"
	expect_eq "scope" "$(received "$rs[0].scopeSpans[0].scope.name")" knotscope

	local span="$rs[0].scopeSpans[0].spans[0]"
	expect_eq "spans of pid 1001" "$(received "$rs[0].scopeSpans[0].spans |
		length")" 1
	expect_eq "trace id" "$(received "$span.traceId")" \
		7e000000000000000000000000000001
	expect_eq "span id" "$(received "$span.spanId")" 5b00000000000001
	expect_eq "parent" "$(received "$span.parentSpanId")" 9a00000000000001
	expect_eq "name" "$(received "$span.name")" "lock wait"
	expect_eq "kind internal" "$(received "$span.kind")" 1
	expect_eq "start" "$(received "$span.startTimeUnixNano")" \
		1700000000000000000
	expect_eq "end" "$(received "$span.endTimeUnixNano")" 1700000000000250000
	expect_eq "int attribute" "$(received "$span.attributes[] |
		select(.key == \"thread.id\").value.intValue")" 2000
	expect_eq "string attribute" "$(received "$span.attributes[] |
		select(.key == \"knotscope.lock.address\").value.stringValue")" \
		0x7f00dead0000
	expect_eq "double attribute" "$(received "$span.attributes[] |
		select(.key == \"knotscope.wait.ms\").value.doubleValue")" 0.25
	expect_eq "bool attribute" "$(received "$span.attributes[] |
		select(.key == \"knotscope.deadlocked\").value.boolValue")" true
	expect_eq "status" "$(received "$span.status | [.code, .message] |
		join(\" \")")" "2 deadlocked"
	expect_eq "event" "$(received "$span.events[0] |
		[.name, .timeUnixNano] | join(\" \")")" \
		"cycle confirmed 1700000000000100000"
	expect_eq "link" "$(received "$span.links[0].spanId")" c400000000000001
	expect_eq "second span" "$(received "$rs[1].scopeSpans[0].spans[0] |
		[.spanId, (.status.code // 0)] | join(\" \")")" \
		"5b00000000000002 0"

	expect_eq "exported" "$(stat .traces.exported)" 2
	expect_accounted
}

@test "log records and metrics arrive with the fields of the official protos" {
	start_receiver
	export OTEL_SERVICE_NAME=knotscope-e2e
	run_driver --logs 2 --metrics --before-start

	local logs='.[] | select(.path == "/v1/logs") | .body.resourceLogs'
	local record="$logs[0].scopeLogs[0].logRecords[1]"
	expect_eq "records" "$(received "[$logs[0].scopeLogs[0].logRecords[]] |
		length")" 2
	expect_eq "event name" "$(received "$record.eventName")" \
		knotscope.deadlock
	expect_eq "severity" "$(received "$record | [.severityNumber,
		.severityText] | join(\" \")")" "17 ERROR"
	expect_eq "time" "$(received "$record.timeUnixNano")" 1700000000000000001
	expect_eq "observed" "$(received "$record.observedTimeUnixNano")" \
		1700000000000000006
	expect_eq "body" "$(received "$record.body.stringValue")" \
		"deadlock: 2 threads wait for each other"
	expect_eq "trace id" "$(received "$record.traceId")" \
		7e000000000000000000000000000002
	expect_eq "span id" "$(received "$record.spanId")" 5b00000000000002
	expect_eq "attribute" "$(received "$record.attributes[] |
		select(.key == \"knotscope.deadlock.id\").value.stringValue")" dl-1

	local rm='.[] | select(.path == "/v1/metrics") | .body.resourceMetrics'
	expect_eq "agent resource" "$(received "$rm[0].resource.attributes[] |
		select(.key == \"service.name\").value.stringValue")" \
		knotscope-e2e
	expect_eq "gauge" "$(received "$rm[0].scopeMetrics[0].metrics[0] |
		[.name, .unit, .gauge.dataPoints[0].asInt] | join(\" \")")" \
		"knotscope.processes.watched {process} 2"
	local sum="$rm[1].scopeMetrics[0].metrics[0]"
	expect_eq "sum" "$(received "$sum | [.name, .sum.isMonotonic,
		.sum.aggregationTemporality, .sum.dataPoints[0].asInt,
		.sum.dataPoints[0].startTimeUnixNano] | join(\" \")")" \
		"knotscope.lock.waits true 2 42 1699999999999999000"
	local point="$rm[1].scopeMetrics[0].metrics[1].histogram.dataPoints[0]"
	expect_eq "histogram" "$(received "$point | [.count, .sum, .min, .max,
		(.bucketCounts | join(\",\")), (.explicitBounds | join(\",\"))] |
		join(\" \")")" "10 0.75 0.0002 0.5 0,5,3,1,1,0 0.0001,0.001,0.01,0.1,1"

	expect_eq "records exported" "$(stat .logs.exported)" 2
	expect_eq "data points exported" "$(stat .metrics.exported)" 3
	expect_accounted
}

@test "gzip-compressed requests decode to the same spans" {
	start_receiver
	export OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	run_driver --spans 3 --before-start

	expect_eq "encoding" "$(received '.[0].headers["content-encoding"]')" gzip
	expect_eq "decoded" "$(received '.[0].error // "none"')" none
	expect_eq "span ids" "$(received '[.[0].body.resourceSpans[].scopeSpans[]
		| .spans[].spanId] | sort | join(",")')" \
		5b00000000000001,5b00000000000002,5b00000000000003
	expect_eq "exported" "$(stat .traces.exported)" 3
	expect_accounted
}

@test "503 twice then 200 is retried and delivered once" {
	start_receiver --statuses 503,503,200
	run_driver --spans 3 --before-start --retry-initial-ms 20

	expect_eq "answers" "$(received '[.[].status] | join(",")')" 503,503,200
	expect_eq "same batch each time" "$(received '[.[].body] | unique |
		length')" 1
	expect_eq "one kept-alive connection" "$(received '[.[].remote_port] |
		unique | length')" 1
	expect_eq "exported" "$(stat .traces.exported)" 3
	expect_eq "requests" "$(stat .traces.requests)" 3
	expect_eq "retries" "$(stat .traces.retries)" 2
	expect_accounted
}

@test "429 with Retry-After waits as long as the receiver asks" {
	start_receiver --statuses 429,200 --retry-after 1
	# Without the header the backoff would retry within 20 ms.
	run_driver --spans 2 --before-start --retry-initial-ms 10

	expect_eq "answers" "$(received '[.[].status] | join(",")')" 429,200
	local waited
	waited=$(received '.[1].t_ms - .[0].t_ms')
	if [ "$waited" -lt 900 ]; then
		echo "retried after $waited ms despite Retry-After: 1" >&2
		return 1
	fi
	expect_eq "exported" "$(stat .traces.exported)" 2
	expect_accounted
}

@test "Retry-After: 0 still backs off exponentially" {
	start_receiver --statuses 429 --retry-after 0
	export OTEL_BSP_EXPORT_TIMEOUT=1500
	# Waits of at least 50, 100, 200, 400 ms: a handful of attempts, where
	# "retry now" taken literally makes thousands.
	run_driver --spans 2 --before-start --retry-initial-ms 100

	local requests
	requests=$(stat .traces.requests)
	if [ "$requests" -gt 8 ]; then
		echo "$requests attempts in 1.5 s after Retry-After: 0" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 2
	expect_accounted
}

@test "a Retry-After longer than the export timeout holds the next batch too" {
	start_receiver --statuses 429,200 --retry-after 2
	export OTEL_BSP_EXPORT_TIMEOUT=500 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1
	run_driver --spans 2 --before-start --retry-initial-ms 10

	expect_eq "answers" "$(received '[.[].status] | join(",")')" 429,200
	local waited
	waited=$(received '.[1].t_ms - .[0].t_ms')
	if [ "$waited" -lt 1900 ]; then
		echo "the next batch went $waited ms after Retry-After: 2" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 1
	expect_eq "exported" "$(stat .traces.exported)" 1
	expect_accounted
}

@test "a hung collector holds one attempt for the request timeout only" {
	start_receiver --hang
	export OTEL_EXPORTER_OTLP_TIMEOUT=200 OTEL_BSP_EXPORT_TIMEOUT=2000
	run_driver --spans 1 --before-start --retry-initial-ms 20

	local requests
	requests=$(stat .traces.requests)
	if [ "$requests" -lt 3 ]; then
		echo "$requests attempts in 2 s with a 200 ms request timeout" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 1
	expect_accounted
}

@test "400 is not retried and its items count as failed" {
	start_receiver --statuses 400
	run_driver --spans 3 --before-start --retry-initial-ms 10

	expect_eq "requests seen" "$(received 'length')" 1
	expect_eq "requests sent" "$(stat .traces.requests)" 1
	expect_eq "failed" "$(stat .traces.failed.http_status)" 3
	expect_eq "exported" "$(stat .traces.exported)" 0
	expect_accounted
}

@test "partial success counts the rejected items and is not retried" {
	start_receiver --rejected 2 --error-message "spans too old"
	run_driver --spans 5 --before-start

	expect_eq "requests" "$(received 'length')" 1
	expect_eq "rejected" "$(stat .traces.rejected)" 2
	expect_eq "exported" "$(stat .traces.exported)" 3
	grep -q "rejected 2 of 5 spans: spans too old" \
		"$BATS_TEST_TMPDIR/driver.log"
	expect_accounted
}

@test "partial success of metrics counts data points" {
	start_receiver --rejected 1
	run_driver --metrics --before-start

	expect_eq "rejected" "$(stat .metrics.rejected)" 1
	expect_eq "exported" "$(stat .metrics.exported)" 2
	expect_accounted
}

@test "an unreachable endpoint fails cleanly, retried until the export timeout" {
	# A port that was just listening and is closed now: refused.
	start_receiver
	stop_receiver
	export OTEL_BSP_EXPORT_TIMEOUT=800
	run_driver --spans 3 --before-start --retry-initial-ms 20

	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 3
	expect_eq "exported" "$(stat .traces.exported)" 0
	if [ "$(stat .traces.retries)" -lt 1 ]; then
		echo "a refused connection was not retried" >&2
		return 1
	fi
	grep -q "retries_exhausted" "$BATS_TEST_TMPDIR/driver.log"
	expect_accounted
}

@test "a full queue drops the newest items and counts them" {
	start_receiver
	export OTEL_BSP_MAX_QUEUE_SIZE=8
	run_driver --spans 20 --before-start

	expect_eq "dropped" "$(stat .traces.dropped_queue_full)" 12
	expect_eq "exported" "$(stat .traces.exported)" 8
	expect_eq "capacity" "$(stat .traces.queue_capacity)" 8
	# The oldest eight were kept: spans 0 to 7.
	expect_eq "spans received" "$(received '[.[].body.resourceSpans[]
		| .scopeSpans[].spans[].spanId[14:16]] | sort | join(",")')" \
		01,02,03,04,05,06,07,08
	expect_accounted
}

@test "a request over 64 MiB before compression is refused, not sent" {
	start_receiver
	export OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	run_driver --spans 2 --padding-bytes $((32 * 1024 * 1024)) \
		--before-start

	expect_eq "failed" "$(stat .traces.failed.too_large)" 2
	expect_eq "requests sent" "$(stat .traces.requests)" 0
	expect_eq "requests seen" "$(received 'length')" 0
	expect_accounted
}

@test "stop gives up at its deadline and counts the rest as dropped at shutdown" {
	start_receiver --statuses 503
	export OTEL_BSP_EXPORT_TIMEOUT=60000
	run_driver --spans 4 --logs 2 --before-start --stop-ms 500 \
		--retry-initial-ms 50

	expect_eq "spans dropped" "$(stat .traces.dropped_shutdown)" 4
	expect_eq "records dropped" "$(stat .logs.dropped_shutdown)" 2
	expect_eq "exported" "$(stat .traces.exported)" 0
	# Bounded by the deadline, not by the 60 s export timeout; it may end
	# sooner, as soon as the next retry would fall past the deadline.
	if ! jq -e '.stop_ms < 2000' "$STATS" >/dev/null; then
		echo "stop took $(stat .stop_ms) ms for a 500 ms deadline" >&2
		return 1
	fi
	expect_accounted
}

@test "mutual TLS with the configured CA and client certificate" {
	local dir="$BATS_TEST_TMPDIR/tls"

	make_tls "$dir"
	start_receiver --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
		--tls-ca "$dir/ca.pem"
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$PORT"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$dir/ca.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$dir/client.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_KEY="$dir/client.key"
	run_driver --spans 1 --before-start

	expect_eq "received" "$(received 'length')" 1
	expect_eq "exported" "$(stat .traces.exported)" 1
	expect_accounted

	# A server certificate from another CA is refused, and not retried.
	unset OTEL_EXPORTER_OTLP_CERTIFICATE
	run_driver --spans 1 --before-start
	expect_eq "failed" "$(stat .traces.failed.transport)" 1
	expect_eq "still one request" "$(received 'length')" 1
	expect_accounted
}
