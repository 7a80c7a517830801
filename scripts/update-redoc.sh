#!/usr/bin/env bash
# Replaces the Redoc bundle that apidocs embeds with version $1 from npm:
#   scripts/update-redoc.sh 2.5.0
# then set apidocs.RedocVersion to the same version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: update-redoc.sh VERSION}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null && tar -xzf redoc-*.tgz)
cp "$tmp/package/bundles/redoc.standalone.js" apidocs/redoc.standalone.js
cp "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" apidocs/redoc.standalone.js.LICENSE.txt
cp "$tmp/package/LICENSE" apidocs/LICENSE.redoc
echo "apidocs: Redoc $version; now set RedocVersion in apidocs/apidocs.go"
