#!/usr/bin/env bash
# Runs the programs that show backprop (walkthrough, backprop_graph, teaching) and checks the
# numbers a learner would compare with the formulas.
#   check.sh CASE BUILD_DIR
set -uo pipefail
case_name=$1
bin=$2/examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAILED: $*"; exit 1; }
# has "text": the output contains this exact line fragment.
has() { grep -qF -- "$1" <<<"$out" || fail "no '$1' in the output:
$out"; echo "ok: $1"; }
# close A B [TOL]: |A - B| <= TOL * max(|A|, |B|, 1e-12) (relative, 1e-3 by default).
close() {
  awk -v a="$1" -v b="$2" -v t="${3:-1e-3}" 'BEGIN { d = a - b; if (d < 0) d = -d;
    m = (a < 0 ? -a : a); n = (b < 0 ? -b : b); if (n > m) m = n; if (m < 1e-12) m = 1e-12;
    exit !(d <= t * m) }'
}
# Fails if the PNG file is missing or is not a PNG.
png() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1 is not a PNG"
}

case $case_name in
walkthrough_prints_every_number)
  out=$("$bin/walkthrough") || fail "walkthrough exited with $?"
  # forward: z = 0.8*1.5 + 0.4*(-2) - 0.2 = 0.2, a = sigmoid(0.2) = 0.5498, L = (a - 1)^2 = 0.2026
  has "#0  p1 = w1 * x1 = 0.8 * 1.5 = 1.2"
  has "#3  z = s + b = 0.4 + (-0.2) = 0.2"
  has "#4  a = 1 / (1 + e^-z) = 1 / (1 + e^-0.2) = 0.5498"
  has "#5  L = (a - t)^2 = (0.5498 - 1)^2 = 0.2026"
  # backward: each local derivative with its numbers
  has "dL/da = 2 (a - t) = 2 (0.5498 - 1) = -0.9003    dL/da += dy * (-0.9003) = -0.9003"
  has "da/dz = a (1 - a) = 0.5498 (1 - 0.5498) = 0.2475    dL/dz += dy * 0.2475 = -0.2228"
  has "dp1/dw1 = x1 = 1.5    dL/dw1 += dy * 1.5 = -0.3343"
  has "x1 needs no gradient (it is data)"
  has "dL/dw1 = -0.3343   dL/dw2 = 0.4457   dL/db = -0.2228"
  has "= 2 (0.5498 - 1) * 0.5498 (1 - 0.5498) * 1.5 = -0.3343"
  # print_tape before and after backward
  has "tape: 6 records waiting for backward():"
  has "#4  a = sigmoid(z)    [1] -> [1]      = 0.5498"
  has "backward() went through 6 records (gradient norms after the sweep):"
  has "#4  a = sigmoid(z)    [1] -> [1]      = 0.5498  |grad| out 0.9003  in 0.2228"
  ;;
backprop_graph_writes_the_graph)
  out=$("$bin/backprop_graph" "$work") || fail "backprop_graph exited with $?"
  has "#2  z2 = linear(h, W2, b2)    [1, 3] [2, 3] [2] -> [1, 2]"
  has "loss = cross_entropy(z2)  [1, 2] -> []                 = 0.6088  |grad| out 1  in 0.6449"
  dot_file=$work/backprop_graph.dot
  [ -s "$dot_file" ] || fail "no $dot_file"
  head -1 "$dot_file" | grep -qx "digraph tape {" || fail "$dot_file does not start a digraph"
  tail -1 "$dot_file" | grep -qx "}" || fail "$dot_file is not closed"
  for label in '<b>W1</b> [3, 2]' '<b>loss</b> []' 'label="#3 cross_entropy"' \
               'grad (0.456, -0.456)'; do
    grep -qF -- "$label" "$dot_file" || fail "no '$label' in $dot_file"
  done
  [ "$(grep -c -- ' -> ' "$dot_file")" -eq 12 ] || fail "expected 12 edges (3+1+1+1+3+1+1+1)"
  if command -v dot > /dev/null; then
    png "$work/backprop_graph.png"; echo "ok: rendered with dot"
  else
    has "Graphviz's dot is not installed"
  fi
  ;;
teaching_softmax_matches_the_material)
  out=$("$bin/teaching" softmax) || fail "teaching softmax exited with $?"
  has "softmax(3, 1, -3) = (0.8789, 0.1189, 0.0022) ~ (0.88, 0.12, 0.00)"
  has "softmax(z)                              = (0.0159, 0.8668, 0.1173)"
  # the fused record, the composed ops and softmax - one-hot agree
  has "dL/dz from the tape (cross_entropy)     = (0.0159, -0.1332, 0.1173)"
  has "dL/dz from the tape (softmax, log, ...) = (0.0159, -0.1332, 0.1173)"
  has "softmax(z) - one-hot (0, 1, 0)          = (0.0159, -0.1332, 0.1173)"
  ;;
