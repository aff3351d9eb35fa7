#!/usr/bin/env python3
"""Alternating A/B runs of two tapegrad_bench builds, or of one build under two environments.

    python3 bench/ab.py --a OLD/build-bench/bench/tapegrad_bench --b build-bench/bench/tapegrad_bench
    python3 bench/ab.py --a build-bench/bench/tapegrad_bench --a-env TAPEGRAD_FAST_PATHS=xsmm \\
                        --b build-bench/bench/tapegrad_bench --only cnn,lstm --reps 5

Each pair runs A then B, the next pair B then A, so that a machine getting busier or quieter
favours neither side. Prints, per workload, both medians and the median and range of the pairs'
ratios, B's speed over A's (above 1: B is faster; for the tape, A's ns/op over B's), with the
load average seen. The workloads are bench/run.sh's, on fewer images (--limit) to keep a pair
short; ops gives a line per op.
"""
import argparse
import json
import os
import statistics
import subprocess

WORKLOADS = {
    "cnn": ["train", "--model", "cnn", "--limit", "20000"],
    "relu_mlp": ["train", "--model", "relu_mlp", "--limit", "20000"],
    "mlp": ["train", "--model", "mlp", "--limit", "20000"],
    "infer_cnn": ["infer", "--model", "cnn"],
    "infer_mlp": ["infer", "--model", "mlp"],
    "cnn_bn": ["train", "--model", "cnn_bn", "--limit", "10000"],
    "lstm": ["seq", "--model", "lstm", "--batch", "32"],
    "transformer": ["seq", "--model", "transformer", "--batch", "32"],
    "tape": ["tape", "--ops", "100000", "--reps", "3"],
    "ops": ["ops", "--reps", "31"],
}
LOWER_IS_BETTER = {"tape", "ops"}


def environment(pairs):
    env = dict(os.environ)
    for pair in pairs:
        key, _, value = pair.partition("=")
        env[key] = value
    return env


def run(exe, env, args, o):
    command = [exe] + args + ["--threads", str(o.threads), "--data", o.data]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    for line in reversed(out.stdout.splitlines()):
        if line.strip().startswith("{"):
            return json.loads(line)
    raise RuntimeError(" ".join(command) + " printed no result:\n" + out.stderr[-1000:])


def figures(result):
    """{name: figure}: the workload's value, or each op's microseconds."""
    if result.get("workload") == "ops":
        return {op["name"]: op["us"] for op in result["ops"]}
    return {result["workload"]: result["value"]}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="side A's tapegrad_bench")
    p.add_argument("--b", required=True, help="side B's tapegrad_bench")
    p.add_argument("--a-env", action="append", default=[], help="KEY=VALUE for side A's runs")
    p.add_argument("--b-env", action="append", default=[], help="KEY=VALUE for side B's runs")
    p.add_argument("--only", default="", help="comma-separated workloads: " + ", ".join(WORKLOADS))
    p.add_argument("--reps", type=int, default=3, help="pairs per workload")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default="datasets/mnist")
    o = p.parse_args()
    keys = [k for k in o.only.split(",") if k] or [k for k in WORKLOADS if k != "ops"]
    sides = {"a": (o.a, environment(o.a_env)), "b": (o.b, environment(o.b_env))}
    for key in keys:
        values = {"a": {}, "b": {}}
        for r in range(o.reps):
            for side in ("a", "b") if r % 2 == 0 else ("b", "a"):
                exe, env = sides[side]
                for name, figure in figures(run(exe, env, WORKLOADS[key], o)).items():
                    values[side].setdefault(name, []).append(figure)
        for name in values["a"]:
            a, b = values["a"][name], values["b"][name]
            lower = key in LOWER_IS_BETTER
            ratios = [(x / y) if lower else (y / x) for x, y in zip(a, b)]
            print(f"{name:18s} A {statistics.median(a):12.1f}  B {statistics.median(b):12.1f}  "
                  f"B/A speed {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})  "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
