#!/usr/bin/env bash
# Installs ppgkd's build and test dependencies from Debian's packages. Idempotent: packages
# already present are skipped, so a second run does no network work at all.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev libopenblas0-openmp
  libgloo-dev
  libmatio-dev libsqlite3-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  libgsl-dev libeigen3-dev
  googletest libgtest-dev
  gnuplot-nox
  libopenmpi-dev openmpi-bin
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  clang libclang-rt-dev
)
if [ "${PPGKD_BENCH_DEPS:-0}" = 1 ]; then
  packages+=(python3-torch)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
