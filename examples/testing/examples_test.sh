#!/usr/bin/env bash
# End-to-end checks of the example programs on small generated data (nothing is downloaded).
#   examples_test.sh CASE BUILD_DIR
set -uo pipefail
case_name=$1
bin=$2/examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAILED: $*"; exit 1; }
# expect_error "message part" command...: must exit non-zero, but not by a crash (a signal or a
# sanitizer report), and print the message part.
expect_error() {
  local want=$1; shift
  local out code=0
  out=$("$@" 2>&1) || code=$?
  [ $code -ne 0 ] || fail "'$*' succeeded; expected an error containing: $want"
  [ $code -lt 126 ] || fail "'$*' crashed (exit status $code): $out"
  grep -qE "Sanitizer|runtime error:" <<<"$out" && fail "'$*' has a sanitizer report: $out"
  grep -qF -- "$want" <<<"$out" || fail "'$*' printed: $out -- expected: $want"
  echo "ok: ${*#"$bin/"} -> exit $code: $(grep -F -- "$want" <<<"$out" | head -1)"
}
# metrics_losses FILE: epoch, train_loss, test_loss and test_accuracy of a metrics CSV (the
# seconds and images/s columns differ from run to run).
metrics_losses() { cut -d, -f1-4 "$1"; }
# same_run A.csv B.csv A.npz B.npz: identical loss columns and identical model bytes.
same_run() {
  diff <(metrics_losses "$1") <(metrics_losses "$2") || fail "$1 and $2 differ (above)"
  cmp "$3" "$4" || fail "$3 and $4 differ"
  echo "identical: $(metrics_losses "$2" | tail -n +2 | tr '\n' ' ')"
}
# last_accuracy FILE: the test_accuracy of the last row of a metrics CSV.
last_accuracy() { tail -n 1 "$1" | cut -d, -f4; }
# close_runs A.csv B.csv: a distributed run against one process. The sums of the shards'
# gradients round differently from the whole batch's: the losses agree to a relative 1e-3 (on
# generated digits they fall to 1e-7, where float rounding shows), the accuracy exactly.
close_runs() {
  paste -d' ' <(metrics_losses "$1") <(metrics_losses "$2")
  paste -d, "$1" "$2" | awk -F, -v n="$(head -1 "$1" | tr ',' '\n' | wc -l)" '
    NR > 1 { for (c = 2; c <= 3; c++) { a = $c; b = $(c + n); d = a - b; if (d < 0) d = -d;
               if (d > 1e-3 * (a < 0 ? -a : a) + 1e-9) bad = 1 }
             if ($4 != $(4 + n)) bad = 1 }
    END { exit bad }' || fail "the distributed run's losses differ from one process's (above)"
}
# mpi_ready: skips (exit 77) without mpirun or without MPI in the build; sets mpi=(mpirun ...).
mpi_ready() {
  command -v mpirun >/dev/null || { echo "mpirun is not installed: skipped"; exit 77; }
  if grep -q "this build has no MPI" <<<"$("$bin/mnist" --distributed --data "$work" --limit 1 2>&1)"; then
    echo "tapegrad was built without MPI: skipped"; exit 77
  fi
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TAPEGRAD_DIST_TIMEOUT=60
  # Under the sanitizers: MPI's own leaks suppressed by name, found by the full unwinder.
  export LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")/../.." && pwd)/tests/distributed/lsan.supp
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0
  mpi=(mpirun --oversubscribe --bind-to none)
}
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

