#!/usr/bin/env bash
# Regenerates the pictures of docs/ from the example programs:
#   docs/backprop_graph.png, .dot   one training step of a two-layer network (backprop_graph)
#   docs/landscape.png              squared error vs cross-entropy over two weights (teaching)
#   docs/audit_squared.png, docs/audit_cross_entropy.png
#                                   the gradient audit of the sigmoid MLP on MNIST, 2 epochs
#                                   under each loss (mnist --audit --plot)
#   docs/explorer/*.html            the explorer's pages (backprop_explorer)
#
#   bash docs/make_pictures.sh [BUILD_DIR]    (default: build-docs; configured and built here)
#
# Needs Graphviz and gnuplot (Debian: apt-get install -y graphviz gnuplot-nox), and MNIST
# (bash scripts/fetch_data.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-docs}

for tool in dot gnuplot; do
  if ! command -v "$tool" > /dev/null; then
    echo "make_pictures: '$tool' is missing: apt-get install -y graphviz gnuplot-nox" >&2
    exit 1
  fi
done

cmake -S "$root" -B "$build" > /dev/null
cmake --build "$build" -j2 --target backprop_graph teaching mnist backprop_explorer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/examples/backprop_graph" "$work"
"$build/examples/teaching" landscape "$work"
for loss in squared cross_entropy; do
  "$build/examples/mnist" --model mlp --loss $loss --epochs 2 --audit "$work/audit_$loss.csv" --audit-every 20 \
    --plot "$work/audit_$loss.png" > /dev/null
done
"$build/examples/backprop_explorer" "$root/docs/explorer" > /dev/null
cp "$work/backprop_graph.dot" "$work/backprop_graph.png" "$work/landscape.png" "$work/audit_squared.png" \
   "$work/audit_cross_entropy.png" "$root/docs/"
echo "make_pictures: updated docs/backprop_graph.dot, docs/backprop_graph.png, docs/landscape.png,"
echo "  docs/audit_squared.png, docs/audit_cross_entropy.png and docs/explorer/"
