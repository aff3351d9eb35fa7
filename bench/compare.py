#!/usr/bin/env python3
"""Runs tapegrad_bench and torch_bench.py side by side and prints the comparison table.

For every workload and every thread setting (1 and 2 by default) the two sides run alternately,
tapegrad then PyTorch, each in its own process, `--reps` times; the figure of a side is the median
of its runs at its best thread setting. bench/run.sh builds tapegrad_bench and calls this script;
see the README's "Benchmarks" section. Python standard library only.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# key: (label, subcommand args, unit, higher is better, target on the ratio or the value)
WORKLOADS = {
    "cnn": ("CNN training, 1 epoch", ["train", "--model", "cnn"], "images/s", True),
    "relu_mlp": ("ReLU MLP 784-256-256-10 training, 1 epoch", ["train", "--model", "relu_mlp"],
                 "images/s", True),
    "mlp": ("tutorial sigmoid MLP 784-10-10-10 training, 1 epoch", ["train", "--model", "mlp"],
            "images/s", True),
    "infer_cnn": ("CNN inference, 10,000 test images", ["infer", "--model", "cnn"], "images/s",
                  True),
    "infer_mlp": ("tutorial MLP inference, 10,000 test images", ["infer", "--model", "mlp"],
                  "images/s", True),
    "cnn_bn": ("BatchNorm CNN (mnist --model cnn_bn) training, 1 epoch",
               ["train", "--model", "cnn_bn"], "images/s", True),
    "lstm": ("LSTM character model training, 20 steps of 32 x 64",
             ["seq", "--model", "lstm", "--batch", "32"], "tokens/s", True),
    "transformer": ("transformer character model (2 layers) training, 20 steps of 32 x 64",
                    ["seq", "--model", "transformer", "--batch", "32"], "tokens/s", True),
    "tape": ("tape overhead, scalar chain fwd+bwd", ["tape"], "ns/op", False),
}
# (kind, threshold): kind "ratio" compares tapegrad/PyTorch, "max"/"min" bound tapegrad's value.
# "ratio_max" bounds tapegrad/PyTorch from above. The second round's targets (the performance
# issue): the tape at half of round 1's 287 ns/op, peak memory at most half of PyTorch's.
TARGETS = {"cnn": ("ratio", 2.0), "relu_mlp": ("ratio", 2.0), "mlp": ("ratio", 4.0),
           "infer_cnn": ("ratio", 2.0), "infer_mlp": ("ratio", 2.0), "tape": ("max", 150.0),
           "cnn_bn": ("ratio", 1.5), "lstm": ("ratio", 1.5), "transformer": ("ratio", 1.5),
           "memory": ("ratio_max", 0.5), "roofline": ("min", 0.80)}
ALL = list(WORKLOADS) + ["roofline", "memory", "ops"]
# After the first repetition a thread setting this many times slower than the side's best is
# dropped: it cannot win (PyTorch with spinning OpenMP threads on 2 busy cores ran 2.5 to 17
# times slower at 2 threads than at 1), and an epoch there can take minutes.
PRUNE = 2.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def machine_info():
    info = {"cpu_model": "unknown", "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)), "kernel": platform.release(),
            "python_driver": sys.version.split()[0]}
    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
        for line in cpuinfo.splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name":
                info["cpu_model"] = value
            elif key == "cpu cores":
                info["physical_cores_per_socket"] = int(value)
            elif key == "flags":
                flags = value.split()
                info["simd"] = [f for f in ("avx", "avx2", "fma", "avx512f", "avx512_vnni")
                                if f in flags]
        info["sockets"] = len({l.split(":")[1].strip() for l in cpuinfo.splitlines()
                               if l.startswith("physical id")}) or 1
        with open("/proc/meminfo") as f:
            info["memory_gb"] = round(int(f.readline().split()[1]) / 1e6, 1)
    except OSError:
        pass
    return info


def run(cmd, env, timeout):
    """One process; returns its last JSON line (a dict) or {"error": ...}."""
    start = time.time()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "wall_seconds": timeout}
    except OSError as e:
        return {"error": str(e), "wall_seconds": 0}
    wall = time.time() - start
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        return {"error": f"exit status {p.returncode}: " + " | ".join(tail), "wall_seconds": wall}
    result = json.loads(lines[-1])
    result["wall_seconds"] = round(wall, 2)
    return result


def fmt(value, unit=""):
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if abs(value) >= 1 \
        else f"{value:.2f}"
    return f"{text} {unit}".strip()


class Bench:
    def __init__(self, o):
        self.o = o
        self.runs = []         # every run, in order
        self.results = {}      # (side, key, threads) -> list of run dicts
        self.torch_ok = False
        self.total = 0
        self.done = 0

    def env(self, side, threads):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        if self.o.omp_wait_policy:
            env.setdefault("OMP_WAIT_POLICY", self.o.omp_wait_policy)
        if self.o.blas_core == "best":
            env.pop("OPENBLAS_CORETYPE", None)  # tapegrad picks the best kernels for the CPU
        elif self.o.blas_core != "env":
            env["OPENBLAS_CORETYPE"] = self.o.blas_core
        if side == "pytorch" and self.torch_coretype:
            env["OPENBLAS_CORETYPE"] = self.torch_coretype  # the same kernels as tapegrad
        return env

    def command(self, side, args, threads):
        extra = ["--threads", str(threads), "--data", self.o.data]
        if args[0] == "train" and self.o.train_limit:
            extra += ["--limit", str(self.o.train_limit)]
        if args[0] == "infer" and self.o.infer_limit:
            extra += ["--limit", str(self.o.infer_limit)]
        if args[0] == "tape":
            extra += ["--ops", str(self.o.tape_ops), "--reps", str(self.o.tape_reps)]
        if args[0] == "roofline" and self.o.quick:
            extra += ["--quick"]
        if args[0] == "ops":
            extra += ["--reps", "3" if self.o.quick else "9"]
        if side == "tapegrad":
            return [self.o.bench] + args + extra
        return [self.o.python, self.o.torch_script] + args + extra

    def measure(self, side, key, args, threads, rep):
        result = run(self.command(side, args, threads), self.env(side, threads), self.o.timeout)
        result.update(side=side, key=key, rep=rep, threads=threads,
                      load_average=os.getloadavg()[0])
        self.runs.append(result)
        self.results.setdefault((side, key, threads), []).append(result)
        self.done += 1
        what = result.get("error") or (f"{len(result['ops'])} ops ({result['wall_seconds']} s)"
                                       if key == "ops" and "ops" in result else
                                       f"{fmt(result.get('value'), result.get('unit', ''))} "
                                       f"({result['wall_seconds']} s)")
        log(f"[{self.done}/{self.total}] {side} {key} threads={threads} rep {rep + 1}: {what}")

    def far_behind(self, side, key, threads):
        """Whether this thread setting's first run was more than PRUNE times slower than the
        side's best first run: then it is not repeated (it cannot be the best)."""
        higher = WORKLOADS[key][3]
        first = {}
        for t in self.o.threads:
            runs = self.results.get((side, key, t), [])
            if runs and "error" not in runs[0] and runs[0].get("value"):
                first[t] = runs[0]["value"]
        if threads not in first or len(first) < 2:
            return False
        best = max(first.values()) if higher else min(first.values())
        return (best / first[threads] if higher else first[threads] / best) > PRUNE

    def best(self, side, key, higher=True, value=lambda r: r.get("value")):
        """(best threads, median at those threads, the runs there) or (None, None, [])."""
        best = (None, None, [])
        for threads in self.o.threads:
            runs = [r for r in self.results.get((side, key, threads), [])
                    if "error" not in r and value(r) is not None]
            if not runs:
                continue
            m = statistics.median(value(r) for r in runs)
            if best[1] is None or (m > best[1] if higher else m < best[1]):
                best = (threads, m, runs)
        return best


