{{/* Names, labels and the pieces several templates share. */}}

{{- define "knotscope.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, at most 63 characters (DNS label). */}}
{{- define "knotscope.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "knotscope.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "knotscope.selectorLabels" -}}
app.kubernetes.io/name: {{ include "knotscope.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "knotscope.labels" -}}
helm.sh/chart: {{ include "knotscope.chart" . }}
{{ include "knotscope.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: node-agent
app.kubernetes.io/part-of: knotscope
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "knotscope.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "knotscope.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "knotscope.image" -}}
{{- $image := .Values.image }}
{{- $registry := default $image.registry ((.Values.global).imageRegistry) }}
{{- $repository := $image.repository }}
{{- if $registry }}
{{- $repository = printf "%s/%s" $registry $image.repository }}
{{- end }}
{{- if $image.digest }}
{{- printf "%s@%s" $repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/* Where this release pins: a directory of its own. */}}
{{- define "knotscope.pinDir" -}}
{{- default (printf "/sys/fs/bpf/knotscope-%s-%s" .Release.Namespace (include "knotscope.fullname" .)) .Values.pin.dir }}
{{- end }}

{{/*
The chart's securityContext (a dict) with the operator's on top: a key the
operator sets replaces the chart's whole, false and 0 included (sprig's
merges would keep the chart's for those).
usage: include "knotscope.overlay" (list $chart $operator) | fromYaml
*/}}
{{- define "knotscope.overlay" -}}
{{- $merged := deepCopy (index . 1) }}
{{- range $key, $value := index . 0 }}
{{- if not (hasKey $merged $key) }}
{{- $_ := set $merged $key $value }}
{{- end }}
{{- end }}
{{- toYaml $merged }}
{{- end }}

{{/* The Secret holding the HTTP server's bearer token, and its key. */}}
{{- define "knotscope.tokenSecretName" -}}
{{- default (printf "%s-token" (include "knotscope.fullname" .)) .Values.server.token.existingSecret }}
{{- end }}
{{- define "knotscope.tokenSecretKey" -}}
{{- if .Values.server.token.existingSecret }}{{ .Values.server.token.key }}{{ else }}token{{ end }}
{{- end }}

{{/* The node's directory of this release's history. */}}
{{- define "knotscope.historyHostPath" -}}
{{- default (printf "/var/lib/knotscope/%s-%s" .Release.Namespace (include "knotscope.fullname" .)) .Values.server.history.hostPath }}
{{- end }}
{{- define "knotscope.historyDir" -}}/var/lib/knotscope{{- end }}

{{/* Where the container finds its secrets. */}}
{{- define "knotscope.tokenDir" -}}/etc/knotscope/server{{- end }}
{{- define "knotscope.configDir" -}}/etc/knotscope/config{{- end }}
{{- define "knotscope.otlpTlsDir" -}}/etc/knotscope/otlp-tls{{- end }}

{{/*
Settings that contradict each other fail here, naming the values, rather
than in the cluster.
*/}}
{{- define "knotscope.validate" -}}
{{- if and (or .Values.serviceMonitor.enabled .Values.podMonitor.enabled) (not .Values.server.enabled) }}
{{- fail "serviceMonitor.enabled and podMonitor.enabled need server.enabled: /metrics is served by the agent's HTTP server" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled .Values.podMonitor.enabled }}
{{- fail "serviceMonitor.enabled and podMonitor.enabled: choose one, or Prometheus scrapes every agent twice" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.hostNetwork }}
{{- fail "networkPolicy.enabled with hostNetwork: NetworkPolicies do not apply to pods in the node's network" }}
{{- end }}
{{- if and (eq .Values.service.clusterIP "None") (ne .Values.service.type "ClusterIP") }}
{{- fail (printf "service.clusterIP None (headless) needs service.type ClusterIP, not %s: set service.clusterIP to \"\"" .Values.service.type) }}
{{- end }}
{{- if and .Values.pin.keepPins (not .Values.pin.enabled) }}
{{- fail "pin.keepPins needs pin.enabled" }}
{{- end }}
{{- if and .Values.privileged .Values.kernelBefore511 }}
{{- fail "privileged and kernelBefore511 are alternatives: privileged already runs as root with every capability" }}
{{- end }}
{{- if and .Values.otlp.tls.existingSecret (not (or .Values.otlp.tls.ca .Values.otlp.tls.cert)) }}
{{- fail "otlp.tls.existingSecret is set but otlp.tls.ca and otlp.tls.cert are both empty: nothing to mount" }}
{{- end }}
{{- if ne (empty .Values.otlp.tls.cert) (empty .Values.otlp.tls.key) }}
{{- fail "otlp.tls.cert and otlp.tls.key go together: a client certificate needs its key" }}
{{- end }}
{{- end }}

{{/*
OTEL_RESOURCE_ATTRIBUTES of the agent's own telemetry: the pod's identity
from the downward API ($(VAR) refers to the variables defined before it),
then the user's attributes.
*/}}
{{- define "knotscope.resourceAttributes" -}}
{{- $attrs := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.pod.uid=$(K8S_POD_UID)" "k8s.namespace.name=$(K8S_POD_NAMESPACE)" (printf "k8s.daemonset.name=%s" (include "knotscope.fullname" .)) "k8s.container.name=knotscope" }}
{{- range $name, $value := .Values.otlp.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $name $value) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}

{{/* See values.yaml: why each of these needs UID 0. */}}
{{- define "knotscope.runsAsRoot" -}}
{{- if or .Values.privileged .Values.kernelBefore511 .Values.pin.enabled }}true{{ end }}
{{- end }}

{{/* The pod's securityContext the agent needs, before the operator's. */}}
{{- define "knotscope.podSecurityContext" -}}
{{- if include "knotscope.runsAsRoot" . }}
runAsUser: 0
runAsGroup: 0
runAsNonRoot: false
{{- else }}
# The image's user, nobody: its binary carries file capabilities.
runAsUser: 65534
runAsGroup: 65534
runAsNonRoot: true
# Mounted secrets belong to this group, readable by the agent only.
fsGroup: 65534
{{- end }}
{{- if not .Values.privileged }}
seccompProfile:
  {{- toYaml .Values.seccompProfile | nindent 2 }}
appArmorProfile:
  {{- toYaml .Values.appArmorProfile | nindent 2 }}
{{- end }}
{{- end }}

{{/* The container's securityContext the agent needs. */}}
{{- define "knotscope.containerSecurityContext" -}}
readOnlyRootFilesystem: true
{{- if .Values.privileged }}
privileged: true
# Kubernetes refuses false together with privileged.
allowPrivilegeEscalation: true
{{- else }}
privileged: false
# no_new_privs keeps the file capabilities: they stay within what the
# container was granted below.
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
  add:
    - BPF
    - PERFMON
    - SYS_PTRACE
    {{- if .Values.kernelBefore511 }}
    - SYS_RESOURCE
    {{- end }}
{{- end }}
{{- end }}
