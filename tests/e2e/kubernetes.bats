#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Workload metadata from the Kubernetes API, without a cluster: the real
# agent watches real processes that run in the cgroups a kubelet would
# give their pods, and asks tests/k8s/fake_apiserver.py, which serves over
# TLS, with a bearer token, the lists, watch streams and owners of
# tests/unit/fixtures/k8s/ in the API's own shapes.  What is asserted is
# what Prometheus and an OTLP backend read.

load helpers

FIXTURES="$ROOT/tests/unit/fixtures/k8s"
CHECKOUT_UID=3c1f2a8e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
CHECKOUT_CID=aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb
LEDGER_UID=7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b
LEDGER_CID=ccccccccfedcba9876543210fedcba9876543210fedcba9876543210dddddddd

setup_file() {
	require_bpf
	make -s -C "$ROOT" otlp-test >&2
	# The cluster's CA and the API server's certificate, for 127.0.0.1.
	CREDENTIALS="$BATS_FILE_TMPDIR/serviceaccount"
	mkdir -p "$CREDENTIALS"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$BATS_FILE_TMPDIR/key.pem" \
		-out "$CREDENTIALS/ca.crt" 2>/dev/null
	echo "sa-token-$RANDOM$RANDOM" >"$CREDENTIALS/token"
	# Pods' cgroups go in the cgroup v2 hierarchy, mounted if it is not.
	CGROUP2="$(findmnt -n -t cgroup2 -o TARGET | head -n1)"
	if [ -z "$CGROUP2" ]; then
		CGROUP2="$BATS_FILE_TMPDIR/cgroup2"
		mkdir -p "$CGROUP2"
		mount -t cgroup2 none "$CGROUP2"
		echo "$CGROUP2" >"$BATS_FILE_TMPDIR/mounted"
	fi
	export CREDENTIALS CGROUP2
}

teardown_file() {
	if [ -s "$BATS_FILE_TMPDIR/mounted" ]; then
		umount "$(cat "$BATS_FILE_TMPDIR/mounted")"
	fi
}

setup() {
	e2e_setup
	quick_otlp_batches
	API_PID=
	API_LOG="$BATS_TEST_TMPDIR/api.jsonl"
	: >"$API_LOG"
	export K8S_NODE_NAME=node-a OTEL_METRIC_EXPORT_INTERVAL=500
}

teardown() {
	e2e_teardown
	[ -z "$API_PID" ] || kill "$API_PID" 2>/dev/null || true
	# Leaf first: a cgroup goes once empty and childless.
	find "$CGROUP2/kubepods.slice" -depth -type d -exec rmdir {} + 2>/dev/null || true
}

# start_api [ARGS...]: the fake API server; sets API_URL and CONTROL.
start_api() {
	local fifo="$BATS_TEST_TMPDIR/api.$RANDOM" api control

	mkfifo "$fifo"
	python3 "$ROOT/tests/k8s/fake_apiserver.py" --fixtures "$FIXTURES" \
		--cert "$CREDENTIALS/ca.crt" --key "$BATS_FILE_TMPDIR/key.pem" \
		--token "$(cat "$CREDENTIALS/token")" --log "$API_LOG" "$@" \
		>"$fifo" 2>>"$BATS_TEST_TMPDIR/api.err" &
	API_PID=$!
	read -r -t 30 api control <"$fifo"
	rm -f "$fifo"
	[ -n "$control" ]
	API_URL="https://127.0.0.1:$api"
	CONTROL="http://127.0.0.1:$control"
}

# control PATH [JSON]: an order to the fake API server.
control() {
	curl -sf -X POST --data-binary "${2:-}" "$CONTROL$1"
}

# start_in_pod UID CONTAINER-ID WORKLOAD ARGS...: the workload in the
# cgroup a kubelet (systemd driver) and containerd give that container.
start_in_pod() {
	local uid=$1 cid=$2 dir

	shift 2
	dir="$CGROUP2/kubepods.slice/kubepods-burstable.slice"
	dir="$dir/kubepods-burstable-pod${uid//-/_}.slice/cri-containerd-$cid.scope"
	mkdir -p "$dir"
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/$1.out"
	: >"$WORKLOAD_OUT"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$WORKLOADS/$@" \
		>"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PID=$!
	WORKLOAD_PIDS="${WORKLOAD_PIDS:-} $WORKLOAD_PID"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
	grep -q "cri-containerd-$cid.scope" "/proc/$WORKLOAD_PID/cgroup"
}

