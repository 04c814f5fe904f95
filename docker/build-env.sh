#!/bin/sh
# docker/build-env.sh COMMAND [ARG]...: runs COMMAND inside an image build with the package
# clients (apt, npm, node) set up from what the build hands in as secrets, for this command
# only. A fresh base image does not inherit how the building machine reaches its packages
# (a mirror, a proxy, extra trusted certificates); those settings belong to that machine, so
# they are never written in the repository nor stored in a layer. Each is optional:
#
#   /run/secrets/apt_conf     apt settings (e.g. Acquire:: proxy or Check-Valid-Until lines)
#   /run/secrets/apt_sources  apt sources (one-line format), instead of the image's own
#   /run/secrets/ca_bundle    PEM bundle trusted by apt, npm and node instead of the image's
#   /run/secrets/npmrc        npm settings (e.g. registry=...)
#
# A plain `docker build` hands in nothing and the base image's own settings apply.
# tests/deploy/build-image.sh hands in the building machine's (buildah bud --secret).
set -eu
s=/run/secrets
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
: >"$tmp/apt.conf"
if [ -s "$s/apt_conf" ]; then
  cat "$s/apt_conf" >>"$tmp/apt.conf"
fi
if [ -s "$s/apt_sources" ]; then
  mkdir "$tmp/sources.list.d"
  printf 'Dir::Etc::SourceList "%s";\nDir::Etc::SourceParts "%s";\n' \
    "$s/apt_sources" "$tmp/sources.list.d" >>"$tmp/apt.conf"
fi
if [ -s "$s/ca_bundle" ]; then
  printf 'Acquire::https::CAInfo "%s";\n' "$s/ca_bundle" >>"$tmp/apt.conf"
  NODE_EXTRA_CA_CERTS="$s/ca_bundle"
  npm_config_cafile="$s/ca_bundle"
  export NODE_EXTRA_CA_CERTS npm_config_cafile
fi
if [ -s "$s/npmrc" ]; then
  npm_config_userconfig="$s/npmrc"
  export npm_config_userconfig
fi
APT_CONFIG="$tmp/apt.conf"
export APT_CONFIG
"$@"
