#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The configuration file (--config): read with libyaml, checked against
# docs/config.schema.json apart (python3-jsonschema), overridden by
# options and OTEL_* variables, refusing what it does not know with the
# file and line.

load helpers

SCHEMA="$ROOT/docs/config.schema.json"
EXAMPLE="$ROOT/docs/knotscope.example.yaml"

setup() {
	unset_otel_env
	CONFIG="$BATS_TEST_TMPDIR/knotscope.yaml"
}

# validate FILE: the schema's verdict on a YAML file.
validate() {
	/usr/bin/python3 -c '
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.validate(yaml.safe_load(open(sys.argv[2])), schema)' "$SCHEMA" "$1"
}

@test "the example validates against the schema, and the agent takes it" {
	validate "$EXAMPLE"
	run "$KNOTSCOPE" --config "$EXAMPLE" --check-config
	[ "$status" -eq 0 ]
	[[ "$output" == *"the configuration is valid"* ]]
}

@test "the schema and the options name the same keys, and every key's example is taken" {
	local options keys

	# Every long option but those that make no sense in a file.
	options="$("$KNOTSCOPE" --help | grep -o -- '--[a-z][a-z0-9-]*' | sed 's/^--//' |
		grep -vx -e help -e version -e config -e check-config | sort -u)"
	keys="$(jq -r '.properties | keys[] | select(. != "otel")' "$SCHEMA" | sort)"
	expect_eq "keys" "$keys" "$options"
	# A file of every key's example is valid to both.
	jq -r '.properties | to_entries[] | "\(.key): \(.value.examples[0] | tojson)"' \
		"$SCHEMA" | grep -v '^offcpu-min' >"$CONFIG"
	validate "$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 0 ]
}

@test "unknown keys, keys given twice, wrong values and broken YAML name the line" {
	printf 'comm: [abba]\npids: [1]\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:2: unknown key 'pids'"* ]]

	printf 'comm: a\n\ncomm: b\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:3: 'comm' given twice"* ]]

	printf 'http: true\nhttp-capture-bytes: 9\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:2: http-capture-bytes '9': not a number of bytes from 64 to 4096"* ]]

	printf 'memory-limit: 1Mi\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:1: memory-limit '1Mi': not a size of 64Mi or more"* ]]

	printf 'otel:\n  OTEL_TRACES_SAMPLR: always_on\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:2: otel: unknown variable 'OTEL_TRACES_SAMPLR'"* ]]

	printf 'comm: [abba\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:2: not YAML"* ]]

	run "$KNOTSCOPE" --config "$BATS_TEST_TMPDIR/missing.yaml" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.yaml: No such file or directory"* ]]
}

@test "OTEL_* variables override the file's OTLP settings, which name where they came from" {
	printf 'otlp-endpoint: ftp://nowhere\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"$CONFIG:1: otlp-endpoint='ftp://nowhere': not an http:// or https:// URL"* ]]
	# The environment's endpoint wins: the file's is never read.
	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 0 ]

	printf 'otel:\n  OTEL_METRIC_EXPORT_INTERVAL: 5s\n' >"$CONFIG"
	run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 0 ]
	[[ "$output" == *"$CONFIG:2: otel.OTEL_METRIC_EXPORT_INTERVAL='5s': not a number of milliseconds"* ]]
	OTEL_METRIC_EXPORT_INTERVAL=1000 run "$KNOTSCOPE" --config "$CONFIG" --check-config
	[ "$status" -eq 0 ]
	[[ "$output" != *"OTEL_METRIC_EXPORT_INTERVAL"* ]]
}

@test "options on the command line override the file; lists are replaced" {
	require_bpf
	make -s -C "$ROOT" workloads >&2
	cat >"$CONFIG" <<-CONF
		confirm-ms: 250
		comm: [nothing-here]
		json: $BATS_TEST_TMPDIR/from-file.jsonl
		listen: "off"
	CONF
	start_agent --config "$CONFIG" --comm abba
	agent_records '.type == "ready"' | jq -e '.confirm_ms == 250 and
		(.selection | test("abba")) and (.selection | test("nothing-here") | not)' >/dev/null
	[ ! -e "$BATS_TEST_TMPDIR/from-file.jsonl" ]
	stop_agent
}
