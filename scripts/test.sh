#!/usr/bin/env bash
# Runs every Trail test: installs the system parts the tests need when they
# are missing (PostgreSQL server binaries, Chromium, npm, rsyslog, Docker), then checks
# formatting, vets, and runs the whole suite with the race detector.
# Usage: make test   (or scripts/test.sh [extra go test flags])
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The console's accessibility test installs axe-core from npm at test time.
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
# deploy/docker builds the container image and runs it; it starts its own
# dockerd when none runs.
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need+=(rsyslog-gnutls)

if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing missing system packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
    echo "test.sh: could not install ${need[*]}; install them (apt-get install ${need[*]}) and run again" >&2
    exit 1
  fi
  # Debian starts the services it installs; the tests start their own.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service rsyslog stop >/dev/null 2>&1 || true
fi

# The S3 forwarder tests run Versity's S3 gateway (POSIX backend) as a child
# process; it builds from the Go module proxy in about two minutes, once.
versitygw_version=v1.8.0
if ! command -v versitygw >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
  echo "test.sh: installing versitygw $versitygw_version (go install)"
  go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "== go vet"
go vet ./...

# Tests that need an outside program or privilege (Chromium, rsyslog,
# versitygw, Docker, systemd-analyze, root, a tmpfs mount) fail instead of
# skipping when it is missing (internal/testenv.Require).
export TRAIL_REQUIRE_ALL=1

echo "== go test -race"
go test -race -count=1 -timeout 20m "$@" ./...

# The Helm chart's tests are a module of their own (k8s.io/api stays out of
# Trail's go.mod); helm itself runs with go run from the module proxy.
echo "== deploy/helm/test (helm lint, helm template, k8s.io/api)"
# -mod=mod: the module replaces Trail with this tree, so a change to
# Trail's go.mod must not fail it before it is tidied.
(cd deploy/helm/test && export GOFLAGS=-mod=mod && go vet ./... && go test -count=1 -timeout 10m ./...)
