#!/usr/bin/env bash
# The quick start: sets up, fetches MNIST, builds and trains the tutorial CNN.
#   bash scripts/mnist.sh                      the defaults (>= 99 % test accuracy)
#   bash scripts/mnist.sh --model mlp --loss squared --epochs 3     any option of the example
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --examples
bash scripts/fetch_data.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" --target mnist binary_classification
exec ./build/examples/mnist "$@"
