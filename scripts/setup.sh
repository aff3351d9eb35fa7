#!/usr/bin/env bash
# Installs the Debian packages tapegrad needs to build and test it. Idempotent: when everything
# is present it only checks and exits (well under a second). Options add optional parts:
#   --examples   what fetching the data sets needs (npm)
#   --graphviz   Graphviz's dot, which a test uses to check the graphs tapegrad draws
#   --browser    Debian's chromium and npm's playwright-core (into tests/browser/node_modules),
#                with which a test steps through the explorer's pages in a real browser
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
browser=0
for option in "$@"; do
  case "$option" in
    --examples) examples=1 ;;
    --graphviz) packages+=(graphviz) ;;
    --browser) browser=1; packages+=(chromium) ;;
    --all) examples=1; browser=1; packages+=(graphviz chromium) ;;
    *) echo "setup: unknown option '$option' (--examples, --graphviz, --browser, --all)" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)

# playwright-core, the version tests/browser/package.json names, beside the test that uses it.
install_playwright() {
  [ "$browser" = 1 ] || return 0
  [ -f "$root/tests/browser/node_modules/playwright-core/package.json" ] && return 0
  echo "setup: installing playwright-core into tests/browser/node_modules (npm)"
  (cd "$root/tests/browser" && npm install --no-audit --no-fund --no-package-lock --silent) ||
    { echo "setup: npm install playwright-core failed (is the npm registry reachable?)" >&2; exit 1; }
}

missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
# npm may come from elsewhere than Debian (nodesource, nvm): only a missing command counts.
if { [ "$examples" = 1 ] || [ "$browser" = 1 ]; } && ! command -v npm >/dev/null; then missing+=(npm); fi
if [ ${#missing[@]} -eq 0 ]; then install_playwright; exit 0; fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
install_playwright