case $case_name in
mnist_trains_on_generated_digits)
  "$bin/make_digits" "$work" 1000 200 || fail "make_digits"
  for model in cnn cnn_bn mlp relu_mlp; do
    lr=0.1; [ "$model" = mlp ] && lr=1  # the small sigmoid MLP needs large steps
    [ "$model" = cnn_bn ] && lr=0.01
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
mnist_audit_shows_why_squared_error_learns_slowly)
  # The audit of the same sigmoid MLP under squared error (after softmax) and cross-entropy: a
  # row per layer every 5 steps; the squared-error gradients reaching the first layer are far
  # smaller (the tutorial's claim, in a learner's own run).
  "$bin/make_digits" "$work" 500 100 || fail "make_digits"
  for loss in squared cross_entropy; do
    "$bin/mnist" --data "$work" --model mlp --loss $loss --epochs 1 --batch-size 20 --lr 1 --schedule constant \
      --audit "$work/$loss.csv" --audit-every 5 > "$work/$loss.log" 2>&1 || { cat "$work/$loss.log"; fail "mnist --audit"; }
    head -1 "$work/$loss.csv" | grep -qx "step,layer,type,parameters,grad_norm,max_abs_grad,update_ratio,dead,saturated,flag" ||
      fail "audit header"
    # Steps 1, 5, 10, ..., 25 (500 images in batches of 20), five layers each.
    [ "$(wc -l < "$work/$loss.csv")" -eq $((1 + 6 * 5)) ] || fail "$loss.csv: $(wc -l < "$work/$loss.csv") lines"
    grep -q '^25,1,Sigmoid,0,,,,,[0-9.e-]*,' "$work/$loss.csv" || fail "no saturation of layer 1 at step 25"
    grep -q '^25,0,Linear,7850,[0-9.e-]*,[0-9.e-]*,[0-9.e-]*,,,' "$work/$loss.csv" || fail "layer 0's row at step 25"
    grep -q "gradient audit after step 25" "$work/$loss.log" || fail "no table printed"
  done
  mean_first_layer() { awk -F, '$2 == "0" { s += $5; n++ } END { print s / n }' "$1"; }
  sq=$(mean_first_layer "$work/squared.csv"); ce=$(mean_first_layer "$work/cross_entropy.csv")
  echo "mean gradient norm of layer 0: squared $sq, cross-entropy $ce"
  at_least "$ce" "$(awk -v s="$sq" 'BEGIN { print 10 * s }')" || fail "cross-entropy's gradients are not 10x squared error's"
  ;;
worksheet_writes_the_exercise_and_its_key)
  # The README's commands: the exercise has blanks, the key has none and the loss by hand.
  sheet=$("$bin/worksheet" --network 2-2-1 --loss squared --seed 3) || fail "worksheet"
  [ "$(grep -c '| ______ |' <<<"$sheet")" -eq 25 ] || fail "the 2-2-1 sheet should have 25 blanks"
  key=$("$bin/worksheet" --network 2-2-1 --loss squared --seed 3 --answers) || fail "worksheet --answers"
  grep -q '______' <<<"$key" && fail "the key has blanks"
  # Seed 3: x = (-1.5, -1.5), y = 1; a = 0.4022, L = (a - 1)^2 = 0.3573.
  grep -qF '| L | (a - y)² | 0.3573 |' <<<"$key" || fail "the key's loss: $(grep '| L |' <<<"$key")"
  "$bin/worksheet" --network 3-2-1 --loss cross_entropy --seed 1 --answers --html -o "$work/key.html" > /dev/null ||
    fail "worksheet --html"
  grep -q '<td class="value">' "$work/key.html" || fail "no values in the HTML key"
  expect_error "--network 2-2-2: the output layer has one unit" "$bin/worksheet" --network 2-2-2
  expect_error "--loss hinge: choose squared or cross_entropy" "$bin/worksheet" --loss hinge
  ;;