def verdict(key, ratio, value):
    kind, threshold = TARGETS[key]
    x = ratio if kind in ("ratio", "ratio_max") else value
    if x is None:
        return "n/a"
    ok = x >= threshold if kind in ("ratio", "min") else x <= threshold
    return "PASS" if ok else "MISS"


def target_text(key):
    kind, t = TARGETS[key]
    unit = {"tape": " ns/op", "memory": " MB"}.get(key, "")
    return {"ratio": f">= {t:g}x PyTorch", "ratio_max": f"<= {t:g}x PyTorch", "max": f"<= {t:g}{unit}",
            "min": f">= {t:.0%} of OpenBLAS"}[kind]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bench", required=True, help="the tapegrad_bench executable")
    p.add_argument("--torch-script", default=os.path.join(os.path.dirname(__file__),
                                                          "torch_bench.py"))
    p.add_argument("--python", default="/usr/bin/python3", help="the Python that has torch")
    p.add_argument("--data", default="datasets/mnist")
    p.add_argument("--out", default="build-bench/bench.json")
    p.add_argument("--reps", type=int, default=3, help="repetitions per side and thread setting")
    p.add_argument("--threads", default="1,2", help="thread settings to try, e.g. 1,2")
    p.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(ALL))
    p.add_argument("--quick", action="store_true", help="fewer images, 1 repetition: a smoke test")
    p.add_argument("--timeout", type=int, default=1800, help="seconds allowed per run")
    p.add_argument("--blas-core", default="best",
                   help="OpenBLAS kernels for both sides: 'best' (default: those tapegrad picks for "
                        "this CPU, whatever OPENBLAS_CORETYPE says), 'env' (tapegrad follows an "
                        "inherited OPENBLAS_CORETYPE) or a core name such as Haswell; PyTorch "
                        "always gets the ones tapegrad runs")
    p.add_argument("--omp-wait-policy", default="PASSIVE",
                   help="OMP_WAIT_POLICY for both sides unless already set (default PASSIVE: "
                        "idle threads sleep, as tapegrad's pool does; '' leaves it unset)")
    o = p.parse_args()
    o.threads = [int(t) for t in o.threads.split(",") if t]
    keys = [k.strip() for k in o.only.split(",") if k.strip()] or ALL
    for k in keys:
        if k not in ALL:
            sys.exit(f"compare: --only {k}: unknown workload; choose from {', '.join(ALL)}")
    if o.quick:
        o.reps, o.train_limit, o.infer_limit, o.tape_ops, o.tape_reps = 1, 6000, 2000, 20000, 2
    else:
        o.train_limit, o.infer_limit, o.tape_ops, o.tape_reps = 0, 0, 100000, 3

    b = Bench(o)
    started = time.time()
    machine = machine_info()
    machine["load_average_at_start"] = os.getloadavg()
    b.torch_coretype = None
    tg_info = run([o.bench, "info"], b.env("tapegrad", 1), 60)
    if "error" in tg_info:
        sys.exit(f"compare: {o.bench} info failed: {tg_info['error']}")
    b.torch_coretype = tg_info.get("blas_core")
    torch_info = run([o.python, o.torch_script, "info"], b.env("pytorch", 1), 300)
    b.torch_ok = "error" not in torch_info
    if not b.torch_ok:
        log(f"compare: PyTorch is not available ({torch_info['error']}); "
            "measuring tapegrad alone (apt-get install python3-torch)")
    sides = ["tapegrad"] + (["pytorch"] if b.torch_ok else [])

    # the CNN runs also give the memory figure
    run_keys = [k for k in WORKLOADS if k in keys or (k == "cnn" and "memory" in keys)]
    b.total = sum(1 if k == "tape" else len(o.threads) for k in run_keys) * o.reps * len(sides)
    b.total += len(o.threads) if "roofline" in keys else 0
    for key in run_keys:
        # The tape chain holds one element: thread settings cannot matter, so it runs at the first.
        thread_settings = o.threads[:1] if key == "tape" else o.threads
        for rep in range(o.reps):
            for threads in thread_settings:
                for side in sides:  # alternating: tapegrad, PyTorch, tapegrad, PyTorch, ...
                    if rep > 0 and b.far_behind(side, key, threads):
                        b.total -= 1
                        log(f"[{b.done}/{b.total}] {side} {key} threads={threads} rep {rep + 1}: "
                            f"skipped, more than {PRUNE}x slower than {side}'s best setting")
                        continue
                    b.measure(side, key, WORKLOADS[key][1], threads, rep)
    if "ops" in keys:  # every op of the op set, forward + backward, both sides alternating
        b.total += o.reps * len(o.threads) * len(sides)
        for rep in range(o.reps):
            for threads in o.threads:
                for side in sides:
                    b.measure(side, "ops", ["ops"], threads, rep)
    if "roofline" in keys:  # tapegrad alone; it alternates GEMM and layer timings inside
        for threads in o.threads:
            b.measure("tapegrad", "roofline", ["roofline"], threads, 0)

    rows, table, problems = [], [], []
    for r in b.runs:
        if "error" in r:
            problems.append(f"{r['side']} {r['key']} threads={r['threads']}: {r['error']}")
        elif not r.get("ok", True):
            problems.append(f"{r['side']} {r['key']} threads={r['threads']}: the run reports a "
                            "problem (loss or gradient not finite, or a wrong gradient)")
    for key in [k for k in WORKLOADS if k in keys]:
        label, _, unit, higher = WORKLOADS[key]
        tt, tv, truns = b.best("tapegrad", key, higher)
        pt, pv, pruns = b.best("pytorch", key, higher)
        ratio = tv / pv if tv and pv else None
        row = {"key": key, "label": label, "unit": unit, "tapegrad": tv, "tapegrad_threads": tt,
               "pytorch": pv, "pytorch_threads": pt, "ratio": ratio, "target": target_text(key),
               "result": verdict(key, ratio, tv)}
        if key in ("cnn", "relu_mlp", "mlp"):
            for side, runs in (("tapegrad", truns), ("pytorch", pruns)):
                if runs:
                    first = statistics.median(r["loss_first"] for r in runs)
                    last = statistics.median(r["loss_last"] for r in runs)
                    row[f"{side}_loss"] = [first, last]
                    if not o.quick and not last < first:
                        problems.append(f"{side} {key}: the loss did not fall "
                                        f"({first:.3f} -> {last:.3f})")
        if key == "tape":
            row["reference"] = "PyTorch's figure is a reference only (Python per op)"
        rows.append(row)
        table.append((label, fmt(tv, unit), fmt(pv, unit) if b.torch_ok else "not installed",
                      f"{ratio:.2f}" if ratio else "–", row["target"], row["result"],
                      f"{tt or '–'} / {pt or '–'}"))
    if "memory" in keys:
        mem = lambda r: r.get("peak_rss_mb")
        tt, tv, _ = b.best("tapegrad", "cnn", False, mem)
        pt, pv, _ = b.best("pytorch", "cnn", False, mem)
        ratio = tv / pv if tv and pv else None
        rows.append({"key": "memory", "label": "peak RSS, CNN training", "unit": "MB",
                     "tapegrad": tv, "tapegrad_threads": tt, "pytorch": pv, "pytorch_threads": pt,
                     "ratio": ratio, "target": target_text("memory"),
                     "result": verdict("memory", ratio, tv)})
        table.append(("peak RSS, CNN training (VmHWM)", fmt(tv, "MB"),
                      fmt(pv, "MB") if b.torch_ok else "not installed",
                      f"{ratio:.2f}" if ratio else "–", target_text("memory"), rows[-1]["result"],
                      f"{tt or '–'} / {pt or '–'}"))
    roofline = {}
    if "roofline" in keys:
        per_threads = {r["threads"]: r for r in b.runs if r["key"] == "roofline" and "error" not in r}
        if per_threads:
            # The roofline is OpenBLAS at its best thread setting for the layer's GEMMs; the
            # layer is taken at its own best setting (each chosen by the train direction).
            names = [l["name"] for l in next(iter(per_threads.values()))["layers"]]
            for i, name in enumerate(names):
                layer = lambda t: per_threads[t]["layers"][i]
                op_t = min(per_threads, key=lambda t: layer(t)["train"]["op_seconds"])
                blas_t = min(per_threads, key=lambda t: layer(t)["train"]["gemm_seconds"])
                entry = {"name": name, "input": layer(op_t)["input"], "op_threads": op_t,
                         "blas_threads": blas_t, "by_threads": {t: layer(t) for t in per_threads}}
                for part in ("forward", "train"):
                    op, blas = layer(op_t)[part], layer(blas_t)[part]
                    entry[part] = {"flops": op["flops"], "op_seconds": op["op_seconds"],
                                   "gemm_seconds": blas["gemm_seconds"],
                                   "op_gflops": op["op_gflops"], "blas_gflops": blas["blas_gflops"],
                                   "fraction": blas["gemm_seconds"] / op["op_seconds"]}
                f, t = entry["forward"], entry["train"]
                ok = min(f["fraction"], t["fraction"]) >= TARGETS["roofline"][1]
                entry["result"] = "PASS" if ok else "MISS"
                roofline[name] = entry
                table.append((f"GEMM share: {name} (fwd / fwd+bwd)",
                              f"{f['op_gflops']:.1f} / {t['op_gflops']:.1f} GFLOP/s",
                              f"OpenBLAS alone: {f['blas_gflops']:.1f} / {t['blas_gflops']:.1f}",
                              f"{f['fraction']:.2f} / {t['fraction']:.2f}", target_text("roofline"),
                              entry["result"], f"{op_t} / OpenBLAS {blas_t}"))
            rows.append({"key": "roofline", "layers": roofline})

    op_rows = []
    if "ops" in keys:
        # Per op and side: the median over the runs at each thread setting, then the best setting.
        times = {}  # (side, op) -> {threads: [us, ...]}
        shapes = {}
        for r in b.runs:
            if r["key"] != "ops" or "error" in r:
                continue
            for op in r["ops"]:
                times.setdefault((r["side"], op["name"]), {}).setdefault(r["threads"], []).append(op["us"])
                shapes.setdefault(op["name"], op.get("shape"))
        best = lambda side, name: min(((statistics.median(v), t) for t, v in
                                       times.get((side, name), {}).items()), default=(None, None))
        for name in shapes:
            (tv, tt), (pv, pt) = best("tapegrad", name), best("pytorch", name)
            op_rows.append({"op": name, "shape": shapes[name], "tapegrad_us": tv,
                            "tapegrad_threads": tt, "pytorch_us": pv, "pytorch_threads": pt,
                            "speedup": pv / tv if tv and pv else None})
        rows.append({"key": "ops", "ops": op_rows})

    head = ("workload", "tapegrad", "PyTorch", "ratio tapegrad/PyTorch", "target", "result",
            "best threads (tapegrad / PyTorch)")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for line in table:
        print("| " + " | ".join(line) + " |")
    print()
    if op_rows:
        print("Ops, forward + backward of sum(op(inputs)), median microseconds at each side's best "
              "thread setting (speedup = PyTorch / tapegrad; above 1 tapegrad is faster):")
        print("| op | shape | tapegrad µs | PyTorch µs | speedup |")
        print("|---|---|---|---|---|")
        for r in op_rows:
            print(f"| {r['op']} | {r['shape']} | {fmt(r['tapegrad_us'])} | "
                  f"{fmt(r['pytorch_us']) if b.torch_ok else 'not installed'} | "
                  f"{r['speedup']:.2f} |" if r["speedup"] else
                  f"| {r['op']} | {r['shape']} | {fmt(r['tapegrad_us'])} | – | – |")
        print()
    losses = [r for r in rows if "tapegrad_loss" in r]
    if losses:
        print("Training loss, mean of the first -> last 50 batches of the epoch:")
        for r in losses:
            sides_text = [f"{s} {r[s + '_loss'][0]:.3f} -> {r[s + '_loss'][1]:.3f}"
                          for s in ("tapegrad", "pytorch") if s + "_loss" in r]
            print(f"  {r['key']}: " + ", ".join(sides_text))
    print(f"\ntapegrad: {tg_info.get('blas_summary')}; convolution products on "
          f"{'libxsmm generated kernels' if tg_info.get('generated_kernels') else 'OpenBLAS'}")
    if b.torch_ok:
        print(f"PyTorch {torch_info['torch_version']}: {torch_info['blas_version']}; kernels "
              f"{torch_info['blas_core']}; oneDNN {'on' if torch_info['mkldnn'] else 'off'}")
    else:
        print("PyTorch: not installed; its columns are empty (apt-get install python3-torch)")
    print(f"machine: {machine['cpu_model']}, {machine['usable_cpus']} usable CPUs; "
          f"thread settings tried: {o.threads}; repetitions: {o.reps}; OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', o.omp_wait_policy) or 'unset'}"
          + ("; QUICK MODE (fewer images, not comparable)" if o.quick else ""))
    loads = [r["load_average"] for r in b.runs if "load_average" in r]
    if loads:
        print(f"load average (1 min) after each run: {min(loads):.1f} to {max(loads):.1f} on "
              f"{machine['usable_cpus']} CPUs" + ("; other work competed for the cores, so the "
              "figures are noisy" if max(loads) > machine["usable_cpus"] else ""))
    for msg in problems:
        print(f"PROBLEM: {msg}")

    machine["load_average_at_end"] = os.getloadavg()
    report = {
        "machine": machine, "tapegrad": tg_info,
        "pytorch": torch_info if b.torch_ok else {"installed": False, "why": torch_info["error"]},
        "settings": {"reps": o.reps, "threads": o.threads, "quick": o.quick,
                     "drop_setting_after_first_rep_if_slower_by": PRUNE,
                     "train_limit": o.train_limit, "infer_limit": o.infer_limit,
                     "tape_ops": o.tape_ops, "batch": 100, "optimizer": "SGD lr 0.01 momentum 0.9",
                     "env_per_run": "OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = "
                                    "threads; OMP_WAIT_POLICY="
                                    f"{os.environ.get('OMP_WAIT_POLICY', o.omp_wait_policy)}; "
                                    "PyTorch also gets OPENBLAS_CORETYPE="
                                    f"{os.environ.get('OPENBLAS_CORETYPE', b.torch_coretype)}"},
        "results": rows, "problems": problems, "runs": b.runs,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "duration_seconds": round(time.time() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(o.out)), exist_ok=True)
    with open(o.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"\nwrote {o.out} ({report['duration_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
