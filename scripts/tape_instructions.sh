#!/usr/bin/env bash
# Instructions per scalar op of the tape (forward, backward and release of `y * 1.0001`,
# `y + 0.0001`), counted by callgrind: the total of `tapegrad_bench tape --ops 40000 --reps 2`
# minus that of `--ops 20000`, divided by the 60,000 ops more it ran (three runs of the chain, the
# warm-up included). Deterministic, so it compares across machines and loads. valgrind cannot run
# AVX-512 code, so it builds tapegrad_bench with -DTAPEGRAD_NATIVE=OFF in build-callgrind/.
#   bash scripts/tape_instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-callgrind}
command -v valgrind >/dev/null || { echo "tape_instructions: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_NATIVE=OFF -DTAPEGRAD_BUILD_TESTS=OFF \
      -DTAPEGRAD_BUILD_EXAMPLES=OFF -DTAPEGRAD_BUILD_BENCH=ON > /dev/null
cmake --build "$build" -j"$(nproc)" --target tapegrad_bench > /dev/null 2>&1
total() {
  local out
  out=$(mktemp)
  OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$build/bench/tapegrad_bench" tape --threads 1 --ops "$1" --reps 2 > /dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
  rm -f "$out"
}
small=$(total 20000)
large=$(total 40000)
echo "tape: $(( (large - small) / 60000 )) instructions per op (callgrind: $large - $small over 60,000 ops)"
