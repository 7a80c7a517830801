#!/usr/bin/env bash
# Builds Trail's container image from deploy/docker/Dockerfile:
#   scripts/image.sh [TAG]        (default trail:VERSION; make image)
# It builds the static linux binary for this machine's architecture
# (scripts/build-static.sh), stages it with empty /data and /tmp folders,
# and runs docker build on that folder; FROM scratch pulls nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(scripts/version.sh)}
tag=${1:-trail:$version}
arch=$(go env GOARCH)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
VERSION=$version scripts/build-static.sh "$arch" "$stage/trail"
mkdir -p "$stage/data" "$stage/tmp"
chmod 0700 "$stage/data"
chmod 1777 "$stage/tmp"
cp deploy/docker/Dockerfile "$stage/Dockerfile"
# The classic builder: the image needs none of BuildKit's features, and
# Debian's docker.io may come without the buildx plugin.
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$stage" >/dev/null
echo "$tag"
