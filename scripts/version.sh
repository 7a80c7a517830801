#!/usr/bin/env bash
# Prints the version that builds embed: the git tag of HEAD (v1.2.0, or
# v1.2.0-3-gabcdef1 past it, -dirty with local changes), else the version
# in trail.go (0.1.0-dev) while the repository has no tags.
set -euo pipefail
cd "$(dirname "$0")/.."
git describe --tags --dirty 2>/dev/null ||
  sed -n 's/^var Version = "\(.*\)"$/\1/p' trail.go
