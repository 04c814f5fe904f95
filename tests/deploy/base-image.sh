#!/usr/bin/env bash
# tests/deploy/base-image.sh DEPLOY_DIR
#
# Makes the image docker/Dockerfile starts FROM (debian:bookworm-slim) in the deploy tests'
# buildah storage. No image registry is reachable where these tests run, so it is made from
# Debian's own packages: debootstrap --variant=minbase from this machine's Debian mirror,
# trimmed like the official slim image (no documentation, manual pages or translations, no
# apt lists or caches), and with no apt sources of its own: the image build hands in the
# building machine's (docker/build-env.sh), so that no mirror name is stored in an image.
#
# The root file system is cached in DEPLOY_DIR/base-rootfs.tar (debootstrap takes one to
# three minutes); delete it to make a fresh one. Needs root (debootstrap).
set -euo pipefail
DEPLOY_DIR=$(realpath -m "${1:?usage: base-image.sh DEPLOY_DIR}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

BASE_TAG=localhost/debian:bookworm-slim
TAR=$DEPLOY_DIR/base-rootfs.tar
mkdir -p "$DEPLOY_DIR"

[[ $(id -u) -eq 0 ]] || die "debootstrap and buildah need root here (./dev test runs as root)"
command -v debootstrap >/dev/null || die "no debootstrap (scripts/install-deps.sh)"
command -v buildah >/dev/null || die "no buildah (scripts/install-deps.sh)"

make_rootfs() {
  local mirror rootfs=$DEPLOY_DIR/base-rootfs.tmp start=$SECONDS
  mirror=$(host_debian_mirror)
  [[ -n "$mirror" ]] || die "no Debian bookworm source in /etc/apt/sources.list{,.d}"
  rm -rf "$rootfs"
  say "debootstrap --variant=minbase bookworm (from this machine's Debian mirror)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$DEPLOY_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$DEPLOY_DIR/debootstrap.log" >&2
    rm -rf "$rootfs"
    die "debootstrap failed (log: $DEPLOY_DIR/debootstrap.log)"
  fi
  # Trimmed as the official slim image is; packages installed later are trimmed too.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/*
  # No package source of its own, and nothing of this machine's (the build hands sources in).
  : >"$rootfs/etc/apt/sources.list"
  rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"
  tar --numeric-owner -C "$rootfs" -cf "$TAR.tmp" .
  mv -f "$TAR.tmp" "$TAR"
  rm -rf "$rootfs"
  say "base root file system: $(du -h "$TAR" | cut -f1) in $((SECONDS - start)) s"
}

commit_image() {
  local ctr
  ctr=$(buildah_ from scratch)
  buildah_ add --quiet "$ctr" "$TAR" / >/dev/null
  buildah_ config --cmd '["bash"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  buildah_ commit --quiet --rm "$ctr" "$BASE_TAG" >/dev/null
  say "base image $BASE_TAG: $(buildah_ images --format '{{.Size}}' "$BASE_TAG")"
}

fresh=0
if [[ ! -s "$TAR" ]]; then
  make_rootfs
  fresh=1
fi
if [[ $fresh -eq 1 ]] || ! buildah_ inspect --type image "$BASE_TAG" >/dev/null 2>&1; then
  buildah_ rmi -f "$BASE_TAG" >/dev/null 2>&1 || true
  commit_image
fi