char_model_trains_and_samples)
  # A generated text with a strong rule (each word repeats) that a model learns in seconds.
  for i in $(seq 400); do printf 'abc%d abc%d. ' $((i % 7)) $((i % 7)); done > "$work/text.txt"
  for model in lstm gru transformer; do
    "$bin/char_model" --text "$work/text.txt" --model "$model" --epochs 4 --batch-size 8 \
      --seq-len 16 --dim 16 --hidden 32 --layers 1 --threads 2 --metrics "$work/$model.csv" \
      --save "$work/$model.npz" --sample 40 --prompt "abc3 " > "$work/$model.log" 2>&1 ||
      { cat "$work/$model.log"; fail "char_model --model $model"; }
    head -1 "$work/$model.csv" | grep -qx "epoch,train_bpc,valid_bpc,bigram_bpc,seconds" ||
      fail "metrics header of $model"
    [ "$(wc -l < "$work/$model.csv")" -eq 5 ] || fail "$model metrics should have 4 epochs"
    row=$(tail -n 1 "$work/$model.csv")
    valid=$(cut -d, -f3 <<<"$row"); bigram=$(cut -d, -f4 <<<"$row")
    first=$(sed -n 2p "$work/$model.csv" | cut -d, -f3)
    echo "$model: held-out bits/char $first after epoch 1, $valid after 4 (bigram $bigram)"
    at_least "$first" "$valid" || fail "$model did not improve"
    grep -q "^abc3 " "$work/$model.log" || fail "$model printed no sample"
    # The saved model samples again without training, the same text for the same seed.
    again=$("$bin/char_model" --text "$work/text.txt" --model "$model" --epochs 0 --dim 16 \
      --hidden 32 --layers 1 --seq-len 16 --load "$work/$model.npz" --sample 40 --prompt "abc3 " | tail -n 1)
    [ "$again" = "$(grep "^abc3 " "$work/$model.log" | tail -n 1)" ] ||
      fail "$model: the loaded model sampled '$again'"
  done
  expect_error "--text $work/none.txt: cannot open it" "$bin/char_model" --text "$work/none.txt"
  printf 'short' > "$work/short.txt"
  expect_error "are too few to learn from" "$bin/char_model" --text "$work/short.txt"
  expect_error "does not match the model" "$bin/char_model" --text "$work/text.txt" --model gru \
    --epochs 0 --sample 5 --load "$work/lstm.npz" --dim 16 --hidden 32 --layers 1
  expect_error "is not in the training text's alphabet" "$bin/char_model" --text "$work/text.txt" \
    --epochs 0 --sample 5 --prompt "XYZ"
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

  # Each of the following spoils one file of a fresh copy of the generated data.
  mkdir "$work/good" "$work/other"
  "$bin/make_digits" "$work/good" 100 20 || fail "make_digits"
  fresh() { rm -rf "$work/d"; cp -r "$work/good" "$work/d"; }
  fresh; printf 'PK\003\004' | dd of="$work/d/train-labels-idx1-ubyte" conv=notrunc status=none
  expect_error "train-labels-idx1-ubyte: bad magic number 0x50 0x4B 0x03 0x04" \
    "$bin/mnist" --data "$work/d"
  fresh; "$bin/make_digits" "$work/other" 90 20; cp "$work/other/train-labels-idx1-ubyte" "$work/d/"
  expect_error "has 100 images but $work/d/train-labels-idx1-ubyte has 90 labels" \
    "$bin/mnist" --data "$work/d"
  fresh; printf '\014' | dd of="$work/d/train-labels-idx1-ubyte" bs=1 seek=13 conv=notrunc status=none
  expect_error "train-labels-idx1-ubyte: label 5 is 12; digit labels are 0 to 9" \
    "$bin/mnist" --data "$work/d"
  fresh; f="$work/d/t10k-images-idx3-ubyte.gz"; head -c $(($(stat -c %s "$f") / 2)) "$f" > "$f.cut"
  mv "$f.cut" "$f"
  expect_error "t10k-images-idx3-ubyte.gz: gzip stream cut short" "$bin/mnist" --data "$work/d"
  fresh; : > "$work/d/train-images-idx3-ubyte"
  expect_error "train-images-idx3-ubyte: empty file" "$bin/mnist" --data "$work/d"
  fresh; rm "$work/d/t10k-labels-idx1-ubyte.gz"
  expect_error "no test labels in $work/d: looked for t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz" \
    "$bin/mnist" --data "$work/d"
  expect_error "(the folder does not exist)" "$bin/mnist" --data "$work/nowhere"

  # Checkpoints and saved models that do not fit, or are damaged.
  fresh
  run=("$bin/mnist" --data "$work/d" --model relu_mlp --epochs 2 --batch-size 10)
  "${run[@]}" --checkpoint "$work/ck.npz" --save "$work/model.npz" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "training for the checkpoint"; }
  expect_error "does not match the model (" \
    "$bin/mnist" --data "$work/d" --model mlp --epochs 2 --batch-size 10 --resume "$work/ck.npz"
  expect_error "was written by a run with other settings; resume with the same ones" \
    "${run[@]}" --lr 0.2 --resume "$work/ck.npz"
  expect_error "is not model.*, optimizer.*, scheduler.*, random.generator or extra.*: is it a checkpoint" \
    "${run[@]}" --resume "$work/model.npz"
  expect_error "$work/missing.npz: cannot open: No such file or directory" \
    "${run[@]}" --resume "$work/missing.npz"
  head -c $(($(stat -c %s "$work/ck.npz") / 2)) "$work/ck.npz" > "$work/cut.npz"
  expect_error "is not a valid .npz file: no ZIP end record at its end (the file is truncated" \
    "${run[@]}" --resume "$work/cut.npz"
  cp "$work/ck.npz" "$work/flipped.npz"
  printf '\377' | dd of="$work/flipped.npz" bs=1 seek=5000 conv=notrunc status=none
  expect_error "is corrupted: its CRC-32 is" "${run[@]}" --resume "$work/flipped.npz"
  expect_error "does not match the model" "$bin/mnist" --data "$work/d" --model cnn --load "$work/model.npz"
  expect_error "--resume continues a run, model included: it takes no --load" \
    "${run[@]}" --resume "$work/ck.npz" --load "$work/model.npz"

  # Command-line values out of range.
  expect_error "--epochs: Value 0 not in range 1 to 1000" "$bin/mnist" --data "$work/d" --epochs 0
  expect_error "--threads: Value 0 not in range 1 to 256" "$bin/mnist" --data "$work/d" --threads 0
  expect_error "--momentum: Value 1.5 not in range" "$bin/mnist" --data "$work/d" --momentum 1.5
  expect_error "--optimizer: adadelta not in {sgd,adam,adamw,rmsprop}" "$bin/mnist" --data "$work/d" --optimizer adadelta
  expect_error "--warmup 3 must be fewer epochs than --epochs 3" "$bin/mnist" --data "$work/d" --epochs 3 --warmup 3
  expect_error "--lr: must be above 0, got 0" "$bin/mnist" --data "$work/d" --lr 0
  expect_error "--batch-size: Value ten not in range 1 to 60000" "$bin/mnist" --data "$work/d" --batch-size ten
  printf 'P2\n28 28\n255\n1 2 3\n' > "$work/short.pgm"
  expect_error "short.pgm: truncated" "$bin/mnist" --load "$work/model.npz" --model relu_mlp \
    --predict "$work/short.pgm"
  ;;
