#!/bin/sh
# Installs every Debian package chansim needs to build, test, benchmark and
# record its view headless (clang-14 and its libFuzzer runtime for
# tests/fuzz.sh). Run as root on Debian 12; idempotent. When all
# packages are already present it does nothing (set CHANSIM_APT=force to run
# apt-get anyway).
set -eu
PKGS="build-essential cmake pkg-config
      liblua5.4-dev lua5.4
      libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core fontconfig zlib1g-dev libgif-dev
      check groff-base
      python3 python3-prometheus-client python3-jsonschema
      xvfb xauth xdotool parallel
      golang-go
      clang-14 libclang-rt-14-dev
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ] && [ "${CHANSIM_APT:-}" != "force" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $PKGS
