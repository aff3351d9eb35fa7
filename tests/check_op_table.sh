#!/bin/bash
# docs/ops.md lists every differentiable function of ops/*.hpp, and nothing else: the op names of
# the headers (functions returning Tensor or std::vector<Tensor>, and the operators) against the
# names in the first column of the table. ops/*_parts.hpp declare what op files share (helpers,
# not ops) and are not read.
set -euo pipefail
root=${1:-$(dirname "$0")/..}
headers=$(ls "$root"/ops/*.hpp | grep -v '_parts\.hpp$')
# shellcheck disable=SC2086
declared=$(grep -hoE '^(Tensor|std::vector<Tensor>) +(operator[^(]+|[a-z_0-9]+)\(' $headers |
           sed -E 's/^(Tensor|std::vector<Tensor>) +//; s/\($//' | sort -u)
listed=$(grep -E '^\| `' "$root/docs/ops.md" | cut -d'|' -f2 | grep -oE '`[^`]+`' | tr -d '`' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$listed"))
extra=$(comm -13 <(echo "$declared") <(echo "$listed"))
status=0
if [ -n "$missing" ]; then
    echo "docs/ops.md has no row for:" $missing
    status=1
fi
if [ -n "$extra" ]; then
    echo "docs/ops.md lists what ops/*.hpp does not declare:" $extra
    status=1
fi
[ $status -eq 0 ] && echo "docs/ops.md lists the $(echo "$declared" | wc -l) ops of ops/*.hpp"
exit $status
