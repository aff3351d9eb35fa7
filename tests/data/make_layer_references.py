#!/usr/bin/python3
"""Writes tests/data/torch_layers/: PyTorch layers' weights, saved as the README tells users to
save them, and what the layers compute from them, for tests/test_torch_layers.cpp.

Run with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/data/make_layer_references.py

For each case NAME:
  torch_layers/NAME.npz      numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})
                             (BatchNorm's num_batches_tracked is int64, as torch keeps it; the
                             case "gru" saves model.double()'s state, float64)
  torch_layers/io.npz        NAME.input (and NAME.h0, NAME.c0, NAME.key, NAME.value where the
                             layer takes them), NAME.output (NAME.h_n, NAME.c_n, NAME.weights),
                             NAME.r (random weights of the loss sum(output * r)), NAME.input_grad,
                             and NAME.grad.PARAM for every parameter; float32 inputs, float64
                             results.
"""
import os

import numpy as np
import torch
from torch import nn

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_layers")
os.makedirs(here, exist_ok=True)
io = {}
rng = np.random.default_rng(11)


def f32(*shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


def save_state(name, model, double=False):
    state = model.state_dict()
    if double:
        state = {k: v.double() if v.is_floating_point() else v for k, v in state.items()}
    np.savez(os.path.join(here, name + ".npz"), **{k: v.numpy() for k, v in state.items()})


def case(name, model, inputs, run, double=False, integer_input=False):
    """inputs: name -> float32 array; run(model, tensors) -> dict of outputs (the first is
    'output', the one the loss weighs)."""
    torch.manual_seed(0)
    save_state(name, model, double)
    tensors = {}
    for k, v in inputs.items():
        io[f"{name}.{k}"] = v
        if integer_input and k == "input":
            tensors[k] = torch.tensor(v).long()
        else:
            tensors[k] = torch.tensor(v, requires_grad=(k == "input"))
    outputs = run(model, tensors)
    r = f32(*outputs["output"].shape)
    io[f"{name}.r"] = r
    (outputs["output"] * torch.tensor(r)).sum().backward()
    for k, v in outputs.items():
        io[f"{name}.{k}"] = v.detach().double().numpy()
    if not integer_input:
        io[f"{name}.input_grad"] = tensors["input"].grad.double().numpy()
    for k, p in model.named_parameters():
        io[f"{name}.grad.{k}"] = p.grad.double().numpy()


def one(model, t):
    return {"output": model(t["input"])}


torch.manual_seed(1)
case("linear", nn.Linear(5, 3), {"input": f32(2, 4, 5)}, one)
case("conv2d", nn.Conv2d(4, 6, 3, stride=1, padding=2, dilation=2, groups=2), {"input": f32(2, 4, 7, 7)}, one)

bn1 = nn.BatchNorm1d(5)
with torch.no_grad():
    for _ in range(3):
        bn1(torch.tensor(f32(6, 5)) * 2 + 0.5)
    bn1.weight.copy_(torch.tensor(f32(5)))
    bn1.bias.copy_(torch.tensor(f32(5)))
bn1.eval()
case("batchnorm1d_eval", bn1, {"input": f32(4, 5)}, one)

bn2 = nn.BatchNorm2d(3)
with torch.no_grad():
    bn2(torch.tensor(f32(2, 3, 4, 4)))
    bn2.weight.copy_(torch.tensor(f32(3)))


def bn_train(model, t):
    y = model(t["input"])
    return {"output": y, "running_mean": model.running_mean.clone(),
            "running_var": model.running_var.clone()}


case("batchnorm2d_train", bn2, {"input": f32(2, 3, 4, 4)}, bn_train)

ln = nn.LayerNorm([4, 5])
with torch.no_grad():
    ln.weight.copy_(torch.tensor(f32(4, 5)))
    ln.bias.copy_(torch.tensor(f32(4, 5)))
case("layernorm", ln, {"input": f32(3, 4, 5)}, one)
case("embedding", nn.Embedding(10, 4), {"input": np.array([[1, 0, 9], [3, 3, 7]], np.float32)}, one,
     integer_input=True)


def recurrent(model, t):
    if "c0" in t:
        y, (h, c) = model(t["input"], (t["h0"], t["c0"]))
        return {"output": y, "h_n": h, "c_n": c}
    y, h = model(t["input"], t["h0"]) if "h0" in t else model(t["input"])
    if isinstance(h, tuple):  # an LSTM's (h_n, c_n)
        return {"output": y, "h_n": h[0], "c_n": h[1]}
    return {"output": y, "h_n": h}


case("rnn", nn.RNN(4, 5, num_layers=2), {"input": f32(6, 3, 4), "h0": f32(2, 3, 5)}, recurrent)
case("rnn_relu", nn.RNN(4, 5, nonlinearity="relu"), {"input": f32(6, 3, 4)}, recurrent)
case("gru", nn.GRU(4, 5, batch_first=True), {"input": f32(3, 6, 4)}, recurrent, double=True)
case("lstm", nn.LSTM(4, 5, num_layers=2), {"input": f32(6, 3, 4), "h0": f32(2, 3, 5), "c0": f32(2, 3, 5)},
     recurrent)
case("lstm_unbatched", nn.LSTM(3, 4), {"input": f32(5, 3)}, recurrent)


def cell(model, t):
    if "c0" in t:
        h, c = model(t["input"], (t["h0"], t["c0"]))
        return {"output": h, "c_n": c}
    return {"output": model(t["input"], t["h0"])}


case("rnncell", nn.RNNCell(4, 5), {"input": f32(3, 4), "h0": f32(3, 5)}, cell)
case("grucell", nn.GRUCell(4, 5), {"input": f32(3, 4), "h0": f32(3, 5)}, cell)
case("lstmcell", nn.LSTMCell(4, 5), {"input": f32(3, 4), "h0": f32(3, 5), "c0": f32(3, 5)}, cell)


def randomize_biases(model):
    with torch.no_grad():
        for k, p in model.named_parameters():
            if "bias" in k:
                p.copy_(torch.tensor(f32(*p.shape)) * 0.5)
    return model


def causal_self_attention(model, t):
    x = t["input"]
    mask = torch.triu(torch.full((x.shape[0], x.shape[0]), float("-inf")), diagonal=1)
    y, w = model(x, x, x, attn_mask=mask)
    return {"output": y, "weights": w}


case("mha_causal", randomize_biases(nn.MultiheadAttention(8, 2)), {"input": f32(5, 2, 8)},
     causal_self_attention)


def cross_attention(model, t):
    y, w = model(t["input"], t["key"], t["value"])
    return {"output": y, "weights": w}


case("mha_cross", randomize_biases(nn.MultiheadAttention(6, 3, batch_first=True)),
     {"input": f32(2, 4, 6), "key": f32(2, 7, 6), "value": f32(2, 7, 6)}, cross_attention)


def encoder(model, t):
    x = t["input"]
    mask = torch.triu(torch.full((x.shape[0], x.shape[0]), float("-inf")), diagonal=1)
    return {"output": model(x, src_mask=mask)}


case("encoder_post", randomize_biases(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)),
     {"input": f32(5, 2, 8)}, encoder)
case("encoder_pre_gelu", randomize_biases(nn.TransformerEncoderLayer(
    8, 2, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)),
     {"input": f32(2, 5, 8)}, one)

seq = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 3))
with torch.no_grad():
    seq(torch.tensor(f32(4, 1, 8, 8)))  # running statistics that are not the defaults
seq.eval()
case("sequential_eval", seq, {"input": f32(2, 1, 8, 8)}, one)

case("activations", nn.Sequential(
    nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8), nn.SiLU(),
    nn.Linear(8, 8), nn.ELU(0.7), nn.Linear(8, 8), nn.Softplus(2.0, 3.0), nn.Identity(),
    nn.Linear(8, 4), nn.GELU("tanh"), nn.Tanh(), nn.Sigmoid(), nn.Softmax(-1)), {"input": f32(5, 6)}, one)
case("pooling", nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.AvgPool2d(3, 2, 1), nn.ReLU(),
                              nn.MaxPool2d(3, 2, 1)), {"input": f32(2, 2, 9, 9)}, one)

np.savez(os.path.join(here, "io.npz"), **io)
print(f"wrote {len(os.listdir(here))} files to {here}")
