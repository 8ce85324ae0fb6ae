#!/usr/bin/env bash
# Installs what moescope builds with, from Debian packages. Safe to re-run: it asks apt only
# for what is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev nlohmann-json3-dev doctest-dev libpcre2-dev libutf8proc-dev libopenblas-openmp-dev libdnnl-dev libsqlite3-dev zlib1g-dev libstb-dev fonts-dejavu-core
  libopenmpi-dev openmpi-bin   # `mpirun ... moescope-cli trace` (MOESCOPE_MPI)
  libimgui-dev libglfw3-dev libgl-dev xvfb xauth libgl1-mesa-dri
  clang libclang-rt-14-dev libomp-dev   # tools/fuzz.sh: libFuzzer + sanitizers, OpenMP for Clang
  python3-venv python3-dev ca-certificates   # the optional Python package (pip install .) and its tests (TLS to the package index)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
