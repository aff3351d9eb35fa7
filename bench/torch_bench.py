#!/usr/bin/python3
"""The PyTorch side of the comparison: the same subcommands, options and JSON as tapegrad_bench.

    torch_bench.py info                              torch version, BLAS, threads
    torch_bench.py train --model cnn|cnn_bn|relu_mlp|mlp    one epoch of MNIST, images/s
    torch_bench.py infer --model cnn|mlp             the 10,000 test images under no_grad
    torch_bench.py seq --model lstm|gru|transformer  AdamW steps of a character model, tokens/s
    torch_bench.py tape [--ops 100000] [--reps 5]    ns per op of a scalar chain

Same data (the raw IDX files, read with struct + numpy), same models as
examples/mnist/models.cpp, batch size 100, SGD(lr 0.01, momentum 0.9),
F.cross_entropy. Nothing fancy: eager mode, no torch.compile, no channels_last. Run it with
Debian's /usr/bin/python3 (python3-torch). Each run prints one JSON object on stdout.
"""
import argparse
import ctypes
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def peak_rss_mb():
    """VmHWM of this process in MB (10^6 bytes), as tapegrad_bench reports it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return -1.0


def read_idx(path):
    """An unsigned-byte IDX file (MNIST's format) as a numpy array of its shape."""
    with open(path, "rb") as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"torch_bench: {path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder, split, limit):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"))
    n = len(labels) if limit == 0 else min(limit, len(labels))
    return (torch.from_numpy(images[:n].copy()),                      # uint8 [n, 28, 28]
            torch.from_numpy(labels[:n].astype(np.int64)))            # int64 [n]


def make_model(name):
    """The networks of examples/mnist/models.cpp."""
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 20, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(20, 20, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(980, 10))
    if name == "cnn_bn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 3 * 3, 10))
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 10), nn.Sigmoid(), nn.Linear(10, 10), nn.Sigmoid(),
                             nn.Linear(10, 10))
    if name == "relu_mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    sys.exit(f"torch_bench: --model {name}: unknown model; choose cnn, cnn_bn, mlp or relu_mlp")


def to_input(model, pixels):
    """uint8 [B, 28, 28] -> floats in [0, 1], [B, 1, 28, 28] for the CNN, [B, 784] otherwise."""
    x = pixels.float().div_(255.0)
    return x.unsqueeze(1) if model in ("cnn", "cnn_bn") else x.reshape(len(pixels), -1)


def emit(**fields):
    print(json.dumps({"side": "pytorch", **fields}), flush=True)


def openblas():
    """The OpenBLAS library torch's BLAS calls go to (Debian's libblas.so.3 forwards to it)."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib
    except OSError:
        return None


def set_threads(n):
    torch.set_num_threads(n)
    lib = openblas()
    if lib is not None:  # torch.set_num_threads does not reach OpenBLAS's own thread pool
        lib.openblas_set_num_threads(n)


def run_info(o):
    lib = openblas()
    emit(workload="info", torch_version=torch.__version__, numpy_version=np.__version__,
         python=sys.version.split()[0], torch_threads=torch.get_num_threads(),
         torch_interop_threads=torch.get_num_interop_threads(),
         mkldnn=torch.backends.mkldnn.is_available(),
         blas_version=lib.openblas_get_config().decode() if lib else "not OpenBLAS",
         blas_core=lib.openblas_get_corename().decode() if lib else "",
         blas_threads=lib.openblas_get_num_threads() if lib else 0,
         config=torch.__config__.show(), parallel=torch.__config__.parallel_info())


def run_train(o):
    images, labels = load_mnist(o.data, "train", o.limit)
    torch.manual_seed(o.seed)
    model = make_model(o.model)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator().manual_seed(o.seed)
    losses = []
    start = time.perf_counter()
    order = torch.randperm(len(labels), generator=generator)
    for b in range(0, len(labels), o.batch):
        idx = order[b:b + o.batch]
        loss = F.cross_entropy(model(to_input(o.model, images[idx])), labels[idx])
        sgd.zero_grad(set_to_none=True)
        loss.backward()
        sgd.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    n, w = len(losses), min(50, len(losses))
    ok = all(math.isfinite(v) for v in losses) and all(
        bool(torch.isfinite(p).all()) for p in model.parameters())
    emit(workload=f"train_{o.model}", threads=o.threads, batch=o.batch, images=len(labels),
         seconds=seconds, value=len(labels) / seconds, unit="images/s",
         loss_first=sum(losses[:w]) / w, loss_last=sum(losses[n - w:]) / w,
         loss_mean=sum(losses) / n, ok=ok, peak_rss_mb=peak_rss_mb())


class CharModel(nn.Module):
    """examples/char_model/model.cpp: indices [T, N] -> logits [T, N, alphabet]."""

    def __init__(self, kind, alphabet, length):
        super().__init__()
        self.kind = kind
        dim = 128 if kind == "transformer" else 64
        self.embed = nn.Embedding(alphabet, dim)
        if kind == "transformer":
            self.positions = nn.Embedding(length, dim)
            self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(
                dim, 4, 4 * dim, 0.1, activation="gelu", norm_first=True) for _ in range(2))
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, alphabet)
        else:
            self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(dim, 256)
            self.head = nn.Linear(256, alphabet)

    def forward(self, idx):
        x = self.embed(idx)
        if self.kind != "transformer":
            return self.head(self.rnn(x)[0])
        t = idx.shape[0]
        x = x + self.positions(torch.arange(t)).unsqueeze(1)
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        for block in self.blocks:
            x = block(x, src_mask=mask)
        return self.head(self.norm(x))


def run_seq(o):
    """bench/workloads.cpp's run_seq: AdamW steps of a character model on random windows."""
    alphabet, length, steps = 76, 64, o.limit or 20
    torch.manual_seed(o.seed)
    model = CharModel(o.model, alphabet, length)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    adamw = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)
    inputs = [torch.randint(alphabet, (length, o.batch)) for _ in range(steps + 1)]
    targets = [torch.randint(alphabet, (length * o.batch,)) for _ in range(steps + 1)]
    losses = []
    for s in range(steps + 1):  # step 0 warms up and is not counted
        if s == 1:
            start = time.perf_counter()
        loss = F.cross_entropy(model(inputs[s]).reshape(-1, alphabet), targets[s])
        adamw.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        adamw.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    ok = all(math.isfinite(v) for v in losses)
    emit(workload=f"seq_{o.model}", threads=o.threads, batch=o.batch, steps=steps, seconds=seconds,
         value=steps * length * o.batch / seconds, unit="tokens/s", loss_first=losses[0],
         loss_last=losses[-1], ok=ok, peak_rss_mb=peak_rss_mb())


