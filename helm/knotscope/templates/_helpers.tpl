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
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding the HTTP server's bearer token, and its key. */}}
{{- define "knotscope.tokenSecretName" -}}
{{- default (printf "%s-token" (include "knotscope.fullname" .)) .Values.server.token.existingSecret }}
{{- end }}
{{- define "knotscope.tokenSecretKey" -}}
{{- if .Values.server.token.existingSecret }}{{ .Values.server.token.key }}{{ else }}token{{ end }}
{{- end }}

{{/* Where the container finds its secrets. */}}
{{- define "knotscope.tokenDir" -}}/etc/knotscope/server{{- end }}
{{- define "knotscope.otlpTlsDir" -}}/etc/knotscope/otlp-tls{{- end }}

{{/*
Settings that contradict each other fail here, naming the values, rather
than in the cluster.
*/}}
{{- define "knotscope.validate" -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.server.enabled) }}
{{- fail "serviceMonitor.enabled needs server.enabled: /metrics is served by the agent's HTTP server" }}
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
