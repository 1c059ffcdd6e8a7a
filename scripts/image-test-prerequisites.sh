#!/usr/bin/env bash
# What `npm run test:image` needs besides the test suite's prerequisites: podman with runc (Debian
# packages, installed when missing, as root) and the Debian base image it builds on
# (scripts/container-base-image.sh, kept between runs). Run by .ci/run through npm run test:image.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "image test prerequisites: missing Debian packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash scripts/container-base-image.sh
