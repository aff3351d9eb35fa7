#!/usr/bin/env bash
# The explorer's pages (examples/backprop_explorer) in a real browser: writes them with the
# gradients C++ computed into BUILD_DIR/explorer_pages, then steps through each in headless
# chromium (explorer_test.mjs). Also checks that the pages committed in docs/explorer/ were made
# with the current page: everything but their data line is what the program writes today.
#   bash tests/browser/run_explorer_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$1
out=$build/explorer_pages
rm -rf "$out" && mkdir -p "$out"
"$build/examples/backprop_explorer" "$out" --expected > /dev/null
for page in "$out"/*.html; do
  committed=$root/docs/explorer/$(basename "$page")
  [ -f "$committed" ] || { echo "docs/explorer/$(basename "$page") is missing: run backprop_explorer docs/explorer"; exit 1; }
  if ! diff <(grep -v '^<script>const DATA = ' "$page") <(grep -v '^<script>const DATA = ' "$committed") > /dev/null; then
    echo "docs/explorer/$(basename "$page") was made with an older page: run backprop_explorer docs/explorer"
    exit 1
  fi
done
if ! command -v node > /dev/null; then
  echo "skipped: node is not installed (bash scripts/setup.sh --browser)"
  exit 77
fi
exec node "$here/explorer_test.mjs" "$out"