teaching_sigmoid_gradients)
  out=$("$bin/teaching" sigmoid) || fail "teaching sigmoid exited with $?"
  has "squared error L = (a - y)^2: dL/dz = 2 (a - y) a (1 - a)"
  has "log loss      L = -[y ln a + (1 - y) ln(1 - a)]: dL/dz = a - y"
  # Every row: the tape's gradient equals the formula's, for both losses.
  rows=$(grep -E '^ +-?[0-9]+ +[0-9.e+-]+ \|' <<<"$out")
  [ "$(wc -l <<<"$rows")" -eq 42 ] || fail "expected 2 x 21 rows"
  while IFS='|' read -r za squared logloss; do
    read -r sq_tape sq_formula <<<"$squared"
    read -r log_tape log_formula _ <<<"$logloss"
    close "$sq_tape" "$sq_formula" || fail "squared: tape $sq_tape, formula $sq_formula at $za"
    close "$log_tape" "$log_formula" 2e-3 || fail "log: tape $log_tape, formula $log_formula at $za"
  done <<<"$rows"
  echo "ok: the tape's dL/dz equals the formula in all 42 rows"
  # Squared error's gradient vanishes exactly where the prediction is badly wrong: z <= -6 for
  # y = 1 and z >= 6 for y = 0, ten rows.
  [ "$(grep -c "vanishes" <<<"$out")" -eq 10 ] || fail "expected 10 vanishing rows"
  has "   -10    4.54e-05 |     -9.079e-05          -9.079e-05 |          -1          -1  <- wrong"
  has "    10           1 |      9.083e-05           9.083e-05 |           1           1  <- wrong"
  has "At z = -10 the prediction is as wrong as it gets: squared error's dL/dz = -9.08e-05,"
  ;;
higher_order_hessian_vector_product)
  out=$("$bin/higher_order" hvp) || fail "higher_order hvp exited with $?"
  echo "$out"
  worst=$(grep -oE 'largest difference [0-9.e+-]+' <<<"$out" | awk '{print $3}')
  awk -v w="$worst" 'BEGIN { exit !(w < 1e-4) }' || fail "H v differs from finite differences by $worst"
  ;;
higher_order_newton_beats_gradient_descent)
  out=$("$bin/higher_order" newton) || fail "higher_order newton exited with $?"
  echo "$out" | tail -3
  read -r newton gd < <(grep -oE 'Newton: [0-9]+ steps; gradient descent: [0-9]+' <<<"$out" |
                        awk '{print $2, $6}')
  [ -n "$newton" ] && [ "$newton" -le 10 ] || fail "Newton took $newton steps"
  [ "$gd" -gt "$newton" ] || fail "gradient descent ($gd) was not slower than Newton ($newton)"
  has "| Newton | $newton |"
  ;;
higher_order_physics_informed_fit)
  out=$("$bin/higher_order" pinn 4000) || fail "higher_order pinn exited with $?"
  echo "$out"
  worst=$(grep -E '^\| 20 \| 32 \|' <<<"$out" | awk -F'|' '{print $6}' | tr -d ' ')
  awk -v w="$worst" 'BEGIN { exit !(w < 1e-2) }' || fail "max |u - sin(pi x)| is $worst"
  ;;
teaching_landscape)
  out=$("$bin/teaching" landscape "$work") || fail "teaching landscape exited with $?"
  has "worst corner (-6, -6), every point misclassified:"
  # the number after "gradient norm |dL/dw| =" on the line of each loss
  norm_of() { sed -n "s/.*$1: L = $2, gradient norm |dL\/dw| = \([^ ]*\) .*/\1/p" <<<"$out"; }
  sq=$(norm_of "squared error" 1.0000)
  ce=$(norm_of "cross-entropy" 15.0000)
  [ -n "$sq" ] && [ -n "$ce" ] || fail "no gradient norms at the worst corner in: $out"
  # Cross-entropy at the worst corner: dL/dw = mean((a - y) x) = -(1.5, 1), norm sqrt(3.25).
  close "$ce" 1.803 1e-3 || fail "cross-entropy's gradient norm $ce, expected 1.803"
  awk -v g="$sq" 'BEGIN { exit !(g < 1e-4) }' || fail "squared error's gradient $sq is not flat"
  echo "ok: worst corner |dL/dw|: squared error $sq, cross-entropy $ce"
  [ "$(grep -c '^[-0-9]' "$work/landscape.dat")" -eq 2401 ] || fail "expected 49 x 49 grid points"
  if command -v gnuplot > /dev/null; then
    png "$work/landscape.png"; echo "ok: plotted with gnuplot"
  else
    has "gnuplot is not installed"
  fi
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "passed: $case_name"
