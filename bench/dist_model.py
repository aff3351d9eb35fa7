#!/usr/bin/env python3
"""Scaling of data-parallel training computed from a cost model (docs/distributed.md).

    python3 bench/dist_model.py --step-ms 13.3 --images 64

Time of one step on p nodes = compute + the gradient sum, without overlap (an upper bound: the
reducer overlaps the sum with the rest of backward). The sum of n bytes over p nodes, with
latency a (s) and bandwidth b (bytes/s) per link:
    ring all-reduce        2 (p - 1) a + 2 (p - 1) / p * n / b
    recursive doubling     log2(p) (a + n / b)
    ordered (all-gather)   (p - 1) a + (p - 1) n / b       (SumOrder::ordered, every rank gets all)
Compute: a node of this kind computes one image's forward and backward in step_ms / images.
Strong scaling keeps the global batch (`--images`), so each node gets images / p; weak scaling
gives each node `--images`.
"""
import argparse
import math

NETWORKS = {  # name: (latency s, bandwidth bytes/s) -- assumed, not measured here
    "10 Gb/s Ethernet": (25e-6, 10e9 / 8),
    "100 Gb/s InfiniBand": (2e-6, 100e9 / 8),
}
MODELS = {"CNN (81 KB)": 81_300, "ReLU MLP (1.1 MB)": 1_077_288}


def ring(p, n, a, b):
    return 2 * (p - 1) * a + 2 * (p - 1) / p * n / b


def doubling(p, n, a, b):
    return math.log2(p) * (a + n / b)


def ordered(p, n, a, b):
    return (p - 1) * a + (p - 1) * n / b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--step-ms", type=float, required=True, help="one node's time per step (ms)")
    ap.add_argument("--images", type=int, default=64, help="images per step on one node")
    ap.add_argument("--mlp-step-ms", type=float, help="the same for the ReLU MLP (default: --step-ms)")
    o = ap.parse_args()
    print("| model | network | nodes | sum: ring | recursive doubling | ordered |"
          " speed-up, strong (global batch %d) | weak (%d per node) |" % (o.images, o.images))
    print("|---|---|---|---|---|---|---|---|")
    for model, n in MODELS.items():
        step = (o.mlp_step_ms if model.startswith("ReLU") and o.mlp_step_ms else o.step_ms) / 1e3
        for net, (a, b) in NETWORKS.items():
            for p in (8, 64):
                t_ring, t_dbl, t_ord = ring(p, n, a, b), doubling(p, n, a, b), ordered(p, n, a, b)
                best = min(t_ring, t_dbl)
                strong = step / (step / p + best)
                weak = p * step / (step + best)
                print(f"| {model} | {net} | {p} | {t_ring*1e6:,.0f} µs | {t_dbl*1e6:,.0f} µs |"
                      f" {t_ord*1e6:,.0f} µs | {strong:.1f}× | {weak:.1f}× |")


if __name__ == "__main__":
    main()
