#!/usr/bin/env bash
# Checks statements of the README that a script can check:
#   - the table "Where things live" names every folder that holds code (a .cpp or .hpp), and
#     every folder it names exists;
#   - no code block uses C++20's designated initialisers (the project is C++17).
#   check_readme.sh REPOSITORY
set -uo pipefail
root=$1
readme=$root/README.md
status=0
table=$(awk '/^## Where things live/ {on = 1; next} /^## / {on = 0} on' "$readme")
named=$(grep -oE '^\| `[a-z_/]+/`' <<<"$table" | sed -E 's/^\| `(.*)\/`/\1/')
for folder in $named; do
  [ -d "$root/$folder" ] || { echo "README names $folder/, which does not exist"; status=1; }
done
# Every top-level folder with code (a .cpp or .hpp anywhere below it), and every folder of
# core/ and data/, which the table describes one by one.
has_code() { [ -n "$(find "$root/$1" \( -name '*.cpp' -o -name '*.hpp' \) -print -quit)" ]; }
folders=$(cd "$root" && find . -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name 'build*' \
            ! -name datasets | sed 's#^\./##'; cd "$root" && find core data -mindepth 1 -type d)
for folder in $folders; do
  has_code "$folder" || continue
  grep -qxF "$folder" <<<"$named" || { echo "README's table does not name $folder/"; status=1; }
done
if grep -nE '\{\s*\.[a-z_]+\s*=' "$readme"; then
  echo "README: a C++20 designated initialiser (above) in a C++17 project"; status=1
fi
[ $status -eq 0 ] && echo "README: the folder table names every folder of code: $(tr '\n' ' ' <<<"$named")"
exit $status
