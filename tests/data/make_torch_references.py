#!/usr/bin/python3
"""Writes tests/data/torch_ops.npz: PyTorch's values and gradients for tapegrad's ops.

Run with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/data/make_torch_references.py

Every case has inputs rounded to float32 (so both sides start from the same numbers), computed
in float64 by torch. For a case NAME the file holds
    NAME.in0, NAME.in1, ...   the inputs (float64; indices as whole numbers)
    NAME.w                    weights of the same shape as the output
    NAME.y                    the output
    NAME.grad0, ...           d sum(w * y) / d in_k for each differentiable input
and tests/test_torch_reference.cpp runs the same op in tapegrad and compares to 1e-4 relative.
The file is committed: tests never run Python.
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(2026)


def rand(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(np.float32).astype(np.float64)


def away(*shape, lo=0.2, hi=2.0):
    """Magnitudes in [lo, hi) with random signs: away from the kinks at 0."""
    return rand(*shape, lo=lo, hi=hi) * rng.choice([-1.0, 1.0], shape)


def index(*shape, n):
    return rng.integers(0, n, shape).astype(np.float64)


out = {}


def case(name, fn, inputs, differentiable=None, extra=None):
    """fn(*tensors) -> tensor. differentiable: which inputs get gradients (default: all)."""
    if differentiable is None:
        differentiable = [True] * len(inputs)
    ts = [torch.tensor(a, requires_grad=d) for a, d in zip(inputs, differentiable)]
    y = fn(*ts)
    for k, a in enumerate(inputs):
        out[f"{name}.in{k}"] = a
    out[f"{name}.y"] = y.detach().numpy()
    if y.requires_grad:
        w = rand(*y.shape, lo=-1.0, hi=1.0)
        out[f"{name}.w"] = w
        (y * torch.tensor(w)).sum().backward()
        for k, (t, d) in enumerate(zip(ts, differentiable)):
            if d:
                out[f"{name}.grad{k}"] = (t.grad if t.grad is not None else torch.zeros_like(t)).numpy()
    for key, value in (extra or {}).items():
        out[f"{name}.{key}"] = value


# Elementwise and activations
case("sin", torch.sin, [rand(3, 4)])
case("cos", torch.cos, [rand(3, 4)])
case("log1p", torch.log1p, [rand(3, 4, lo=-0.5, hi=3.0)])
case("expm1", torch.expm1, [rand(3, 4)])
case("reciprocal", torch.reciprocal, [away(3, 4)])
case("square", torch.square, [rand(3, 4)])
case("sign", torch.sign, [away(3, 4)])
case("floor", torch.floor, [away(3, 4)])
case("round", torch.round, [away(3, 4)])
case("exp", torch.exp, [rand(3, 4)])
case("log", torch.log, [rand(3, 4, lo=0.1, hi=3.0)])
case("sqrt", torch.sqrt, [rand(3, 4, lo=0.1, hi=3.0)])
case("abs", torch.abs, [away(3, 4)])
case("pow", lambda x: torch.pow(x, 2.5), [rand(3, 4, lo=0.1, hi=3.0)])
case("clamp", lambda x: torch.clamp(x, -0.5, 1.0), [away(3, 4)])
case("relu", torch.relu, [away(3, 4)])
case("sigmoid", torch.sigmoid, [rand(3, 4)])
case("tanh", torch.tanh, [rand(3, 4)])
case("softmax", lambda x: torch.softmax(x, 0), [rand(3, 4)])
case("log_softmax", lambda x: torch.log_softmax(x, -1), [rand(3, 4)])
case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [away(3, 4)])
case("elu", lambda x: F.elu(x, 0.7), [away(3, 4)])
case("silu", F.silu, [rand(3, 4)])
case("gelu", F.gelu, [rand(3, 4, lo=-4, hi=4)])
case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [rand(3, 4, lo=-4, hi=4)])
case("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0), [away(3, 4)])
case("add", torch.add, [rand(2, 3, 4), rand(3, 1)])
case("mul", torch.mul, [rand(2, 3, 4), rand(4)])
case("div", torch.div, [rand(3, 4), away(1, 4)])
ties = rand(3, 4)
other = rand(3, 4)
other[0, :2] = ties[0, :2]  # ties: half of the gradient to each side
case("maximum", torch.maximum, [ties, other])
case("minimum", torch.minimum, [rand(3, 4), rand(4)])
cond = (rng.uniform(size=(3, 1)) > 0.5).astype(np.float64)
case("where", lambda c, a, b: torch.where(c != 0, a, b), [cond, rand(3, 4), rand(4)], [False, True, True])
mask = (rng.uniform(size=(4,)) > 0.5).astype(np.float64)
case("masked_fill", lambda x, m: x.masked_fill(m != 0, -3.0), [rand(3, 4), mask], [True, False])

# Reductions
case("sum_axes", lambda x: x.sum(dim=(0, 2), keepdim=True), [rand(2, 3, 4)])
case("mean_axis", lambda x: x.mean(dim=-1), [rand(2, 3, 4)])
tie_max = rand(3, 4)
tie_max[1, 3] = tie_max[1, 1] = 5.0
case("max_all", torch.amax, [tie_max])
case("max_axis", lambda x: torch.amax(x, 1), [tie_max])
case("min_axis_keepdims", lambda x: torch.amin(x, 0, keepdim=True), [rand(3, 4)])
case("argmax", lambda x: torch.argmax(x, 1).double(), [rand(3, 4)], [False])
case("argmin", lambda x: torch.argmin(x, 0, keepdim=True).double(), [rand(3, 4)], [False])
case("logsumexp", lambda x: torch.logsumexp(x, 1), [rand(3, 4)])
case("logsumexp_large", lambda x: torch.logsumexp(x, 0, keepdim=True), [rand(3, 4, lo=990, hi=1000) * rng.choice([-1.0, 1.0], (1, 4))])
case("var_axis", lambda x: torch.var(x, 1), [rand(3, 4)])
case("var_all", torch.var, [rand(3, 4)])
case("var_population_keepdims", lambda x: torch.var(x, 0, unbiased=False, keepdim=True), [rand(3, 4)])
case("std_axis", lambda x: torch.std(x, -1), [rand(3, 4)])

# Shape, indexing, joining
case("permute", lambda x: x.permute(2, 0, 1), [rand(2, 3, 4)])
case("transpose_axes", lambda x: x.transpose(0, 2), [rand(2, 3, 4)])
case("unsqueeze", lambda x: x.unsqueeze(1), [rand(3, 4)])
case("squeeze", lambda x: x.squeeze(1), [rand(3, 1, 4)])
case("expand", lambda x: x.expand(2, 3, 4), [rand(3, 1)])
case("slice", lambda x: x[:, -3::2], [rand(3, 7)])
case("slice_clamped", lambda x: x[1:100], [rand(3, 4)])
case("select", lambda x: x.select(1, -2), [rand(3, 4)])
case("index_select", lambda x, i: torch.index_select(x, 0, i.long()), [rand(4, 3), np.array([3.0, 0.0, 3.0, 1.0])], [True, False])
case("gather", lambda x, i: torch.gather(x, 1, i.long()), [rand(3, 5), index(3, 4, n=5)], [True, False])
case("scatter_add", lambda x, i, s: x.scatter_add(0, i.long(), s), [rand(3, 4), index(2, 4, n=3), rand(2, 4)], [True, False, True])
case("concat", lambda a, b: torch.cat([a, b], 1), [rand(2, 3), rand(2, 2)])
case("stack", lambda a, b: torch.stack([a, b], -1), [rand(2, 3), rand(2, 3)])
case("split", lambda x: torch.cat([p.reshape(-1) for p in torch.split(x, [1, 3], 1)]), [rand(3, 4)])
case("chunk", lambda x: torch.cat([p.reshape(-1) for p in torch.chunk(x, 3, 0)]), [rand(5, 2)])
case("embedding", lambda i, w: F.embedding(i.long(), w), [index(2, 3, n=4), rand(4, 3)], [False, True])

# Products, convolution, pooling
case("matmul_dot", torch.matmul, [rand(4), rand(4)])
case("matmul_vec_mat", torch.matmul, [rand(4), rand(4, 3)])
case("matmul_mat_vec", torch.matmul, [rand(3, 4), rand(4)])
case("matmul_batched", torch.matmul, [rand(2, 1, 3, 4), rand(3, 4, 2)])
case("matmul_3d_2d", torch.matmul, [rand(2, 3, 4), rand(4, 5)])
case("linear", F.linear, [rand(3, 4), rand(5, 4), rand(5)])
case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [rand(2, 3, 7, 6), rand(4, 3, 3, 3), rand(4)])
case("conv2d_dilation_groups", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=2, dilation=2, groups=2),
     [rand(2, 4, 7, 6), rand(6, 2, 3, 2), rand(6)])
case("conv2d_depthwise", lambda x, w: F.conv2d(x, w, None, stride=2, padding=1, groups=3), [rand(1, 3, 6, 6), rand(3, 1, 3, 3)])
case("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1), [rand(2, 2, 7, 6)])
case("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1), [rand(2, 2, 7, 6)])

# Normalization
case("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [rand(2, 3, 4), rand(3, 4), rand(3, 4)])
case("layer_norm_plain", lambda x: F.layer_norm(x, (4,)), [rand(2, 3, 4)])
rm, rv = rand(3), rand(3, lo=0.5, hi=2.0)
rm_t, rv_t = torch.tensor(rm), torch.tensor(rv)
case("batch_norm_train", lambda x, w, b: F.batch_norm(x, rm_t, rv_t, w, b, training=True, momentum=0.2),
     [rand(4, 3, 2, 3), rand(3), rand(3)],
     extra={"running_mean_before": rm, "running_var_before": rv})
out["batch_norm_train.running_mean_after"] = rm_t.numpy()
out["batch_norm_train.running_var_after"] = rv_t.numpy()
case("batch_norm_eval", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=False),
     [rand(5, 3), rand(3), rand(3, lo=0.5, hi=2.0), rand(3), rand(3)], [True, False, False, True, True])

np.savez("tests/data/torch_ops.npz", **out)
print(f"tests/data/torch_ops.npz: {len(out)} arrays, torch {torch.__version__}")
