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
  libonnx-dev
)
# node runs onnxruntime for the ONNX parity test; a machine that already has node (e.g. from
# NodeSource, whose nodejs ships npm) keeps it, Debian's nodejs + npm otherwise.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if [ "${PPGKD_BENCH_DEPS:-0}" = 1 ]; then
  packages+=(python3-torch)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime is not in Debian: npm's onnxruntime-node ships its CPU library. Installed outside
# the repository (the ONNX test looks in the same place, or in $PPGKD_ONNXRUNTIME_DIR), pinned,
# without install scripts (its post-install step downloads GPU libraries). About 120 MB to
# download, 300 MB on disk, ~10 s; skipped when present.
ort_version=1.31.1
ort_dir="${PPGKD_ONNXRUNTIME_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ppgkd/onnxruntime}"
ort_pkg="$ort_dir/node_modules/onnxruntime-node/package.json"
if ! grep -q "\"version\": \"$ort_version\"" "$ort_pkg" 2>/dev/null; then
  echo "install-deps: installing onnxruntime-node $ort_version into $ort_dir"
  mkdir -p "$ort_dir"
  npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ort_version" >/dev/null
fi
