#!/usr/bin/env bash
# The code the guides quote is the code that runs: every ```cpp block right after a
# <!-- quote: FILE FIRST-LINE --> marker in docs/*.md must equal FILE's text from the line
# FIRST-LINE to the next line that is a lone "}".
#   bash tests/check_doc_quotes.sh SOURCE_DIR
set -euo pipefail
root=${1:-.}
python3 - "$root" <<'PY'
import glob, re, sys
root = sys.argv[1]
failed = 0
count = 0
for doc in sorted(glob.glob(f"{root}/docs/*.md")):
    text = open(doc).read()
    for m in re.finditer(r"<!-- quote: (\S+) (.+?) -->\n```cpp\n(.*?)```", text, re.S):
        count += 1
        path, first, quoted = m.group(1), m.group(2), m.group(3)
        src = open(f"{root}/{path}").read().split("\n")
        starts = [i for i, l in enumerate(src) if l == first]
        if len(starts) != 1:
            print(f"{doc}: '{first}' is in {path} {len(starts)} times, not once")
            failed += 1
            continue
        end = next(i for i in range(starts[0], len(src)) if src[i] == "}")
        code = "\n".join(src[starts[0]:end + 1]) + "\n"
        if code != quoted:
            print(f"{doc}: the quote of {path} from '{first}' differs from the code")
            failed += 1
if count == 0:
    print("no quotes found: nothing was checked")
    failed += 1
print(f"docs quote {count} pieces of code" + ("" if failed else ", each as it is"))
sys.exit(1 if failed else 0)
PY
