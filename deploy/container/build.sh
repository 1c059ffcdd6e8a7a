#!/usr/bin/env bash
# Builds the Vouch container image from this checkout: `npm pack`, installed with npm into a build
# context together with the Node.js 24 binary that runs npm here, then `podman build` (ENGINE=docker
# for docker). Run after `npm ci` (which brings Node 24).
# Usage: deploy/container/build.sh [--package vouch-X.tgz] [IMAGE]     (default IMAGE: localhost/vouch:latest)
#   BASE_IMAGE=...  another base (default in the Containerfile: debian:bookworm-slim)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
package=""
if [ "${1:-}" = "--package" ]; then
  package=$(realpath "$2")
  shift 2
fi
image=${1:-localhost/vouch:latest}
engine=${ENGINE:-podman}
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  echo "build.sh: needs Node.js 24 on PATH (npm ci installs it into node_modules/.bin)" >&2
  exit 2
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
if [ -z "$package" ]; then
  npm pack --pack-destination "$context" >/dev/null
  package=$(ls "$context"/vouch-*.tgz)
fi
npm install --global --prefix "$context/vouch" --prefer-offline --no-audit --no-fund --allow-scripts=pkcs11js "$package" >/dev/null
rm -f "$context"/vouch-*.tgz
cp "$(node -p process.execPath)" "$context/node"
cp deploy/container/Containerfile "$context/Containerfile"
"$engine" build --format docker ${BASE_IMAGE:+--build-arg "BASE_IMAGE=$BASE_IMAGE"} --tag "$image" "$context"
