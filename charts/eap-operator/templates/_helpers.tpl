{{/* Name of every object: the release name, or eap-operator for a release called eap-operator. */}}
{{- define "eap-operator.fullname" -}}
{{- if eq .Release.Name "eap-operator" -}}eap-operator{{- else -}}{{- printf "%s-eap-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}{{- end -}}
{{- end -}}

{{- define "eap-operator.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "eap-operator.selectorLabels" -}}
app.kubernetes.io/name: eap-operator
app.kubernetes.io/instance: {{ include "eap-operator.fullname" . }}
{{- end -}}

{{- define "eap-operator.labels" -}}
{{ include "eap-operator.selectorLabels" . }}
app.kubernetes.io/part-of: eap
app.kubernetes.io/version: {{ include "eap-operator.tag" . | quote }}
{{- end -}}
