#!/usr/bin/env bash
# The base image the container test builds on, made here because no image registry can be reached:
# a minimal Debian 12 root file system from debootstrap (about 3 minutes), imported into podman as
# localhost/debian-base:bookworm. Does nothing when that image exists already (it is kept between runs).
# Usage: bash scripts/container-base-image.sh   (as root, with podman and debootstrap installed)
set -euo pipefail
IMAGE=localhost/debian-base:bookworm
if podman image exists "$IMAGE"; then exit 0; fi
root=$(mktemp -d /var/tmp/vouch-debootstrap.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$root.log" 2>&1 || {
  echo "container-base-image: debootstrap failed (log: $root.log)" >&2
  exit 1
}
rm -f "$root.log"
# No package lists or caches in the image: nothing in it installs packages later.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | podman import --quiet - "$IMAGE" >/dev/null
echo "container-base-image: made $IMAGE"
