#!/usr/bin/python3
"""Writes tests/data/torch_optim.npz: PyTorch's learning-rate schedules, AdamW, RMSprop and
Adagrad steps, gradient clipping and parameter groups, for tests/test_schedulers.cpp.

Run with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/data/make_optim_references.py

Schedules: NAME.lr holds the optimizer's rate after the scheduler is made and after each of 100
step() calls (101 numbers), for an SGD optimizer of rate 0.1. AdamW, RMSprop, Adagrad: the
parameter after each of three steps from adamw.p0 with the gradients adamw.grads. Clipping: the
total norm and the clipped gradients.
"""
import numpy as np
import torch
from torch.optim import lr_scheduler as S

out = {}


def schedule(name, make, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for t in range(100):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
        lrs.append(opt.param_groups[0]["lr"])
    out[f"{name}.lr"] = np.array(lrs)


schedule("step", lambda o: S.StepLR(o, step_size=7, gamma=0.5))
schedule("multistep", lambda o: S.MultiStepLR(o, milestones=[10, 25, 60], gamma=0.3))
schedule("exponential", lambda o: S.ExponentialLR(o, gamma=0.97))
schedule("cosine", lambda o: S.CosineAnnealingLR(o, T_max=30, eta_min=0.001))
schedule("linear", lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=8))
schedule("onecycle", lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=101, cycle_momentum=False))
schedule("sequential", lambda o: S.SequentialLR(
    o, [S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5), S.CosineAnnealingLR(o, T_max=50)],
    milestones=[5]))
metrics = [1.0 / (1 + t) if t < 20 else 0.05 + 0.001 * ((t * 7) % 5) for t in range(100)]
out["plateau.metrics"] = np.array(metrics)
schedule("plateau", lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=2, min_lr=0.004),
         metrics)
accuracy = [min(0.9, 0.5 + 0.02 * t) + 0.004 * ((t * 3) % 4) for t in range(100)]
out["plateau_abs_max.metrics"] = np.array(accuracy)
schedule("plateau_abs_max", lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=2,
                                                          threshold=0.01, threshold_mode="abs"),
         accuracy)
out["plateau_eps.metrics"] = np.array(metrics)
schedule("plateau_eps", lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=0.03, eps=0.025),
         metrics)

# AdamW: three steps from p0 with the gradients g1, g2, g3.
rng = np.random.default_rng(7)
p0 = rng.uniform(-1, 1, 5).astype(np.float32)
grads = rng.uniform(-1, 1, (3, 5)).astype(np.float32)
p = torch.tensor(p0, requires_grad=True)
opt = torch.optim.AdamW([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
after = []
for g in grads:
    p.grad = torch.tensor(g)
    opt.step()
    after.append(p.detach().numpy().copy())
out["adamw.p0"] = p0.astype(np.float64)
out["adamw.grads"] = grads.astype(np.float64)
out["adamw.after"] = np.array(after, dtype=np.float64)


def steps(name, make, gs):
    """NAME.after: the parameter after each step from p0, with the gradients gs."""
    p = torch.tensor(p0, requires_grad=True)
    opt = make([p])
    after = []
    for g in gs:
        p.grad = torch.tensor(g)
        opt.step()
        after.append(p.detach().numpy().copy())
    out[f"{name}.after"] = np.array(after, dtype=np.float64)


# RMSprop and Adagrad: three steps from the same p0 with the same gradients.
steps("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9), grads)
steps("rmsprop_centered_momentum", lambda ps: torch.optim.RMSprop(
    ps, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True), grads)
steps("adagrad", lambda ps: torch.optim.Adagrad(
    ps, lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.1), grads)

# Options torch has and the positional constructors did not: SGD's dampening (three steps as
# above), and amsgrad, over six steps whose gradients shrink (so that v falls below its maximum).
decaying = np.array([g * 0.3 ** t for t, g in enumerate(np.concatenate([grads, grads]))],
                    dtype=np.float32)
out["amsgrad.grads"] = decaying.astype(np.float64)
steps("sgd_dampening", lambda ps: torch.optim.SGD(
    ps, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05), grads)
steps("adam_amsgrad", lambda ps: torch.optim.Adam(
    ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True), decaying)
steps("adamw_amsgrad", lambda ps: torch.optim.AdamW(
    ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True), decaying)

# Clipping two gradients to a total norm of 1, in the 2-norm and the max-norm.
a, b = rng.uniform(-2, 2, 4).astype(np.float32), rng.uniform(-2, 2, (2, 3)).astype(np.float32)
for name, norm_type in (("clip2", 2.0), ("clipinf", float("inf"))):
    ta, tb = torch.zeros(4, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
    ta.grad, tb.grad = torch.tensor(a), torch.tensor(b)
    total = torch.nn.utils.clip_grad_norm_([ta, tb], max_norm=1.0, norm_type=norm_type)
    out[f"{name}.a"], out[f"{name}.b"] = a.astype(np.float64), b.astype(np.float64)
    out[f"{name}.total"] = np.array([float(total)])
    out[f"{name}.a_clipped"] = ta.grad.numpy().astype(np.float64)
    out[f"{name}.b_clipped"] = tb.grad.numpy().astype(np.float64)

# Parameter groups: AdamW with two groups (the second with its own lr and no weight decay) and
# a cosine schedule stepped after each of three steps, from p0 (and p0 reversed) with the
# gradients above (reversed for the second parameter).
pa, pb = torch.tensor(p0, requires_grad=True), torch.tensor(p0[::-1].copy(), requires_grad=True)
opt = torch.optim.AdamW([{"params": [pa]}, {"params": [pb], "lr": 0.05, "weight_decay": 0.0}],
                        lr=0.01, weight_decay=0.1)
sched = S.CosineAnnealingLR(opt, T_max=4)
after_a, after_b, lrs = [], [], []
for g in grads:
    pa.grad, pb.grad = torch.tensor(g), torch.tensor(g[::-1].copy())
    opt.step()
    sched.step()
    after_a.append(pa.detach().numpy().copy())
    after_b.append(pb.detach().numpy().copy())
    lrs.append([group["lr"] for group in opt.param_groups])
out["groups.after_a"] = np.array(after_a, dtype=np.float64)
out["groups.after_b"] = np.array(after_b, dtype=np.float64)
out["groups.lrs"] = np.array(lrs, dtype=np.float64)

np.savez("tests/data/torch_optim.npz", **out)
print(f"tests/data/torch_optim.npz: {len(out)} arrays, torch {torch.__version__}")
