#!/usr/bin/env bash
# Builds one static Linux binary of trail: scripts/build-static.sh ARCH OUT
# ARCH is amd64 or arm64. The SQLite driver uses cgo, so the C parts are
# linked statically against glibc (netgo and osusergo keep name lookups in
# Go, so the binary needs no libc at run time and runs FROM scratch). arm64
# uses Debian's cross compiler (gcc-aarch64-linux-gnu), installed when
# missing. VERSION and COMMIT (environment) go into `trail version`.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:?usage: build-static.sh amd64|arm64 OUT}
out=${2:?usage: build-static.sh amd64|arm64 OUT}
version=${VERSION:-$(scripts/version.sh)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}

cc=gcc
if [ "$arch" = arm64 ] && [ "$(go env GOHOSTARCH)" != arm64 ]; then
  cc=aarch64-linux-gnu-gcc
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build-static.sh: installing the arm64 cross compiler (gcc-aarch64-linux-gnu)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
  fi
fi

# Releases build with -trimpath (no build machine paths in the binary) and
# without SQLite's extension loading (whose dlopen a static binary cannot
# honour). TRAIL_STATIC_FAST=1 (the container test) keeps the flags of a
# plain go build instead, so that the compiled SQLite driver comes from the
# build cache rather than two more minutes of C compiling.
flags=(-trimpath -tags netgo,osusergo,sqlite_omit_load_extension)
if [ "${TRAIL_STATIC_FAST:-}" = 1 ]; then
  flags=(-tags netgo,osusergo)
fi
# The filter drops the linker's warning that dlopen in a static binary needs
# a libc at run time: only SQLite extensions use it, which Trail never loads.
CGO_ENABLED=1 GOOS=linux GOARCH="$arch" CC="$cc" go build "${flags[@]}" -buildvcs=false \
  -ldflags "-s -w -X github.com/trailhq/trail.Version=$version -X main.commit=$commit -extldflags -static" \
  -o "$out" ./cmd/trail 2> >(grep -v -e 'dlopen' -e 'unixDlOpen' -e '^# github.com/trailhq/trail/cmd/trail$' >&2)
