#!/usr/bin/env bash
# The test suite again on other kinds of CPU, as far as this machine can play them: each OpenBLAS
# kernel family the CPU can run (OpenBLAS picks one by CPU model, and each adds a product's terms
# in its own order), then with tapegrad's own fast paths switched off (libxsmm's generated
# kernels, the narrow products, the direct one-channel convolution), so that every product runs
# on OpenBLAS and every convolution through im2col. A bound tuned to one machine fails here rather
# than on a user's. Runs the whole suite each time (about half a minute per family on 2 cores)
# but checkpoint_survives_sigkill, which kills a program writing files and computes nothing a
# kernel family could change (15 s each time).
#   bash scripts/cpu_matrix.sh         (after scripts/test.sh, in its build folder, or BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
[ -d "$build" ] || { echo "cpu_matrix: no build in $build; run scripts/test.sh first" >&2; exit 1; }

# The families, from the oldest: SSE3 (Prescott), AVX (SandyBridge), AVX2 + FMA (Haswell and
# AMD's Zen kernels), AVX-512 (SkylakeX). Only those this CPU can execute: forcing AVX-512
# kernels on a CPU without them would end in SIGILL, not in a test result.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
families=(Prescott)
has avx && families+=(SandyBridge)
has avx2 fma && families+=(Haswell Zen)
has avx512f avx512bw avx512vl avx512dq avx512cd && families+=(SkylakeX)

# Left out of each run: checkpoint_survives_sigkill (a file-writing race with a kill, nothing a
# kernel changes), no_positional_settings (a compile check: no kernel runs) and
# explorer_pages_pass_in_a_browser (the page compares with the numbers of its own run; its C++
# is test_explorer's). All run in scripts/test.sh.
skip='^(checkpoint_survives_sigkill|no_positional_settings|explorer_pages_pass_in_a_browser)$'
runs=()
for family in "${families[@]}"; do runs+=("OPENBLAS_CORETYPE=$family"); done
runs+=("TAPEGRAD_FAST_PATHS=none")
failed=()
for setting in "${runs[@]}"; do
  echo "== cpu_matrix: the suite with $setting"
  start=$SECONDS
  if (cd "$build" && env "$setting" ctest --output-on-failure -j"$jobs" -E "$skip" \
        > "ctest-${setting//=/-}.log" 2>&1); then
    echo "   passed ($(grep -o 'out of [0-9]*' "$build/ctest-${setting//=/-}.log" | tail -1 | tr -dc 0-9) tests, $((SECONDS - start)) s)"
  else
    grep -E "Failed|\*\*\*" "$build/ctest-${setting//=/-}.log" | head -20 >&2
    failed+=("$setting")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "cpu_matrix: the suite failed with: ${failed[*]} (logs: $build/ctest-*.log)" >&2
  exit 1
fi
echo "cpu_matrix: the suite passed with ${runs[*]}"
