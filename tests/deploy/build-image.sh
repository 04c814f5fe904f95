#!/usr/bin/env bash
# tests/deploy/build-image.sh DEPLOY_DIR SOURCE_DIR
#
# Builds docker/Dockerfile into DEPLOY_DIR's buildah storage as localhost/lda-api:test, the
# image tests/deploy/image.test.mjs runs. No Docker engine runs where these tests run:
# buildah builds the same Dockerfile (chroot isolation, host network, no registry: the base
# image comes from tests/deploy/base-image.sh), in Docker's format so that the HEALTHCHECK
# is kept. Layers are cached in DEPLOY_DIR between runs.
#
# The building machine's package set-up is handed in as build secrets, read by
# docker/build-env.sh for the commands that fetch packages and never stored in a layer:
# its Debian apt sources, its apt Acquire:: settings (proxy, Check-Valid-Until...), its
# trusted certificates (including those added in /usr/local/share/ca-certificates) and
# its npm registry.
#
# Prints the time each part took and the image's size.
set -euo pipefail
DEPLOY_DIR=$(realpath -m "${1:?usage: build-image.sh DEPLOY_DIR SOURCE_DIR}")
SRC=$(realpath "${2:?usage: build-image.sh DEPLOY_DIR SOURCE_DIR}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
IMAGE=localhost/lda-api:test

start=$SECONDS
"$HERE/base-image.sh" "$DEPLOY_DIR"
base_s=$((SECONDS - start))

secrets=$(mktemp -d "$DEPLOY_DIR/secrets.XXXXXX")
trap 'rm -rf "$secrets"' EXIT
chmod 0700 "$secrets"
host_debian_sources >"$secrets/apt_sources"
apt-config dump | grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date)' \
  >"$secrets/apt_conf" || true
if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
  cp /etc/ssl/certs/ca-certificates.crt "$secrets/ca_bundle"
else
  : >"$secrets/ca_bundle"
fi
registry=$(npm config get registry 2>/dev/null || true)
if [[ "$registry" =~ ^https?:// ]]; then
  printf 'registry=%s\n' "$registry" >"$secrets/npmrc"
else
  : >"$secrets/npmrc"
fi

say "buildah bud -f docker/Dockerfile -t $IMAGE (cached layers are reused)"
build_start=$SECONDS
secret_args=()
for id in apt_sources apt_conf ca_bundle npmrc; do
  secret_args+=(--secret "id=$id,src=$secrets/$id")
done
# Each line of the build's output prefixed with the seconds since the build started.
buildah_ bud --isolation chroot --network host --pull=never --layers --format docker \
  "${secret_args[@]}" --ignorefile "$SRC/docker/Dockerfile.dockerignore" \
  -f "$SRC/docker/Dockerfile" -t "$IMAGE" "$SRC" 2>&1 |
  while IFS= read -r line; do printf '[%4d s] %s\n' $((SECONDS - build_start)) "$line"; done
build_s=$((SECONDS - build_start))
# The layer cache is the untagged intermediate images: kept, unless it has grown past
# 6 GiB (old builds' layers), when it is emptied (the next build is then a cold one).
if (($(du -sm "$DEPLOY_DIR/containers" | cut -f1) > 6144)); then
  say "emptying the layer cache ($(du -sh "$DEPLOY_DIR/containers" | cut -f1))"
  buildah_ rmi --prune >/dev/null 2>&1 || true
fi

size=$(buildah_ images --format '{{.Size}}' "$IMAGE")
say "image $IMAGE: $size (base image and debootstrap ${base_s} s, build ${build_s} s)"
printf '%s\n' "$size" >"$DEPLOY_DIR/image-size"
