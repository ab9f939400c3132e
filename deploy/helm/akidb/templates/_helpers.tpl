{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "akidb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "akidb.fullname" -}}
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

{{- define "akidb.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Pod selector; the blue-green colour is part of it when set. */}}
{{- define "akidb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "akidb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- with .Values.color }}
akidb.io/color: {{ . | quote }}
{{- end }}
{{- end }}

{{- define "akidb.labels" -}}
helm.sh/chart: {{ include "akidb.chart" . }}
{{ include "akidb.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "akidb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "akidb.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "akidb.secretName" -}}
{{- default (include "akidb.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "akidb.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
The `config:` map as TOML: one [section] per key of the map, `key = value` lines inside.
Strings are quoted; whole numbers print as integers (Helm reads YAML numbers as float64, which
would otherwise print 268435456 as 2.68435456e+08); lists print as JSON arrays (valid TOML for
strings and numbers). tests/deploy_helm_test.ts mirrors these rules and feeds the result to the
server's own config parser.
*/}}
{{- define "akidb.configToml" -}}
{{- range $section, $keys := .Values.config }}
[{{ $section }}]
{{- range $key, $value := $keys }}
{{- if kindIs "string" $value }}
{{ $key }} = {{ $value | quote }}
{{- else if kindIs "bool" $value }}
{{ $key }} = {{ $value }}
{{- else if and (kindIs "float64" $value) (eq $value (floor $value)) }}
{{ $key }} = {{ $value | int64 }}
{{- else if kindIs "slice" $value }}
{{ $key }} = {{ $value | toJson }}
{{- else }}
{{ $key }} = {{ $value }}
{{- end }}
{{- end }}

{{ end }}
{{- end }}