binary_classification_rejects_bad_input)
  csv=$work/data.csv
  printf 'f1,f2,label\n1,2,0\n2,1,1\n3,0,0\n0,3,1\n1,1,0\n2,2,1\n3,3,0\n0,0,1\n' > "$csv"
  bad() { sed "$1" "$csv" > "$work/bad.csv"; }
  bad '3s/.*/2,1/'
  expect_error "bad.csv: line 3 has 2 cells, expected 3 (as the header on line 1)" \
    "$bin/binary_classification" --csv "$work/bad.csv"
  bad '4s/^3/abc/'
  expect_error 'bad.csv: line 4, column 1: "abc" is not a number' \
    "$bin/binary_classification" --csv "$work/bad.csv"
  bad '5s/^0/nan/'
  expect_error 'bad.csv: line 5, column 1: "nan" is NaN; cells must be finite' \
    "$bin/binary_classification" --csv "$work/bad.csv"
  bad '6s/^1/-inf/'
  expect_error 'bad.csv: line 6, column 1: "-inf" is infinite; cells must be finite' \
    "$bin/binary_classification" --csv "$work/bad.csv"
  bad '7s/^2/1e39/'
  expect_error 'bad.csv: line 7, column 1: "1e39" is out of range for a float' \
    "$bin/binary_classification" --csv "$work/bad.csv"
  bad '2s/,0$/,/'
  expect_error "bad.csv: line 2, column 3: empty cell" "$bin/binary_classification" --csv "$work/bad.csv"
  bad '2s/,0$/,2/'
  expect_error "bad.csv: row 1, label column 2 is 2.000000; labels must be 0/1 or -1/+1" \
    "$bin/binary_classification" --csv "$work/bad.csv"
  : > "$work/empty.csv"
  expect_error "empty.csv: empty file" "$bin/binary_classification" --csv "$work/empty.csv"
  head -1 "$csv" > "$work/header.csv"
  expect_error "header.csv: no data rows after the header on line 1" \
    "$bin/binary_classification" --csv "$work/header.csv"
  expect_error "missing.csv: cannot open: No such file or directory" \
    "$bin/binary_classification" --csv "$work/missing.csv"
  expect_error "$work: is a folder, not a file" "$bin/binary_classification" --csv "$work"
  expect_error "--label-column 5: $csv has 3 columns" \
    "$bin/binary_classification" --csv "$csv" --label-column 5
  expect_error "--batch-size: Value 0 not in range" "$bin/binary_classification" --csv "$csv" --batch-size 0
  expect_error "--lr: must be above 0, got -1" "$bin/binary_classification" --csv "$csv" --lr -1
  expect_error "--loss: cross_entropy not in {log,squared,absolute,hinge,exponential,log_with_logits}" \
    "$bin/binary_classification" --csv "$csv" --loss cross_entropy
  expect_error "--test-fraction: Value 1 not in range" \
    "$bin/binary_classification" --csv "$csv" --test-fraction 1
  ;;
