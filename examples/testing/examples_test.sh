#!/usr/bin/env bash
# End-to-end checks of the example programs on small generated data (nothing is downloaded).
#   examples_test.sh CASE BUILD_DIR
set -uo pipefail
case_name=$1
bin=$2/examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAILED: $*"; exit 1; }
# expect_error "message part" command...: must exit non-zero and print the message part.
expect_error() {
  local want=$1; shift
  local out
  out=$("$@" 2>&1) && fail "'$*' succeeded; expected an error containing: $want"
  grep -qF -- "$want" <<<"$out" || fail "'$*' printed: $out -- expected: $want"
  echo "ok: $* -> $(grep -F -- "$want" <<<"$out" | head -1)"
}
# last_accuracy FILE: the test_accuracy of the last row of a metrics CSV.
last_accuracy() { tail -n 1 "$1" | cut -d, -f4; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

case $case_name in
mnist_trains_on_generated_digits)
  "$bin/make_digits" "$work" 1000 200 || fail "make_digits"
  for model in cnn mlp relu_mlp; do
    lr=0.1; [ "$model" = mlp ] && lr=1  # the small sigmoid MLP needs large steps
    "$bin/mnist" --data "$work" --model "$model" --epochs 3 --batch-size 20 --lr $lr --schedule constant \
      --metrics "$work/$model.csv" --save "$work/$model.npz" > "$work/$model.log" 2>&1 ||
      { cat "$work/$model.log"; fail "mnist --model $model"; }
    head -1 "$work/$model.csv" | grep -qx "epoch,train_loss,test_loss,test_accuracy,seconds,images_per_second" ||
      fail "metrics header of $model"
    [ "$(wc -l < "$work/$model.csv")" -eq 4 ] || fail "$model metrics should have 3 epochs"
    acc=$(last_accuracy "$work/$model.csv")
    echo "$model: final test accuracy $acc"
    at_least "$acc" 0.9 || fail "$model reached only $acc"
  done
  # --predict reads a PGM of a generated digit 7 (row 17 bright) and must say 7.
  { printf 'P2\n28 28\n255\n'; for r in $(seq 0 27); do for c in $(seq 0 27); do
      if [ "$r" -eq 17 ] && [ "$c" -ge 6 ] && [ "$c" -lt 20 ]; then printf '230 '; else printf '10 '; fi
    done; echo; done; } > "$work/seven.pgm"
  out=$("$bin/mnist" --model cnn --load "$work/cnn.npz" --predict "$work/seven.pgm") || fail "predict"
  echo "$out" | head -1
  grep -qx "digit 7" <<<"$out" || fail "predicted: $out"
  ;;
mnist_compare_losses_prints_the_table)
  "$bin/make_digits" "$work" 500 100 || fail "make_digits"
  out=$("$bin/mnist" --data "$work" --model mlp --compare-losses --epochs 2 --batch-size 10 2>&1) ||
    { echo "$out"; fail "compare"; }
  grep -F "| epoch | (a) squared, 1 output = digit | (b) squared, softmax vs one-hot | (c) cross-entropy on logits |" <<<"$out" ||
    fail "no table header in: $out"
  grep -E "^\| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$" <<<"$out" || fail "no row for epoch 2"
  grep -F "Ranking by final test accuracy" <<<"$out" || fail "no ranking"
  ;;
mnist_rejects_bad_input)
  "$bin/make_digits" "$work" 100 20 || fail "make_digits"
  expect_error "batch-size" "$bin/mnist" --data "$work" --batch-size 0
  expect_error "must be above 0, got -0.1" "$bin/mnist" --data "$work" --lr -0.1
  expect_error "choose one of" "$bin/mnist" --data "$work" --loss nonsense
  expect_error "zero_one" "$bin/mnist" --data "$work" --loss zero_one
  expect_error "model" "$bin/mnist" --data "$work" --model transformer
  expect_error "$work/nowhere" "$bin/mnist" --data "$work/nowhere"
  head -c 1000 "$work/train-images-idx3-ubyte" > "$work/cut" && mv "$work/cut" "$work/train-images-idx3-ubyte"
  expect_error "train-images-idx3-ubyte: truncated" "$bin/mnist" --data "$work"
  printf 'P5\n32 32\n255\n' > "$work/big.pgm"; head -c 1024 /dev/zero >> "$work/big.pgm"
  expect_error "expected 28x28" "$bin/mnist" --load "$work/none.npz" --predict "$work/big.pgm"
  ;;
binary_classification_trains_on_generated_csv)
  awk 'BEGIN { srand(3); print "f1,f2,f3,label";
    for (i = 0; i < 300; i++) { y = i % 2; printf "%.3f,%.3f,%.3f,%d\n", y*2 + rand(), rand()*5, -y + rand(), y } }' \
    > "$work/data.csv"
  "$bin/binary_classification" --csv "$work/data.csv" --label-column 3 --epochs 20 \
    --metrics "$work/m.csv" > "$work/log" 2>&1 || { cat "$work/log"; fail "train"; }
  acc=$(last_accuracy "$work/m.csv"); echo "final test accuracy $acc"
  at_least "$acc" 0.95 || fail "reached only $acc"
  out=$("$bin/binary_classification" --csv "$work/data.csv" --label-column 3 --epochs 5 --compare-losses) ||
    fail "compare"
  for loss in log squared absolute hinge exponential log_with_logits; do
    grep -qE "^\| $loss \|" <<<"$out" || fail "no row for $loss in: $out"
  done
  echo "$out" | head -4
  sed 's/^0.1/abc/' "$work/data.csv" | sed '5s/.*/1,2/' > "$work/bad.csv"
  expect_error "line 5 has 2 cells, expected 4" "$bin/binary_classification" --csv "$work/bad.csv"
  awk -F, 'NR==1 || NR>3 {print} NR==3 {print $1","$2","$3",0.5"}' "$work/data.csv" > "$work/half.csv"
  expect_error "labels must be 0/1" "$bin/binary_classification" --csv "$work/half.csv"
  expect_error "label-column" "$bin/binary_classification" --csv "$work/data.csv" --label-column 9
  ;;
*) fail "unknown case $case_name" ;;
esac
echo "passed: $case_name"
