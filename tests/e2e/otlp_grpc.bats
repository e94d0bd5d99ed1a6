#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# OTLP/gRPC export end to end, without BPF: tests/otlp/otlp_driver hands
# known telemetry to the export layer, which calls a real gRPC server
# (tests/otlp/grpc_receiver.js: @grpc/grpc-js serving the services of the
# official .proto files).  Retries, throttling and partial success follow
# the OTLP/gRPC specification; every test checks that each item is
# accounted for.

load helpers
load driver

setup_file() {
	make -s -C "$ROOT" otlp-test >&2
}

@test "spans, log records and metrics are Export calls the official services decode" {
	start_grpc_receiver
	export OTEL_EXPORTER_OTLP_HEADERS="x-tenant=blue%20team"
	run_driver --spans 3 --logs 2 --metrics --before-start

	expect_eq "calls" "$(received '[.[].path] | sort | join(" ")')" \
		"/opentelemetry.proto.collector.logs.v1.LogsService/Export /opentelemetry.proto.collector.metrics.v1.MetricsService/Export /opentelemetry.proto.collector.trace.v1.TraceService/Export"
	expect_eq "metadata" "$(received '[.[].headers["x-tenant"]] | unique | join(",")')" \
		"blue team"
	expect_eq "span ids" "$(received '[.[] | select(.signal == "traces") |
		.body.resourceSpans[].scopeSpans[].spans[].spanId] | sort | join(",")')" \
		5b00000000000001,5b00000000000002,5b00000000000003
	expect_eq "log bodies" "$(received '[.[] | select(.signal == "logs") |
		.body.resourceLogs[].scopeLogs[].logRecords[].body.stringValue] | length')" 2
	expect_eq "exported" "$(stat '[.traces.exported, .logs.exported, .metrics.exported] | join(",")')" \
		3,2,3
	expect_accounted
}

@test "grpc-encoding gzip: compressed messages decode to the same spans" {
	start_grpc_receiver
	export OTEL_EXPORTER_OTLP_COMPRESSION=gzip
	run_driver --spans 3 --before-start

	expect_eq "encoding" "$(received '.[0].headers["x-seen-grpc-encoding"]')" gzip
	expect_eq "span ids" "$(received '[.[0].body.resourceSpans[].scopeSpans[]
		| .spans[].spanId] | sort | join(",")')" \
		5b00000000000001,5b00000000000002,5b00000000000003
	expect_eq "exported" "$(stat .traces.exported)" 3
	expect_accounted
}

@test "UNAVAILABLE twice then OK is retried and delivered once" {
	start_grpc_receiver --statuses 14,14,0
	run_driver --spans 3 --before-start --retry-initial-ms 20

	expect_eq "answers" "$(received '[.[].status] | join(",")')" 14,14,0
	expect_eq "same batch each time" "$(received '[.[].body] | unique | length')" 1
	expect_eq "exported" "$(stat .traces.exported)" 3
	expect_eq "retries" "$(stat .traces.retries)" 2
	expect_accounted
}

@test "a RetryInfo in the status details sets the pause before the retry" {
	start_grpc_receiver --statuses 14,0 --retry-delay-ms 1000
	run_driver --spans 2 --before-start --retry-initial-ms 10

	local waited
	waited=$(received '.[1].t_ms - .[0].t_ms')
	if [ "$waited" -lt 900 ]; then
		echo "retried after $waited ms despite a 1 s RetryInfo" >&2
		return 1
	fi
	expect_eq "exported" "$(stat .traces.exported)" 2
	expect_accounted
}

@test "a RetryInfo of 0 still backs off exponentially" {
	start_grpc_receiver --statuses 14 --retry-delay-ms 0
	export OTEL_BSP_EXPORT_TIMEOUT=1500
	# Waits of at least 50, 100, 200, 400 ms: a handful of calls, where
	# "retry now" taken literally makes thousands.
	run_driver --spans 2 --before-start --retry-initial-ms 100

	local calls
	calls=$(stat .traces.requests)
	if [ "$calls" -gt 8 ]; then
		echo "$calls calls in 1.5 s after a RetryInfo of 0" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 2
	expect_accounted
}

@test "a RetryInfo longer than the export timeout holds the next batch too" {
	start_grpc_receiver --statuses 14,0 --retry-delay-ms 2000
	export OTEL_BSP_EXPORT_TIMEOUT=500 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1
	run_driver --spans 2 --before-start --retry-initial-ms 10

	expect_eq "answers" "$(received '[.[].status] | join(",")')" 14,0
	local waited
	waited=$(received '.[1].t_ms - .[0].t_ms')
	if [ "$waited" -lt 1900 ]; then
		echo "the next batch went $waited ms after a 2 s RetryInfo" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 1
	expect_eq "exported" "$(stat .traces.exported)" 1
	expect_accounted
}