def run_infer(o):
    images, labels = load_mnist(o.data, "test", o.limit)
    torch.manual_seed(1)
    model = make_model(o.model).eval()
    inputs = [to_input(o.model, images[b:b + o.batch]) for b in range(0, len(labels), o.batch)]
    checksum, count, passes = 0.0, 0, 0
    with torch.no_grad():
        for x in inputs[:5]:
            model(x)
        start = time.perf_counter()
        while True:
            for x in inputs:
                checksum += model(x)[0, 0].item()
                count += len(x)
            passes += 1
            seconds = time.perf_counter() - start
            if seconds >= 1.0:
                break
    emit(workload=f"infer_{o.model}", threads=o.threads, batch=o.batch, images=count,
         passes=passes, seconds=seconds, value=count / seconds, unit="images/s",
         ok=math.isfinite(checksum), peak_rss_mb=peak_rss_mb())


def run_tape(o):
    x = torch.ones(1, requires_grad=True)
    forward, backward, release = [], [], []
    grad = float("nan")
    for rep in range(o.reps + 1):  # rep 0 warms up and is not counted
        x.grad = None
        t0 = time.perf_counter()
        y = x
        for i in range(o.ops):
            y = y * 1.0001 if i % 2 == 0 else y + 0.0001
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
        del y
        t3 = time.perf_counter()
        grad = x.grad.item()
        if rep:
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            release.append(t3 - t2)
    expected = 1.0001 ** ((o.ops + 1) // 2)
    med = lambda v: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
    per_op = 1e9 / o.ops
    emit(workload="tape", threads=o.threads, ops=o.ops, reps=o.reps,
         value=(med(forward) + med(backward)) * per_op, unit="ns/op",
         forward_ns_per_op=med(forward) * per_op, backward_ns_per_op=med(backward) * per_op,
         release_ns_per_op=med(release) * per_op, grad=grad, grad_expected=expected,
         ok=math.isfinite(grad) and abs(grad - expected) <= 1e-2 * expected,
         peak_rss_mb=peak_rss_mb())


def op_cases():
    """The list of bench/ops.cpp: name, shape text, input shapes, function, constants."""
    F = torch.nn.functional
    g = torch.Generator().manual_seed(1)
    idx512 = torch.randint(0, 1024, (512,), generator=g)
    gather_idx = torch.randint(0, 1024, (64, 256), generator=g)
    tokens = torch.randint(0, 10000, (32, 128), generator=g)
    mask = torch.rand(64, 1024, generator=g) < 0.5
    m, s3, img = (64, 1024), (32, 128, 64), (16, 16, 32, 32)
    return [
        ("gelu", [m], lambda t: F.gelu(t[0]), []),
        ("softplus", [m], lambda t: F.softplus(t[0]), []),
        ("silu", [m], lambda t: F.silu(t[0]), []),
        ("leaky_relu", [m], lambda t: F.leaky_relu(t[0]), []),
        ("elu", [m], lambda t: F.elu(t[0]), []),
        ("sin", [m], lambda t: torch.sin(t[0]), []),
        ("maximum", [m, m], lambda t: torch.maximum(t[0], t[1]), []),
        ("where", [m, m], lambda t: torch.where(t[2], t[0], t[1]), [mask]),
        ("masked_fill", [m], lambda t: t[0].masked_fill(t[1], 0.0), [mask]),
        ("max", [m], lambda t: torch.amax(t[0], 1), []),
        ("logsumexp", [m], lambda t: torch.logsumexp(t[0], 1), []),
        ("var", [m], lambda t: torch.var(t[0], 1), []),
        ("permute", [s3], lambda t: t[0].permute(0, 2, 1), []),
        ("slice", [m], lambda t: t[0][:, ::2], []),
        ("index_select", [(1024, 64)], lambda t: torch.index_select(t[0], 0, t[1]), [idx512]),
        ("gather", [m], lambda t: torch.gather(t[0], 1, t[1]), [gather_idx]),
        ("concat", [s3, s3], lambda t: torch.cat([t[0], t[1]], 1), []),
        ("stack", [s3, s3], lambda t: torch.stack([t[0], t[1]], 0), []),
        ("matmul", [s3, (32, 64, 128)], lambda t: torch.matmul(t[0], t[1]), []),
        ("matmul_3d_2d", [s3, (64, 64)], lambda t: torch.matmul(t[0], t[1]), []),
        ("conv2d_dilated", [img, (32, 16, 3, 3)], lambda t: F.conv2d(t[0], t[1], None, 1, 2, 2), []),
        ("conv2d_depthwise", [img, (16, 1, 3, 3)], lambda t: F.conv2d(t[0], t[1], None, 1, 1, 1, 16), []),
        ("max_pool2d", [img], lambda t: F.max_pool2d(t[0], 3, 2, 1), []),
        ("avg_pool2d", [img], lambda t: F.avg_pool2d(t[0], 3, 2, 1), []),
        ("layer_norm", [s3, (64,), (64,)], lambda t: F.layer_norm(t[0], (64,), t[1], t[2]), []),
        ("batch_norm", [(64, 32, 16, 16), (32,), (32,)],
         lambda t: F.batch_norm(t[0], None, None, t[1], t[2], training=True), []),
        ("embedding", [(10000, 64)], lambda t: F.embedding(t[1], t[0]), [tokens]),
        ("dropout", [m], lambda t: F.dropout(t[0], 0.1, training=True), []),
        ("cos", [m], lambda t: torch.cos(t[0]), []),
        ("log1p", [m], lambda t: torch.log1p(t[0].abs()), []),
        ("expm1", [m], lambda t: torch.expm1(t[0]), []),
        ("reciprocal", [m], lambda t: torch.reciprocal(t[0]), []),
        ("square", [m], lambda t: torch.square(t[0]), []),
        ("sign", [m], lambda t: torch.sign(t[0]), []),
        ("floor", [m], lambda t: torch.floor(t[0]), []),
        ("round", [m], lambda t: torch.round(t[0]), []),
        ("minimum", [m, m], lambda t: torch.minimum(t[0], t[1]), []),
        ("min", [m], lambda t: torch.amin(t[0], 1), []),
        ("stddev", [m], lambda t: torch.std(t[0], 1), []),
        ("transpose", [s3], lambda t: t[0].transpose(0, 2), []),
        ("unsqueeze", [s3], lambda t: t[0].unsqueeze(1), []),
        ("expand", [(32, 1, 64)], lambda t: t[0].expand(32, 128, 64), []),
        ("select", [s3], lambda t: t[0].select(1, 5), []),
        ("scatter_add", [m, (64, 256)], lambda t: t[0].scatter_add(1, t[2], t[1]), [gather_idx]),
        ("split", [m], lambda t: torch.split(t[0], [256, 768], 1)[1], []),
        ("chunk", [m], lambda t: torch.chunk(t[0], 4, 1)[2], []),
    ]


def run_ops(o):
    torch.manual_seed(o.seed)
    results = []
    for name, shapes, fn, constants in op_cases():
        values = [torch.randn(*s) for s in shapes]
        times = []
        for rep in range(o.reps + 2):  # two warm-up runs
            t = [v.clone().requires_grad_() for v in values] + constants
            t0 = time.perf_counter()
            fn(t).sum().backward()
            t1 = time.perf_counter()
            if rep >= 2:
                times.append(t1 - t0)
        times.sort()
        n = len(times)
        med = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
        results.append({"name": name, "us": med * 1e6})
    emit(workload="ops", threads=o.threads, reps=o.reps, ops=results, peak_rss_mb=peak_rss_mb())


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["info", "train", "infer", "seq", "tape", "ops"])
    p.add_argument("--model", default="cnn")
    p.add_argument("--data", default="datasets/mnist")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--ops", type=int, default=100000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seed", type=int, default=1, help="initialisation and shuffling")
    o = p.parse_args()
    if o.threads < 1 or o.batch < 1:
        sys.exit("torch_bench: --threads and --batch must be at least 1")
    set_threads(o.threads)
    {"info": run_info, "train": run_train, "infer": run_infer, "seq": run_seq, "tape": run_tape,
     "ops": run_ops}[o.command](o)


if __name__ == "__main__":
    main()