start_k8s_agent() {
	start_agent --pid "$WORKLOAD_PID" --listen 127.0.0.1:0 \
		--k8s-api "$API_URL" --k8s-credentials "$CREDENTIALS" "$@"
	METRICS_URL="http://$(agent_records '.type == "ready"' | jq -r .http)"
}

# The /metrics series of the workload's lock waits.
lock_series() {
	curl -sf "$METRICS_URL/metrics" |
		grep "^knotscope_futex_waits_total{.*process_pid=\"$WORKLOAD_PID\""
}

# series_has TEXT: the workload's series carries TEXT among its labels.
series_has() {
	lock_series | grep -qF "$1"
}

# series_lacks TEXT: it has a series, and TEXT is not among its labels;
# fails wherever it stands in a test, unlike "! series_has".
series_lacks() {
	local series

	series="$(lock_series)" || return 1
	if grep -qF "$1" <<<"$series"; then
		echo "should not carry $1: $series" >&2
		return 1
	fi
}

health_k8s() {
	curl -sf "$METRICS_URL/api/health" | jq -e ".kubernetes | $1" >/dev/null
}

@test "the API names a process's workload, pod, container and service; only this node's pods are asked for" {
	start_api --page-size 1
	start_in_pod "$CHECKOUT_UID" "$CHECKOUT_CID" contention 4 2 60
	start_receiver
	start_k8s_agent

	wait_until 10 series_has 'service_name="checkout"'
	expect_eq "labels" "$(lock_series | sed 's/^[^{]*{\(.*\)}.*/\1/')" \
		"service_name=\"checkout\",process_pid=\"$WORKLOAD_PID\",container_id=\"$CHECKOUT_CID\",k8s_pod_name=\"checkout-7d4b9c6f8-x2x9k\",k8s_namespace_name=\"shop\",service_namespace=\"shop\",k8s_container_name=\"app\",workload=\"checkout\",workload_type=\"deployment\""
	# The resource OTLP backends see: the conventions' attributes, the
	# pod's labels, and its resource.opentelemetry.io/ annotations.
	wait_until 10 has_metric ".resource[\"process.pid\"] == \"$WORKLOAD_PID\" and
		.resource[\"k8s.deployment.name\"] == \"checkout\""
	metrics | jq -e -s --arg pid "$WORKLOAD_PID" --arg uid "$CHECKOUT_UID" '
		[.[] | select(.resource["process.pid"] == $pid)][-1].resource |
		.["service.name"] == "checkout" and
		.["service.namespace"] == "shop" and
		.["service.instance.id"] == "shop.checkout-7d4b9c6f8-x2x9k.app" and
		.["k8s.replicaset.name"] == "checkout-7d4b9c6f8" and
		.["k8s.pod.name"] == "checkout-7d4b9c6f8-x2x9k" and
		.["k8s.pod.uid"] == $uid and
		.["k8s.container.name"] == "app" and
		.["k8s.pod.label.app"] == "checkout" and
		.["team"] == "payments" and
		(has("k8s.pod.label.kubectl.kubernetes.io/restartedAt") | not) and
		.["process.executable.name"] == "contention"' >/dev/null

	# Three pods on node-a (one page each), the fourth is node-b's; the
	# ReplicaSet and the Job were each read once; every request carried
	# the service account's token.
	health_k8s '.state == "synced" and .pods == 3 and .owners == 2'
	jq -e -s 'all(.[]; .token_ok) and
		([.[] | select(.path == "/api/v1/pods") | .query.fieldSelector] | unique)
			== ["spec.nodeName=node-a"] and
		([.[] | select(.path == "/api/v1/pods" and .query.watch == null)] | length) == 3 and
		([.[] | select(.path | test("/replicasets/checkout-7d4b9c6f8$"))] | length) == 1 and
		any(.[]; .query.watch == "1" and .query.resourceVersion == "1000")' "$API_LOG" >/dev/null
	stop_agent
}

@test "a pod the watch announces is named, and its container once it runs; an expired watch lists again" {
	start_api
	start_in_pod "$LEDGER_UID" "$LEDGER_CID" contention 4 2 60
	start_k8s_agent --k8s-well-known-labels
	wait_until 10 health_k8s '.state == "synced"'
	# Not in the list: nothing but what the cgroup and the process say.
	wait_until 10 series_has 'service_name="contention"'

	# Scheduled: the pod, pending, its container not started.
	control /event "$(sed -n 1p "$FIXTURES/ledger-events.jsonl")"
	wait_until 10 series_has 'service_name="ledger"'
	series_has 'workload="ledger",workload_type="statefulset"'
	series_lacks k8s_container_name
	# Running: the container's id is known, and so its name.
	control /event "$(sed -n 2p "$FIXTURES/ledger-events.jsonl")"
	wait_until 10 series_has 'k8s_container_name="ledger"'

	# The version it watches from is gone: it lists anew, and still knows.
	control /expire
	wait_until 10 health_k8s '.lists == 2'
	jq -e -s '[.[] | select(.path == "/api/v1/pods" and .query.watch == null)]
		| length == 2' "$API_LOG" >/dev/null
	health_k8s '.pods == 4 and .state == "synced"'
	series_has 'service_name="ledger"'
	stop_agent
}

@test "while the API fails, pods are known by their cgroups; then by the API" {
	start_api
	control '/fail?status=503'
	start_in_pod "$CHECKOUT_UID" "$CHECKOUT_CID" contention 4 2 60
	start_receiver
	start_k8s_agent

	wait_until 10 health_k8s '.state == "unreachable" and
		(.last_error | test("HTTP status 503"))'
	grep -q "kubernetes API $API_URL: listing pods: HTTP status 503" "$AGENT_ERR"
	wait_until 10 series_has 'service_name="contention"'
	series_lacks workload=
	# What the cgroup path says, as without the API.
	wait_until 10 has_metric ".resource[\"process.pid\"] == \"$WORKLOAD_PID\" and
		.resource[\"k8s.pod.uid\"] == \"$CHECKOUT_UID\" and
		.resource[\"container.id\"] == \"$CHECKOUT_CID\" and
		.resource[\"container.runtime.name\"] == \"containerd\" and
		(.resource | has(\"k8s.deployment.name\") | not)"

	# Back: within the backoff, the API's names replace the fallback's.
	control /recover
	wait_until 40 series_has 'service_name="checkout"'
	series_has 'workload="checkout"'
	grep -q "kubernetes API $API_URL: watching the pods of this node" "$AGENT_ERR"
	stop_agent
}

@test "--k8s-api: a URL needs the node's name; auto outside a pod asks nobody" {
	start_api
	run env -u K8S_NODE_NAME "$KNOTSCOPE" --k8s-api "$API_URL" --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--k8s-api $API_URL: K8S_NODE_NAME is not set"* ]]
	run "$KNOTSCOPE" --k8s-api ftp://x --duration 1
	[ "$status" -eq 2 ]

	run env -u KUBERNETES_SERVICE_HOST "$KNOTSCOPE" --duration 1 -v
	[ "$status" -eq 0 ]
	[[ "$output" == *"not in a Kubernetes pod"* ]]
	expect_eq "requests" "$(wc -l <"$API_LOG")" 0
}

@test "a process that exited keeps its pod's names in /metrics, whatever the API tells after" {
	start_api
	start_in_pod "$LEDGER_UID" "$LEDGER_CID" contention 4 2 60
	start_k8s_agent
	wait_until 10 health_k8s '.state == "synced"'
	# Pending, its container not started: named, but not settled.
	control /event "$(sed -n 1p "$FIXTURES/ledger-events.jsonl")"
	wait_until 10 series_has 'workload="ledger"'
	series_lacks k8s_container_name

	kill "$WORKLOAD_PID"
	wait "$WORKLOAD_PID" || true
	wait_until 10 agent_said ".type == \"process\" and .pid == $WORKLOAD_PID"
	# The API tells more of its pod once it is gone: its cgroup and /proc
	# cannot say it again, so its series keep what they had.
	control /event "$(sed -n 2p "$FIXTURES/ledger-events.jsonl")"
	wait_until 10 health_k8s '.events == 2'
	series_has 'workload="ledger",workload_type="statefulset"'
	stop_agent
}
