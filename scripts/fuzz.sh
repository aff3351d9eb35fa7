#!/usr/bin/env bash
# Builds the libFuzzer targets of the file readers and of the engine (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for a bounded time. Any crash, hang (an input taking
# more than 10 s), memory error, undefined behaviour, leak or broken invariant fails the script and
# leaves the input that caused it in build-fuzz/artifacts/ (replay: build-fuzz/fuzz/fuzz_NAME FILE).
#   bash scripts/fuzz.sh                          every target (idx csv pgm npz engine), 60 s each,
#                                                 as many at once as there are cores (JOBS)
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh npz    one target for an hour
# What a run finds new is kept in build-fuzz/corpus/NAME and used by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx csv pgm npz engine)
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}

bash scripts/setup.sh
# libFuzzer comes with clang's runtime libraries (Debian: libclang-rt-14-dev).
fuzzer_links() {
  local dir
  dir=$(mktemp -d)
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    > "$dir/t.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$dir/t.cpp" -o "$dir/t" >/dev/null 2>&1
  local code=$?
  rm -rf "$dir"
  return $code
}
if ! command -v clang++ >/dev/null || ! fuzzer_links; then
  echo "fuzz: installing clang and libclang-rt-14-dev (libFuzzer)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
  fuzzer_links || { echo "fuzz: clang++ -fsanitize=fuzzer does not link" >&2; exit 1; }
fi

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" \
      -DTAPEGRAD_BUILD_FUZZERS=ON -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF \
      -DTAPEGRAD_BUILD_BENCH=OFF
cmake --build "$build" -j"$jobs"

# How the sanitizers report: the first report ends the run; leaks are reports too.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}

rm -rf "$build/seeds"
"$build/fuzz/fuzz_seeds" "$build/seeds"
mkdir -p "$build/artifacts"
# One target: its log in $build/fuzz_NAME.log, its summary line in $build/fuzz_NAME.summary.
fuzz_one() {
  local name=$1
  mkdir -p "$build/corpus/$name" "$build/seeds/$name"
  local seed_dirs=("$build/seeds/$name")
  [ -d "fuzz/corpus/$name" ] && seed_dirs+=("fuzz/corpus/$name")
  echo "== fuzz_$name for ${seconds} s"
  local log="$build/fuzz_$name.log"
  local dict=(); [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
  # An engine program reads at most a few hundred bytes; longer inputs only slow the search.
  local max_len=65536; [ "$name" = engine ] && max_len=1024
  # -timeout: one input running longer is a hang; -rss_limit_mb: so is a memory blow-up.
  if ! "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len="$max_len" -print_final_stats=1 "${dict[@]}" \
       -artifact_prefix="$root/$build/artifacts/${name}-" \
       "$build/corpus/$name" "${seed_dirs[@]}" > "$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: fuzz_$name found a problem; the input is in $build/artifacts/" >&2
    return 1
  fi
  local execs corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(find "$build/corpus/$name" -type f | wc -l)
  echo "fuzz_$name: $execs executions in ${seconds} s, corpus $corpus inputs, no findings" | tee "$build/fuzz_$name.summary"
}

# Each fuzzer is one process on one core: up to $jobs run at once, each for the full time.
failed=0
pids=()
for name in "${targets[@]}"; do
  rm -f "$build/fuzz_$name.summary"
  fuzz_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ $failed -eq 0 ] || exit 1
summary=()
for name in "${targets[@]}"; do summary+=("$(cat "$build/fuzz_$name.summary")"); done
printf '%s\n' "${summary[@]}"
