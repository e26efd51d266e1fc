#!/usr/bin/env bash
# Make the base image that `make image` builds the Dockerfile FROM on a machine
# that cannot pull from a registry: a Debian bookworm root file system made by
# debootstrap from Debian's own package mirror, with Debian's Python 3.11 (the
# project's version), its venv module, CA certificates and time zone data;
# imported into buildah's local storage as IMAGE.
#
# This stands in for python:3.11-slim (Debian bookworm with Python 3.11) in
# the tests only; the real-world build uses the official image
# (docs/deploy.md). The result is cached: when IMAGE exists and was made by
# this very recipe (the script's checksum, kept in a label), nothing is done.
#
# Usage: scripts/local-base-image.sh IMAGE [DEBIAN_MIRROR]   (as root)
set -euo pipefail

image=${1:?usage: $0 IMAGE [DEBIAN_MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
suite=bookworm
packages=python3,python3-venv,ca-certificates,tzdata
recipe=$(sha256sum "$0" | cut -c1-16)
label=adminapp.base-recipe

if [[ "$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$label\"}}" \
  "$image" 2>/dev/null)" == "$recipe" ]]; then
  echo "Base image $image is up to date (recipe $recipe)."
  exit 0
fi

rootfs=$(mktemp -d /var/tmp/adminapp-base.XXXXXX)
container=
cleanup() {
  if [[ -n "$container" ]]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$rootfs"
}
trap cleanup EXIT

echo "Making base image $image: debootstrap $suite from $mirror (a minute or two)…"
started=$SECONDS
# minbase: essential packages and apt only, as the official slim images.
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
  >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log"; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# What a slim image leaves out: package caches and lists, documentation,
# manual pages and message translations.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

container=$(buildah from scratch)
mountpoint=$(buildah mount "$container")
# /dev is provided by whatever runs the image; the rest keeps its owners,
# modes and links (tar as root).
tar -C "$rootfs" --exclude='./dev/*' -cf - . | tar -C "$mountpoint" -xpf -
buildah umount "$container" >/dev/null
buildah config --env LANG=C.UTF-8 --cmd '["python3"]' --label "$label=$recipe" \
  --label "org.opencontainers.image.description=Debian $suite with Python 3 (adminapp's local test base)" \
  "$container"
buildah commit --quiet "$container" "$image" >/dev/null
echo "Made base image $image in $((SECONDS - started)) s."
