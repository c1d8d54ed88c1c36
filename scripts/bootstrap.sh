#!/usr/bin/env bash
# Installs what smoes needs on Debian 12 and selects the fast BLAS.
# Idempotent: prints one line and does nothing when everything is in place.
# Works as root without a terminal (CI); uses sudo otherwise.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache lld
  libtorch-dev libopenblas0-openmp
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libstb-dev libpugixml-dev
  libsentencepiece-dev libgloo-dev libzstd-dev libjemalloc-dev libdnnl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox
  openmpi-bin  # mpirun, one way to start the ranks of a distributed run (tests/train/data_parallel_test.cpp)
  clang-14 libclang-rt-14-dev  # libFuzzer + sanitizers for the fuzz targets (fuzz/, scripts/fuzz.sh)
)
# Extra packages asked for by make targets, only by them: `make openclipart`
# (EXTRA_PACKAGES="openclipart-png openclipart-svg") and `make bench`
# (EXTRA_PACKAGES=python3-torch, the PyTorch peer's runtime, bench/peers/).
read -r -a EXTRA <<<"${EXTRA_PACKAGES:-}"
PACKAGES+=("${EXTRA[@]}")

ARCH_TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
OPENBLAS_DIR=/usr/lib/${ARCH_TRIPLET}/openblas-openmp

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

blas_ok() {
  local alt=$1
  [ "$(readlink -f "/etc/alternatives/${alt}.so.3-${ARCH_TRIPLET}" 2>/dev/null)" = \
    "$(readlink -f "${OPENBLAS_DIR}/${alt}.so.3" 2>/dev/null)" ]
}

if [ ${#missing[@]} -eq 0 ] && blas_ok libblas && blas_ok liblapack; then
  echo "bootstrap: all ${#PACKAGES[@]} packages present, BLAS = OpenBLAS-openmp; nothing to do"
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The reference BLAS is 17-40x slower and pthread OpenBLAS fights OpenMP (STACK.md).
for alt in libblas liblapack; do
  if ! blas_ok "$alt"; then
    echo "bootstrap: selecting ${OPENBLAS_DIR}/${alt}.so.3 for ${alt}.so.3"
    $SUDO update-alternatives --set "${alt}.so.3-${ARCH_TRIPLET}" "${OPENBLAS_DIR}/${alt}.so.3" >/dev/null
  fi
done
echo "bootstrap: done"
