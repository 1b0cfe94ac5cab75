#!/usr/bin/env bash
# Install every Debian 12 package artel needs to build, test and post-process.
# Idempotent: when everything is present it only checks and returns (about a second).
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libhdf5-dev zlib1g-dev libboost-dev librandom123-dev libtomlplusplus-dev libcli11-dev
  catch2 libbenchmark-dev libhwy-dev
  # fuzzing / sanitizers
  clang libclang-rt-14-dev
  # tools
  hdf5-tools
  # clusters (the mpi preset, docs/clusters.md): OpenMPI, parallel HDF5 (beside the serial one, which the
  # default build keeps using), and a one-node Slurm with munge for the Slurm test
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev slurm-wlm munge
  # Python post-processing (Debian's, never PyPI)
  python3 python3-numpy python3-h5py python3-h5netcdf python3-xarray python3-pandas
  python3-matplotlib python3-scipy python3-pytest python3-nbclient python3-nbformat
  python3-ipykernel python3-pil jupyter-notebook
  # installing the Python package (scripts/python) offline: pip, venv, setuptools, wheel
  python3-pip python3-venv python3-setuptools python3-wheel
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
