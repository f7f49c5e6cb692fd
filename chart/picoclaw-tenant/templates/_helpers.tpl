{{/*
Chart label value. Label values may not contain "+", which semver build
metadata uses.
*/}}
{{- define "picoclaw-tenant.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/*
Selector labels. Deployment selectors are immutable, so this set never gains
a label that changes between chart versions.
*/}}
{{- define "picoclaw-tenant.selectorLabels" -}}
app.kubernetes.io/name: picoclaw
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "picoclaw-tenant.labels" -}}
{{ include "picoclaw-tenant.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ include "picoclaw-tenant.chart" . | quote }}
picoclaw.io/tenant: {{ .Values.tenant.id | quote }}
{{- end }}

{{- define "picoclaw-tenant.annotations" -}}
picoclaw.io/display-name: {{ .Values.tenant.displayName | quote }}
{{- end }}

{{/*
Image reference. A tag that starts with "sha256:" is a digest.
*/}}
{{- define "picoclaw-tenant.image" -}}
{{- if hasPrefix "sha256:" .Values.image.tag -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end -}}
{{- end }}

{{/*
SHA-256 of config.json. toJson sorts map keys, so equal configs give equal
sums and only a config change rolls the pods.
*/}}
{{- define "picoclaw-tenant.configChecksum" -}}
{{- .Values.config | toJson | sha256sum -}}
{{- end }}

{{/*
Checks that span several values and that the schema cannot express clearly.
*/}}
{{- define "picoclaw-tenant.validate" -}}
{{- $configPort := dig "gateway" "port" "" .Values.config -}}
{{- if and (ne (toString $configPort) "") (ne (int $configPort) (int .Values.gateway.port)) -}}
{{- fail (printf "config.gateway.port %v differs from gateway.port %v: the Service and probes use gateway.port, so set both to the same port" $configPort .Values.gateway.port) -}}
{{- end -}}
{{- if and .Values.agent.enabled (eq .Values.workspace.accessMode "ReadWriteOncePod") -}}
{{- fail "workspace.accessMode ReadWriteOncePod lets only one pod mount the workspace, but the agent and the gateway both mount it: use ReadWriteOnce or set agent.enabled=false" -}}
{{- end -}}
{{- end }}

{{/*
Pod security context for the restricted Pod Security level. The upstream
image runs as root, so the chart picks the user. fsGroup makes the Secret and
the volumes readable and writable by that user.
*/}}
{{- define "picoclaw-tenant.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "picoclaw-tenant.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Environment of every container. PicoClaw reads ~/.picoclaw/config.json, and
newer versions honour PICOCLAW_HOME and PICOCLAW_CONFIG.
*/}}
{{- define "picoclaw-tenant.env" -}}
- name: HOME
  value: /home/picoclaw
- name: PICOCLAW_HOME
  value: /home/picoclaw/.picoclaw
- name: PICOCLAW_CONFIG
  value: /home/picoclaw/.picoclaw/config.json
{{- end }}

{{- define "picoclaw-tenant.volumes" -}}
- name: home
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: workspace
  persistentVolumeClaim:
    claimName: picoclaw-workspace
- name: config
  secret:
    secretName: picoclaw-config
    defaultMode: 0440
{{- end }}

{{- define "picoclaw-tenant.volumeMounts" -}}
- name: home
  mountPath: /home/picoclaw
- name: tmp
  mountPath: /tmp
- name: workspace
  mountPath: /home/picoclaw/.picoclaw/workspace
- name: config
  mountPath: /etc/picoclaw
  readOnly: true
{{- end }}

{{/*
Init container that copies config.json from the read-only Secret to
$HOME/.picoclaw, because PicoClaw writes its pid file there and rewrites
config.json when it migrates an older schema. It takes the resources of the
pod's main container, so the pod's effective request and limit, and with them
its share of the quota, stay those of the main container.
Arguments: "root" (the top-level context) and "resources".
*/}}
{{- define "picoclaw-tenant.installConfigContainer" -}}
- name: install-config
  image: {{ include "picoclaw-tenant.image" .root | quote }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command:
    - sh
    - -c
    - |
      set -eu
      umask 077
      mkdir -p "$HOME/.picoclaw"
      cp /etc/picoclaw/config.json "$HOME/.picoclaw/config.json"
      chmod 0600 "$HOME/.picoclaw/config.json"
  env:
    {{- include "picoclaw-tenant.env" .root | nindent 4 }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- include "picoclaw-tenant.containerSecurityContext" .root | nindent 4 }}
  volumeMounts:
    - name: home
      mountPath: /home/picoclaw
    - name: config
      mountPath: /etc/picoclaw
      readOnly: true
{{- end }}