mnist_stops_when_the_loss_is_nan)
  "$bin/make_digits" "$work" 200 20 || fail "make_digits"
  run=("$bin/mnist" --data "$work" --model relu_mlp --epochs 2 --batch-size 20 --lr 1e30)
  expect_error "training diverged: the loss is" "${run[@]}"
  expect_error "at epoch 1, batch 2/10; the learning rate (--lr 1e+30) is likely too high: lower it, or pass --keep-going-on-nan" \
    "${run[@]}"
  out=$("${run[@]}" --keep-going-on-nan --metrics "$work/m.csv" 2>&1) || { echo "$out"; fail "--keep-going-on-nan"; }
  grep -F "warning: the loss is" <<<"$out" | head -2
  grep -qF "training goes on (--keep-going-on-nan)" <<<"$out" || fail "no warning in: $out"
  grep -qF "batches of epoch 2 had a loss that is not finite" <<<"$out" || fail "no count in: $out"
  [ "$(wc -l < "$work/m.csv")" -eq 3 ] || fail "--keep-going-on-nan should finish both epochs"
  ;;
binary_classification_stops_when_the_loss_is_nan)
  awk 'BEGIN { srand(3); print "f1,f2,label";
    for (i = 0; i < 100; i++) { y = i % 2; printf "%.3f,%.3f,%d\n", y*2 + rand(), rand(), y } }' > "$work/data.csv"
  run=("$bin/binary_classification" --csv "$work/data.csv" --epochs 3 --loss exponential --lr 1e30)
  expect_error "training diverged: the exponential loss is inf at epoch 2, batch 2/3; the learning rate (--lr 1e+30) is likely too high" \
    "${run[@]}"
  out=$("${run[@]}" --keep-going-on-nan 2>&1) || { echo "$out"; fail "--keep-going-on-nan"; }
  grep -F "warning:" <<<"$out" | head -1
  grep -qF "training goes on (--keep-going-on-nan)" <<<"$out" || fail "no warning in: $out"
  ;;
