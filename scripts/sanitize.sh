#!/usr/bin/env bash
# The whole test suite (library tests and example programs) built with sanitizers: any report
# fails the test that caused it. A compiler warning in the project's own code fails the build.
#   bash scripts/sanitize.sh           AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
#                                      (build folder: build-asan, or BUILD_DIR)
#   bash scripts/sanitize.sh thread    ThreadSanitizer: data races and lock-order inversions
#                                      (build folder: build-tsan, or BUILD_DIR); the suppressions in
#                                      scripts/tsan.supp name only OpenBLAS's and OpenMPI's frames
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-address}
case "$mode" in
  address) sanitize=ON; default_build=build-asan ;;
  thread) sanitize=thread; default_build=build-tsan ;;
  *) echo "sanitize: unknown mode '$mode'; say address (the default) or thread" >&2; exit 2 ;;
esac
bash scripts/setup.sh
build=${BUILD_DIR:-$default_build}
jobs=${JOBS:-$(nproc)}
# -O2 for speed, -g1 (line tables only: faster to build, enough for the reports' stack traces),
# and without -DNDEBUG, so that assert()s are checked too.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" \
      -DTAPEGRAD_SANITIZE="$sanitize" -DTAPEGRAD_BUILD_BENCH=OFF
cmake --build "$build" -j"$jobs" 2>&1 | tee "$build/build.log"
# Headers of xtensor, doctest and CLI11 are system headers (no warnings from them): a warning
# here is ours.
if grep -q "warning:" "$build/build.log"; then
  grep -A3 "warning:" "$build/build.log" >&2
  echo "sanitize: the build has compiler warnings (above)" >&2
  exit 1
fi
# How the sanitizers report: the first report ends the program with a non-zero status, so the
# test fails; LeakSanitizer runs at exit, and a leak is a report too.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}
# Left out of both passes: no_positional_settings, a compile check (try_compile of files that must
# not compile) that runs no instrumented code. Left out under ThreadSanitizer, where each takes
# minutes and all run in the two other passes: the single-process example programs that train
# on one thread or the training loop's own pool (checkpoint_survives_sigkill,
# mnist_resume_continues_exactly, mnist_trains_on_generated_digits, mnist_ctrl_c_...) and the
# two-rank MPI run mnist_distributed_agrees_on_stops (OpenMPI's threads are suppressed there
# anyway), and the browser's walk through the explorer's pages (one thread of C++ writes them). Threads stay covered under ThreadSanitizer by the thread tests, the pool's, the four
# models trained on four threads, and mnist_same_seed_gives_the_same_bits (1 and 2 threads).
skip='no_positional_settings'
[ "$mode" = thread ] && skip+='|explorer_pages_pass_in_a_browser|checkpoint_survives_sigkill|mnist_resume_continues_exactly|mnist_trains_on_generated_digits|mnist_ctrl_c_writes_a_checkpoint_and_resumes|mnist_distributed_agrees_on_stops'
exclude=(-E "^($skip)\$")
cd "$build" && ctest --output-on-failure -j"$jobs" "${exclude[@]}"
