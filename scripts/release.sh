#!/usr/bin/env bash
# make release: writes dist/ with, for linux amd64 and arm64, a tar.gz of
# the static trail binary with LICENSE and README.md, a CycloneDX SBOM of
# each, and SHA256SUMS over them all. VERSION (default: git describe) and
# the commit go into `trail version`. The arm64 build uses Debian's cross
# compiler (scripts/build-static.sh installs it when missing); the SBOM
# tool runs from the module proxy, outside the product's go.mod.
# ARCHES (default "amd64 arm64") and DIST (default dist) narrow and move
# the output; the release test builds amd64 alone into a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export VERSION=${VERSION:-$(scripts/version.sh)}
export COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
cyclonedx=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
mtime=$(git log -1 --format=%ct 2>/dev/null || date +%s)

dist=${DIST:-dist}
rm -rf "$dist"
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for arch in ${ARCHES:-amd64 arm64}; do
  name=trail-$VERSION-linux-$arch
  echo "release: $name"
  mkdir -p "$stage/$name"
  scripts/build-static.sh "$arch" "$stage/$name/trail"
  cp LICENSE README.md "$stage/$name/"
  tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name --mtime="@$mtime" \
    -czf "$dist/$name.tar.gz" "$name"
  # The SBOM lists the modules compiled into this binary, read from the
  # build information Go embeds in it.
  if ! go run "$cyclonedx" bin -json -licenses -version "$VERSION" -output "$dist/$name.cdx.json" \
      "$stage/$name/trail" 2>"$stage/sbom.log"; then
    cat "$stage/sbom.log" >&2
    exit 1
  fi
done
(cd "$dist" && sha256sum -- *.tar.gz *.cdx.json > SHA256SUMS)
echo "release: $dist"
ls -l "$dist"