mnist_resume_continues_exactly)
  "$bin/make_digits" "$work" 600 100 || fail "make_digits"
  for opts in "--model cnn" "--model relu_mlp --optimizer adam --lr 0.001 --schedule constant" \
              "--model relu_mlp --optimizer adamw --lr 0.003 --schedule step --warmup 1 --clip-grad-norm 1" \
              "--model cnn_bn --optimizer rmsprop --lr 0.001 --momentum 0.5 --schedule onecycle"; do
    # shellcheck disable=SC2206
    run=("$bin/mnist" --data "$work" $opts --epochs 3 --batch-size 20 --threads 2)
    echo "== ${opts}: 3 epochs at once, and 1 epoch + --resume for 2 more"
    "${run[@]}" --metrics "$work/a.csv" --save "$work/a.npz" > "$work/log" 2>&1 ||
      { cat "$work/log"; fail "uninterrupted run"; }
    out=$("${run[@]}" --metrics "$work/b.csv" --checkpoint "$work/b_ck.npz" --stop-after 1 2>&1) ||
      { echo "$out"; fail "--stop-after 1"; }
    grep -F "stopped after epoch 1 of 3 (--stop-after); continue with --resume $work/b_ck.npz" <<<"$out" ||
      fail "no stop message in: $out"
    [ "$(wc -l < "$work/b.csv")" -eq 2 ] || fail "--stop-after 1 should write one epoch"
    out=$("${run[@]}" --metrics "$work/b.csv" --checkpoint "$work/b_ck.npz" --resume "$work/b_ck.npz" \
      --save "$work/b.npz" 2>&1) || { echo "$out"; fail "--resume"; }
    grep -F "resumed from $work/b_ck.npz after 1 epochs and 0 batches" <<<"$out" || fail "no resume message"
    same_run "$work/a.csv" "$work/b.csv" "$work/a.npz" "$work/b.npz"
  done
  ;;
mnist_ctrl_c_writes_a_checkpoint_and_resumes)
  "$bin/make_digits" "$work" 1000 100 || fail "make_digits"
  run=("$bin/mnist" --data "$work" --model cnn --epochs 3 --batch-size 10 --threads 1)
  "${run[@]}" --metrics "$work/a.csv" --save "$work/a.npz" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "uninterrupted run"; }
  "${run[@]}" --metrics "$work/b.csv" --save "$work/b.npz" --checkpoint "$work/ck.npz" \
    > "$work/b.log" 2>&1 &
  pid=$!
  # Ctrl-C as soon as the first progress line (10 % of epoch 1) is out.
  for _ in $(seq 600); do grep -q "epoch 1/3" "$work/b.log" && break; sleep 0.05; done
  kill -INT $pid
  code=0; wait $pid || code=$?
  cat "$work/b.log" | tail -n 2
  [ $code -eq 130 ] || fail "exit status $code after SIGINT, expected 130"
  grep -qE "^mnist: stopped by Ctrl-C \(SIGINT\) (in epoch [0-9]+ after batch [0-9]+/100|after epoch [0-9]+): saved a checkpoint to $work/ck.npz; continue with --resume $work/ck.npz --checkpoint $work/ck.npz$" "$work/b.log" ||
    fail "no stop message"
  [ ! -e "$work/b.npz" ] || fail "an interrupted run must not --save a finished model"
  out=$("${run[@]}" --metrics "$work/b.csv" --save "$work/b.npz" --checkpoint "$work/ck.npz" \
    --resume "$work/ck.npz" 2>&1) || { echo "$out"; fail "--resume"; }
  grep -F "resumed from" <<<"$out"
  same_run "$work/a.csv" "$work/b.csv" "$work/a.npz" "$work/b.npz"
  ;;
