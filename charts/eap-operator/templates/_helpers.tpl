{{/* Name of every object: the release name, or eap-operator for a release called eap-operator. */}}
{{- define "eap-operator.fullname" -}}
{{- if eq .Release.Name "eap-operator" -}}eap-operator{{- else -}}{{- printf "%s-eap-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}{{- end -}}
{{- end -}}

{{- define "eap-operator.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/*
Labels that select the operator's pods (Deployment, Service, PodDisruptionBudget). A Deployment's
selector is immutable: these two never change within a release (README.md, Upgrading).
*/}}
{{- define "eap-operator.selectorLabels" -}}
app.kubernetes.io/name: eap-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels the cdk8s rendering writes too (packages/manifests/src/operator-install.ts); the pods get these. */}}
{{- define "eap-operator.commonLabels" -}}
{{ include "eap-operator.selectorLabels" . }}
app.kubernetes.io/part-of: eap
app.kubernetes.io/version: {{ include "eap-operator.tag" . | quote }}
{{- end -}}

{{/* Labels of every object: the common ones and Helm's own. */}}
{{- define "eap-operator.labels" -}}
{{ include "eap-operator.commonLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Labels of the `helm test` objects: not the operator's name, so that its Service, PodDisruptionBudget
and spread never select the test pod, and a query for the operator's pods never finds it.
*/}}
{{- define "eap-operator.testLabels" -}}
app.kubernetes.io/name: eap-operator-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: eap
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The ServiceAccount the operator runs as: created (default: the objects' name) or an existing one (default: default). */}}
{{- define "eap-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "eap-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The security context of the operator's containers (the helm test pod's too). */}}
{{- define "eap-operator.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "eap-operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Rules for reconciling EventPipelines (Secrets only by name, never listed): in the ClusterRole when
the operator watches every namespace, in a Role of watchNamespace when it watches one. Same rules,
one resource per rule, as OPERATOR_PIPELINE_RULES in packages/manifests/src/operator-install.ts.
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
  resources: [servicemonitors]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
{{- end -}}
