#!/usr/bin/env bash
# expect_abort.sh SECONDS PATTERN COMMAND...: passes when COMMAND ends with a non-zero exit within
# SECONDS and its output contains PATTERN (one rank's error ended the whole MPI job).
limit=$1 pattern=$2
shift 2
start=$(date +%s)
out=$("$@" 2>&1)
code=$?
elapsed=$(($(date +%s) - start))
echo "$out"
echo "expect_abort: exit code $code after $elapsed s"
[ "$code" -ne 0 ] || { echo "expect_abort: the job did not fail"; exit 1; }
[ "$elapsed" -le "$limit" ] || { echo "expect_abort: it took longer than $limit s"; exit 1; }
grep -q -- "$pattern" <<<"$out" || { echo "expect_abort: no \"$pattern\" in the output"; exit 1; }