mnist_same_seed_gives_the_same_bits)
  "$bin/make_digits" "$work" 600 100 || fail "make_digits"
  for threads in 2 2 1; do
    n=$(ls "$work"/run*.csv 2>/dev/null | wc -l)
    "$bin/mnist" --data "$work" --model cnn --epochs 2 --batch-size 20 --threads $threads \
      --metrics "$work/run$n.csv" --save "$work/run$n.npz" > "$work/log" 2>&1 ||
      { cat "$work/log"; fail "run $n"; }
  done
  echo "two runs with seed 1 and 2 threads:"
  same_run "$work/run0.csv" "$work/run1.csv" "$work/run0.npz" "$work/run1.npz"
  # Not a requirement (README, Reliability): whether 1 thread gives the same bits as 2.
  if cmp -s "$work/run0.npz" "$work/run2.npz"; then echo "1 thread: the same bits as 2"
  else echo "1 thread: other bits than 2 threads:"; paste -d' ' <(metrics_losses "$work/run0.csv") <(metrics_losses "$work/run2.csv"); fi
  ;;
mnist_distributed_matches_one_process)
  # Epoch 1 on 3 processes, epoch 2 resumed on 2: the losses of one process, to print precision.
  "$bin/make_digits" "$work" 600 100 || fail "make_digits"
  mpi_ready
  common=(--data "$work" --model cnn --epochs 2 --batch-size 20 --threads 1 --lr 0.1)
  "$bin/mnist" "${common[@]}" --metrics "$work/one.csv" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "one process"; }
  "${mpi[@]}" -np 3 "$bin/mnist" --distributed "${common[@]}" --stop-after 1 \
    --checkpoint "$work/run.npz" --metrics "$work/dist.csv" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "3 processes, epoch 1"; }
  grep -q "distributed: 3 processes" "$work/log" || { cat "$work/log"; fail "not 3 processes"; }
  "${mpi[@]}" -np 2 "$bin/mnist" --distributed "${common[@]}" --resume "$work/run.npz" \
    --checkpoint "$work/run.npz" --metrics "$work/dist.csv" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "2 processes, epoch 2"; }
  paste -d' ' <(metrics_losses "$work/one.csv") <(metrics_losses "$work/dist.csv")
  close_runs "$work/one.csv" "$work/dist.csv"
  ;;
mnist_distributed_agrees_on_stops)
  "$bin/make_digits" "$work" 1000 100 || fail "make_digits"
  mpi_ready
  # A loss that is not finite: every process sees the same global loss and all stop together,
  # normally (no MPI_Abort), with the error.
  out=$("${mpi[@]}" -np 2 "$bin/mnist" --distributed --data "$work" --model relu_mlp --epochs 2 \
        --batch-size 20 --lr 1e30 --threads 1 2>&1) && { echo "$out"; fail "a NaN loss must fail"; }
  grep -F "training diverged: the loss is" <<<"$out" || { echo "$out"; fail "no NaN error"; }
  grep -qi "MPI_ABORT" <<<"$out" && { echo "$out"; fail "the NaN stop should be agreed, not an abort"; }
  # SIGTERM to one process only: both stop, rank 0 saves, and the resumed run matches one process.
  run=(--data "$work" --model cnn --epochs 3 --batch-size 10 --threads 1)
  "$bin/mnist" "${run[@]}" --metrics "$work/one.csv" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "one process"; }
  "${mpi[@]}" -np 2 "$bin/mnist" --distributed "${run[@]}" --metrics "$work/dist.csv" \
    --checkpoint "$work/ck.npz" > "$work/b.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "epoch 1/3" "$work/b.log" && break; sleep 0.05; done
  ranks=($(pgrep -P $pid))
  echo "mpirun $pid, processes ${ranks[*]}: SIGTERM to ${ranks[1]} only"
  kill -TERM "${ranks[1]}"
  code=0; wait $pid || code=$?
  tail -n 3 "$work/b.log"
  [ $code -ne 0 ] || fail "a stopped run should end with a non-zero status"
  grep -qE "mnist: stopped by SIGTERM .*saved a checkpoint to $work/ck.npz" "$work/b.log" ||
    fail "no stop message"
  grep -qi "MPI_ABORT" "$work/b.log" && fail "the stop should be agreed, not an abort"
  "${mpi[@]}" -np 2 "$bin/mnist" --distributed "${run[@]}" --metrics "$work/dist.csv" \
    --checkpoint "$work/ck.npz" --resume "$work/ck.npz" > "$work/log" 2>&1 ||
    { cat "$work/log"; fail "--resume"; }
  close_runs "$work/one.csv" "$work/dist.csv"
  ;;
