{{/* The name of every object: the release name, with the chart's name when it is not in it. */}}
{{- define "trail.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "trail.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "trail.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Checks the values once, with messages that say what to set. */}}
{{- define "trail.validate" -}}
{{- if not (has .Values.mode (list "sqlite" "postgresql")) -}}
{{- fail (printf "mode: %q is not sqlite or postgresql" .Values.mode) -}}
{{- end -}}
{{- if eq .Values.mode "postgresql" -}}
{{- if and (not .Values.postgresql.dsn) (not .Values.postgresql.existingSecret) -}}
{{- fail "mode postgresql needs postgresql.dsn (postgres://user:password@host:5432/trail) or postgresql.existingSecret" -}}
{{- end -}}
{{- if and (not .Values.ledger.key) (not .Values.ledger.existingSecret) -}}
{{- fail "mode postgresql needs ledger.key or ledger.existingSecret: every node must sign checkpoints with the same key (make one with: trail ledger pubkey --ledger-key ledger.key)" -}}
{{- end -}}
{{- if and (not .Values.secretsKey.key) (not .Values.secretsKey.existingSecret) -}}
{{- fail "mode postgresql needs secretsKey.key or secretsKey.existingSecret: every node must encrypt stored secrets with the same key (make one with: trail secrets init --secrets-key secrets.key)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "trail.ledgerSecret" -}}
{{- .Values.ledger.existingSecret | default (printf "%s-ledger" (include "trail.fullname" .)) -}}
{{- end -}}

{{- define "trail.secretsKeySecret" -}}
{{- .Values.secretsKey.existingSecret | default (printf "%s-secrets-key" (include "trail.fullname" .)) -}}
{{- end -}}

{{- define "trail.dsnSecret" -}}
{{- .Values.postgresql.existingSecret | default (printf "%s-postgresql" (include "trail.fullname" .)) -}}
{{- end -}}

{{/* The config file: the settings, the chart's addr and data, the ledger key file and every forwarder. */}}
{{- define "trail.config" -}}
{{- $cfg := deepCopy (.Values.settings | default dict) -}}
{{- $_ := set $cfg "addr" "0.0.0.0:8080" -}}
{{- $_ := set $cfg "data" "/data" -}}
{{- if .Values.ledger.origin -}}
{{- $_ := set $cfg "ledger_origin" .Values.ledger.origin -}}
{{- end -}}
{{- if or .Values.ledger.key .Values.ledger.existingSecret -}}
{{- $_ := set $cfg "ledger_key" "/etc/trail/ledger/ledger.key" -}}
{{- end -}}
{{- if or .Values.secretsKey.key .Values.secretsKey.existingSecret -}}
{{- $_ := set $cfg "secrets_key" "/etc/trail/secrets/secrets.key" -}}
{{- else -}}
{{/* Not beside a mounted (read-only) ledger key: in the volume. */}}
{{- $_ := set $cfg "secrets_key" "/data/secrets.key" -}}
{{- end -}}
{{- $fwd := concat (.Values.forwarders | default list) (.Values.auditLogForwarders | default list) -}}
{{- if $fwd -}}
{{- $_ := set $cfg "forwarders" $fwd -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The pod: shared by the StatefulSet and the Deployment. */}}
{{- define "trail.podTemplate" -}}
metadata:
  labels:
    {{- include "trail.selectorLabels" . | nindent 4 }}
  annotations:
    checksum/config: {{ include "trail.config" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: trail
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["serve"]
      env:
        - name: TRAIL_CONFIG
          value: /etc/trail/config/trail.yaml
        {{- if eq .Values.mode "postgresql" }}
        - name: TRAIL_STORE
          valueFrom:
            secretKeyRef:
              name: {{ include "trail.dsnSecret" . }}
              key: {{ .Values.postgresql.existingSecretKey }}
        {{- end }}
        {{- with .Values.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
      startupProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 2
        failureThreshold: 150
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: 10
        timeoutSeconds: 5
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        periodSeconds: 5
        timeoutSeconds: 5
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        - name: config
          mountPath: /etc/trail/config
          readOnly: true
        {{- if or .Values.ledger.key .Values.ledger.existingSecret }}
        - name: ledger
          mountPath: /etc/trail/ledger
          readOnly: true
        {{- end }}
        {{- if or .Values.secretsKey.key .Values.secretsKey.existingSecret }}
        - name: secrets-key
          mountPath: /etc/trail/secrets
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: {}
    - name: config
      secret:
        secretName: {{ include "trail.fullname" . }}-config
        defaultMode: 0440
    {{- if or .Values.ledger.key .Values.ledger.existingSecret }}
    - name: ledger
      secret:
        secretName: {{ include "trail.ledgerSecret" . }}
        defaultMode: 0440
        items:
          - key: {{ .Values.ledger.existingSecretKey }}
            path: ledger.key
    {{- end }}
    {{- if or .Values.secretsKey.key .Values.secretsKey.existingSecret }}
    - name: secrets-key
      secret:
        secretName: {{ include "trail.secretsKeySecret" . }}
        defaultMode: 0440
        items:
          - key: {{ .Values.secretsKey.existingSecretKey }}
            path: secrets.key
    {{- end }}
    {{- if eq .Values.mode "postgresql" }}
    # The PostgreSQL store keeps nothing in the data folder.
    - name: data
      emptyDir: {}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
