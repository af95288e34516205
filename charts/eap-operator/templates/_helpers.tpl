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

{{/*
Rules for reconciling EventPipelines (Secrets only by name, never listed): in the ClusterRole when
the operator watches every namespace, in a Role of watchNamespace when it watches one. Same rules
as OPERATOR_PIPELINE_RULES in packages/manifests/src/operator-install.ts.
*/}}
{{- define "eap-operator.pipelineRules" -}}
- apiGroups: [eap.dev]
  resources: [eventpipelines]
  verbs: [get, list, watch]
- apiGroups: [eap.dev]
  resources: [eventpipelines/status]
  verbs: [get, patch, update]
# Needed to set blockOwnerDeletion on children where OwnerReferencesPermissionEnforcement is on.
- apiGroups: [eap.dev]
  resources: [eventpipelines/finalizers]
  verbs: [update]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, patch, update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, create, patch, delete]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
{{- end -}}
