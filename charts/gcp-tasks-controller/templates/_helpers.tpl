{{/* The chart name, overridable with nameOverride. */}}
{{- define "gcp-tasks-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", or the release name alone when it already contains the chart name. */}}
{{- define "gcp-tasks-controller.fullname" -}}
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

{{- define "gcp-tasks-controller.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "gcp-tasks-controller.labels" -}}
helm.sh/chart: {{ include "gcp-tasks-controller.chart" . }}
{{ include "gcp-tasks-controller.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gcp-tasks-controller
{{- end }}

{{/* Labels the Deployment selects its pods by (never change them on upgrade). */}}
{{- define "gcp-tasks-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gcp-tasks-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "gcp-tasks-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gcp-tasks-controller.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gcp-tasks-controller.peeringName" -}}
{{- default (include "gcp-tasks-controller.fullname" .) .Values.peering.name }}
{{- end }}

{{/* Rules on namespaced objects: the same in the ClusterRole and in per-namespace Roles. */}}
{{- define "gcp-tasks-controller.namespacedRules" -}}
# The custom resources: watch them, and patch them for the finalizer and kopf's annotations.
- apiGroups: [gcptasks.dev]
  resources: [periodictasks, subscribertasks]
  verbs: [get, list, watch, patch]
# Their status subresource: conditions, observedGeneration, cloudResourceName, lastSyncTime.
- apiGroups: [gcptasks.dev]
  resources: [periodictasks/status, subscribertasks/status]
  verbs: [get, patch]
# Registry ConfigMaps exported by Django apps (label gcptasks.dev/registry=true): read only.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
# Kubernetes Events for drift, corrections and errors.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/* Namespaces watched in namespaced mode: the chosen ones plus the release's (heartbeat). */}}
{{- define "gcp-tasks-controller.watchedNamespaces" -}}
{{- if .Values.controller.watchNamespaces }}
{{- append .Values.controller.watchNamespaces .Release.Namespace | uniq | sortAlpha | join "," }}
{{- end }}
{{- end }}
