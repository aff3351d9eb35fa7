#!/usr/bin/env bash
# Checks the links of the Markdown files in a folder (docs/ by default):
#   - every relative link points to a file that exists, and a #section to a heading of it;
#   - a link whose text is a name in backticks ([`Tape::backward_from`](../core/tape.cpp))
#     points to a source file that contains that name (the part after the last ::).
# Line numbers drift as code changes; names in files do not, and this test says when they do.
set -uo pipefail
dir=${1:-$(dirname "$0")}
status=0
fail() { echo "$1: $2"; status=1; }

# GitHub's anchor of each heading of a Markdown file, one per line.
anchors() {
  grep -E '^#+ ' "$1" | sed -E 's/^#+ //' | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'
}

# The links of a Markdown file as text<TAB>target, leaving out code blocks and code spans that
# are not link texts (a lambda's [x](const Array& dy) is not a link).
links() {
  perl -ne '
    if (/^```/) { $code = !$code; next } next if $code;
    s/(\[)?(`[^`]*`)(\]\()?/($1 \/\/ "") . (defined $1 && defined $3 ? $2 : "") . ($3 \/\/ "")/ge;
    print "$1\t$2\n" while /\[([^\]]*)\]\(([^)\s]+)\)/g;' "$1"
}

for md in "$dir"/*.md; do
  while IFS=$'\t' read -r text target; do
    case $target in http://* | https://* | mailto:*) continue ;; esac
    path=${target%%#*}
    anchor=${target#"$path"}
    anchor=${anchor#\#}
    file=$md
    if [ -n "$path" ]; then
      file=$(dirname "$md")/$path
      [ -e "$file" ] || { fail "$md" "[$text]($target): no file $path"; continue; }
    fi
    if [ -n "$anchor" ] && ! anchors "$file" | grep -qx -- "$anchor"; then
      fail "$md" "[$text]($target): no heading #$anchor in $path"
    fi
    if [[ $file =~ \.(hpp|cpp)$ && $text =~ ^\`([A-Za-z_][A-Za-z0-9_:+*=-]*)(\(\))?\`$ ]]; then
      name=${BASH_REMATCH[1]##*::}
      grep -qF -- "$name" "$file" || fail "$md" "[$text]($target): '$name' is not in $path"
    fi
  done < <(links "$md")
done
[ $status -eq 0 ] && echo "docs: every link points to a file, heading and name that exist"
exit $status
