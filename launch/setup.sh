#!/usr/bin/env bash
# Installs what secura-dist needs on a Debian machine: Open MPI, OpenBLAS (with LAPACK), ScaLAPACK
# built against Open MPI, and pkg-config. Idempotent: installs only what is missing.
# The Swift toolchain itself is expected on PATH (swift 5.10 or newer).
set -euo pipefail
packages=(pkg-config libopenmpi-dev openmpi-bin libopenblas-dev libscalapack-openmpi-dev python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (install a Swift 5.10+ toolchain)" >&2; exit 1; }
echo "setup: native dependencies present" >&2