@test "a hung gRPC server holds one call for the request timeout only" {
	start_grpc_receiver --hang
	export OTEL_EXPORTER_OTLP_TIMEOUT=200 OTEL_BSP_EXPORT_TIMEOUT=2000
	run_driver --spans 1 --before-start --retry-initial-ms 20

	local calls
	calls=$(stat .traces.requests)
	if [ "$calls" -lt 3 ]; then
		echo "$calls calls in 2 s with a 200 ms request timeout" >&2
		return 1
	fi
	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 1
	expect_accounted
}

@test "RESOURCE_EXHAUSTED is retried only with a RetryInfo" {
	start_grpc_receiver --statuses 8
	run_driver --spans 2 --before-start --retry-initial-ms 10
	expect_eq "calls" "$(received 'length')" 1
	expect_eq "failed" "$(stat .traces.failed.grpc_status)" 2
	expect_accounted
	stop_receiver

	: >"$RECEIVED"
	start_grpc_receiver --statuses 8,0 --retry-delay-ms 50
	run_driver --spans 2 --before-start --retry-initial-ms 10
	expect_eq "answers" "$(received '[.[].status] | join(",")')" 8,0
	expect_eq "exported" "$(stat .traces.exported)" 2
	expect_accounted
}

@test "INVALID_ARGUMENT is not retried and its items count as failed" {
	start_grpc_receiver --statuses 3
	run_driver --spans 3 --before-start --retry-initial-ms 10

	expect_eq "calls" "$(received 'length')" 1
	expect_eq "failed" "$(stat .traces.failed.grpc_status)" 3
	grep -q "gRPC status 3 (INVALID_ARGUMENT): try later" "$BATS_TEST_TMPDIR/driver.log"
	expect_accounted
}

@test "a collector's grpc-message is escaped before it is printed" {
	start_grpc_receiver --statuses 3 --error-message $'\e[2Jbad\nknotscope: OK'
	run_driver --spans 1 --before-start --retry-initial-ms 10

	expect_eq "failed" "$(stat .traces.failed.grpc_status)" 1
	grep -qF 'INVALID_ARGUMENT): \x1b[2Jbad\x0aknotscope: OK' \
		"$BATS_TEST_TMPDIR/driver.log"
	if grep -q $'\e' "$BATS_TEST_TMPDIR/driver.log"; then
		echo "an escape character reached the log" >&2
		return 1
	fi
	expect_accounted
}

@test "partial success over gRPC counts the rejected items and is not retried" {
	start_grpc_receiver --rejected 2 --error-message "spans too old"
	run_driver --spans 5 --before-start

	expect_eq "calls" "$(received 'length')" 1
	expect_eq "rejected" "$(stat .traces.rejected)" 2
	expect_eq "exported" "$(stat .traces.exported)" 3
	grep -q "rejected 2 of 5 spans: spans too old" "$BATS_TEST_TMPDIR/driver.log"
	expect_accounted
}

@test "https:// negotiates HTTP/2 by ALPN; an endpoint without a scheme is TLS" {
	local dir="$BATS_TEST_TMPDIR/tls"

	make_tls "$dir"
	start_grpc_receiver --tls-cert "$dir/server.pem" --tls-key "$dir/server.key"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$dir/ca.pem"
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$PORT"
	run_driver --spans 1 --before-start
	expect_eq "exported over https" "$(stat .traces.exported)" 1
	export OTEL_EXPORTER_OTLP_ENDPOINT="127.0.0.1:$PORT"
	run_driver --spans 1 --before-start
	expect_eq "exported without a scheme" "$(stat .traces.exported)" 1
	expect_eq "calls" "$(received 'length')" 2
	expect_accounted
}

@test "an HTTP/1 server answers nothing a gRPC client can use: counted as failed" {
	start_receiver
	export OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_BSP_EXPORT_TIMEOUT=500
	run_driver --spans 2 --before-start --retry-initial-ms 10

	expect_eq "failed" "$(stat .traces.failed.retries_exhausted)" 2
	expect_eq "exported" "$(stat .traces.exported)" 0
	expect_accounted
}

@test "per-signal protocols: traces over gRPC, logs over HTTP, each to its own receiver" {
	local grpc_port http_received="$BATS_TEST_TMPDIR/http.jsonl"

	start_grpc_receiver
	grpc_port=$PORT
	GRPC_PID=$RECEIVER_PID
	unset OTEL_EXPORTER_OTLP_PROTOCOL
	RECEIVED="$http_received" start_receiver
	export OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc
	export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$grpc_port"
	export OTEL_METRICS_EXPORTER=none
	run_driver --spans 2 --logs 1 --before-start

	expect_eq "gRPC calls" "$(received '[.[].signal] | join(",")')" traces
	expect_eq "HTTP posts" "$(jq -r -s '[.[].path] | join(",")' "$http_received")" /v1/logs
	kill "$GRPC_PID"
	wait "$GRPC_PID" || true
	expect_eq "exported" "$(stat '[.traces.exported, .logs.exported] | join(",")')" 2,1
	expect_accounted
}
