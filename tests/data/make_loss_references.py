#!/usr/bin/python3
"""Writes tests/data/torch_losses.npz: PyTorch's values and gradients for the losses of
ops/loss.hpp that carry torch's names.

Run with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/data/make_loss_references.py

The format is that of tests/data/torch_ops.npz (make_torch_references.py): for a case NAME,
NAME.in0 (the input), NAME.in1 (the target) and any weights as NAME.in2, ...; NAME.w, weights of
the output's shape; NAME.y, the loss; NAME.grad0, d sum(w * y) / d input. Inputs are rounded to
float32 and the losses computed in float64. tests/test_torch_losses.cpp runs the same calls.
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(3232)


def rand(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(np.float32).astype(np.float64)


def index(*shape, n):
    return rng.integers(0, n, shape).astype(np.float64)


def log_probs(n, c):
    return torch.log_softmax(torch.tensor(rand(n, c)), 1).numpy().astype(np.float32).astype(np.float64)


out = {}


def case(name, fn, inputs):
    """fn(*tensors) -> loss; only the first input (the prediction) gets a gradient."""
    ts = [torch.tensor(a, requires_grad=(k == 0)) for k, a in enumerate(inputs)]
    y = fn(*ts)
    for k, a in enumerate(inputs):
        out[f"{name}.in{k}"] = a
    out[f"{name}.y"] = y.detach().numpy()
    w = rand(*y.shape, lo=-1.0, hi=1.0)
    out[f"{name}.w"] = w
    (y * torch.tensor(w)).sum().backward()
    out[f"{name}.grad0"] = ts[0].grad.numpy()


case("mse_mean", F.mse_loss, [rand(3, 4), rand(3, 4)])
case("l1_sum", lambda a, y: F.l1_loss(a, y, reduction="sum"), [rand(3, 4), rand(3, 4)])
case("bce_soft_targets", F.binary_cross_entropy, [rand(3, 4, lo=0.05, hi=0.95), rand(3, 4, lo=0.0, hi=1.0)])
case("bce_weight_none", lambda p, y, w: F.binary_cross_entropy(p, y, w, reduction="none"),
     [rand(3, 4, lo=0.05, hi=0.95), rand(3, 4, lo=0.0, hi=1.0), rand(4, lo=0.5, hi=2.0)])
case("bce_at_0_and_1", lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"),
     [np.array([0.0, 1.0, 0.5, 0.25]), np.array([0.0, 1.0, 0.25, 1.0])])
case("bce_with_logits", F.binary_cross_entropy_with_logits, [rand(3, 4, lo=-5.0, hi=5.0), rand(3, 4, lo=0.0, hi=1.0)])
case("bce_with_logits_pos_weight",
     lambda z, y, w, pw: F.binary_cross_entropy_with_logits(z, y, w, reduction="sum", pos_weight=pw),
     [rand(3, 4, lo=-5.0, hi=5.0), rand(3, 4, lo=0.0, hi=1.0), rand(4, lo=0.5, hi=2.0), rand(4, lo=0.5, hi=3.0)])
case("nll_mean", lambda a, y: F.nll_loss(a, y.long()), [log_probs(5, 4), index(5, n=4)])
case("nll_weight_ignore", lambda a, y, w: F.nll_loss(a, y.long(), w, ignore_index=1),
     [log_probs(6, 4), np.array([0.0, 1.0, 2.0, 3.0, 1.0, 2.0]), rand(4, lo=0.5, hi=2.0)])
case("nll_none", lambda a, y: F.nll_loss(a, y.long(), reduction="none"), [log_probs(5, 3), index(5, n=3)])
case("cross_entropy_weight_ignore_smoothing",
     lambda a, y, w: F.cross_entropy(a, y.long(), w, ignore_index=2, label_smoothing=0.1),
     [rand(6, 4), np.array([0.0, 2.0, 1.0, 3.0, 2.0, 1.0]), rand(4, lo=0.5, hi=2.0)])
case("cross_entropy_ignore_smoothing",
     lambda a, y: F.cross_entropy(a, y.long(), ignore_index=2, label_smoothing=0.2),
     [rand(6, 4), np.array([0.0, 2.0, 1.0, 3.0, 2.0, 1.0])])
case("cross_entropy_smoothing_none", lambda a, y: F.cross_entropy(a, y.long(), reduction="none", label_smoothing=0.3),
     [rand(5, 3), index(5, n=3)])
case("cross_entropy_smoothing_sum", lambda a, y: F.cross_entropy(a, y.long(), reduction="sum", label_smoothing=0.3),
     [rand(5, 3), index(5, n=3)])
soft = torch.softmax(torch.tensor(rand(4, 3)), 1).numpy().astype(np.float32).astype(np.float64)
case("cross_entropy_probabilities_weight_smoothing",
     lambda a, y, w: F.cross_entropy(a, y, w, label_smoothing=0.2), [rand(4, 3), soft, rand(3, lo=0.5, hi=2.0)])
case("smooth_l1_beta", lambda a, y: F.smooth_l1_loss(a, y, beta=0.5), [rand(3, 4), rand(3, 4)])
case("smooth_l1_beta0", lambda a, y: F.smooth_l1_loss(a, y, reduction="sum", beta=0.0), [rand(3, 4), rand(3, 4)])
case("huber_delta", lambda a, y: F.huber_loss(a, y, reduction="none", delta=0.7), [rand(3, 4), rand(3, 4)])
target = torch.softmax(torch.tensor(rand(3, 4)), 1).numpy().astype(np.float32).astype(np.float64)
target[1, 2] = 0.0
case("kl_div_batchmean", lambda a, y: F.kl_div(a, y, reduction="batchmean"), [log_probs(3, 4), target])
case("kl_div_log_target_sum", lambda a, y: F.kl_div(a, y, reduction="sum", log_target=True),
     [log_probs(3, 4), log_probs(3, 4)])

np.savez("tests/data/torch_losses.npz", **out)
print(f"tests/data/torch_losses.npz: {len(out)} arrays, torch {torch.__version__}")