checkpoint_survives_sigkill)
  writer=$bin/checkpoint_writer
  ck=$work/ck.npz
  "$writer" write "$ck" 1 || fail "first write"
  last=$("$writer" check "$ck") || fail "first check"
  kills=20
  for i in $(seq 1 $kills); do
    "$writer" write "$ck" > "$work/out" & pid=$!
    for _ in $(seq 1200); do grep -q writing "$work/out" && break; sleep 0.05; done
    sleep "$(printf "0.%02d" $((RANDOM % 50 + 5)))"  # 0.05 to 0.54 s: a write cycle takes 0.1 to 0.4 s
    kill -KILL $pid; wait $pid 2>/dev/null
    k=$("$writer" check "$ck" 2>&1) || fail "after SIGKILL $i, $ck does not load: $k"
    [ "$k" -ge "$last" ] || fail "after SIGKILL $i the checkpoint went back from version $last to $k"
    last=$k
  done
  cut=$(ls "$work" | grep -c '^ck.npz.tmp-' || true)
  echo "$kills writers killed with SIGKILL, $cut of them in the middle of a write (their temporary"
  echo "files remain); the checkpoint always loaded whole, at version $last in the end"
  ;;
binary_classification_trains_on_generated_csv)
  awk 'BEGIN { srand(3); print "f1,f2,f3,label";
    for (i = 0; i < 300; i++) { y = i % 2; printf "%.3f,%.3f,%.3f,%d\n", y*2 + rand(), rand()*5, -y + rand(), y } }' \
    > "$work/data.csv"
  "$bin/binary_classification" --csv "$work/data.csv" --label-column 3 --epochs 20 \
    --metrics "$work/m.csv" > "$work/log" 2>&1 || { cat "$work/log"; fail "train"; }
  acc=$(last_accuracy "$work/m.csv"); echo "final test accuracy $acc"
  at_least "$acc" 0.95 || fail "reached only $acc"
  # The first epoch's mean |dL/dz| (the output's gradient, kept with retain_grad) is not 0.
  dz=$(grep -oE 'mean \|dL/dz\| [0-9.e+-]+' "$work/log" | head -1 | awk '{print $3}')
  echo "first epoch: mean |dL/dz| $dz"
  at_least "$dz" 0.001 || fail "mean |dL/dz| is $dz in: $(cat "$work/log")"
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
examples_find_the_data_sets_from_any_folder)
  # $TAPEGRAD_DATA/mnist, from a folder that has no datasets/ of its own.
  mkdir -p "$work/data/mnist"
  "$bin/make_digits" "$work/data/mnist" 100 20 || fail "make_digits"
  mkdir "$work/elsewhere"
  out=$(cd "$work/elsewhere" && TAPEGRAD_DATA="$work/data" "$bin/mnist" --model mlp --epochs 1 \
        --batch-size 10 --lr 1 2>&1) || fail "mnist with TAPEGRAD_DATA: $out"
  grep -qF "from $work/data/mnist" <<<"$out" || fail "did not read $work/data/mnist: $out"
  echo "ok: found $work/data/mnist from $work/elsewhere"
  # Nowhere to be found: the error lists the places and says how to fetch the data.
  repository=$(cd "$(dirname "$0")/../.." && pwd)
  if [ -e "$repository/datasets/breast_cancer.csv" ]; then
    echo "(the repository has datasets/breast_cancer.csv: the missing-data message is not checked)"
  else
    cd "$work/elsewhere"
    TAPEGRAD_DATA="$work/data" expect_error "fetch it with: bash $repository/scripts/fetch_data.sh" \
      "$bin/binary_classification"
    TAPEGRAD_DATA="$work/data" expect_error "$work/data/breast_cancer.csv" "$bin/binary_classification"
  fi
  ;;
*) fail "unknown case $case_name" ;;
esac
echo "passed: $case_name"
