"""Minegishi et al. 2024's grokking tickets, reproduced by the shipped sweep
sweeps/minegishi_ticket.json on a reduced grid: the dense embedding-sum MLP
on addition mod 67 against its ticket (40% of the weights kept, from the dense
run's weights at step 10000, rewound) and the norm-matched dense control.

- The ticket reaches 99% test accuracy at least 3x sooner than the dense
  network (mean over the seeds of the first step at 99%), and in every seed.
- The norm-matched dense network is slower than the ticket in every seed.

The reduced grid trains no duplicate dense points (the dense network is the
kept fraction 1 of the first sweep, the control a second sweep at 0.4), and
train.steps is cut to 8000: every dense and ticket run of these seeds reaches
99% before that, and a control that has not is slower than its ticket.

usage: published_tickets.py GROKSWEEP MPIEXEC PROJECT_ROOT WORKDIR
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from harness import ENV, check, finish

GROKSWEEP, MPIEXEC, ROOT, WORKDIR = sys.argv[1:5]
STEPS = 8000
SEEDS = 3


def reduced_run(label, kept_fractions, control):
    """The shipped sweep on a grid of these kept fractions, one control and SEEDS seeds; returns
    test_acc_step_99 as (kept_fraction, seed)."""
    with open(os.path.join(ROOT, "sweeps", "minegishi_ticket.json")) as f:
        sweep = json.load(f)
    sweep["grid"].update({"ticket.kept_fraction": kept_fractions, "ticket.control": [control], "seed": SEEDS})
    sweep["train"]["steps"] = STEPS
    path = os.path.join(WORKDIR, f"{label}.json")
    with open(path, "w") as f:
        json.dump(sweep, f)
    out = path[:-5] + ".h5"
    result = subprocess.run([MPIEXEC, "-n", "2", GROKSWEEP, "run", path, "-o", out, "--force", "--quiet"], env=ENV,
                            capture_output=True, text=True, timeout=1200)
    check(result.returncode == 0, f"{label}: sweep exit 0, got {result.returncode}: {result.stderr[-500:]}")
    with h5py.File(out, "r") as f:
        steps = f["test_acc_step_99"][...]
        check(steps.shape == (1, 1, 1, len(kept_fractions), 1, SEEDS), f"{label}: grid shape {steps.shape}")
        return steps.reshape(len(kept_fractions), SEEDS)


def slower(control, ticket):
    """True when the control reached 99% after the ticket, or never (-1)."""
    return control < 0 or control > ticket


os.makedirs(WORKDIR, exist_ok=True)
dense, ticket = reduced_run("dense_and_ticket", [1, 0.4], "ticket")
control = reduced_run("norm_matched", [0.4], "norm_matched")[0]
print(f"Minegishi grokking tickets: first step at 99% test accuracy per seed: dense {dense.tolist()}, ticket (40% "
      f"kept) {ticket.tolist()}, norm-matched dense {control.tolist()} (-1: not by step {STEPS})")
check((dense > 0).all() and (ticket > 0).all(), "the dense network and its ticket reach 99% test accuracy")
if (dense > 0).all() and (ticket > 0).all():
    speedup = dense.mean() / ticket.mean()
    print(f"ticket speedup (mean steps to 99%): {speedup:.2f}x")
    check(speedup >= 3, f"the ticket reaches 99% test accuracy at least 3x sooner than the dense network: {speedup:.2f}x")
    check((ticket < dense).all(), "the ticket is sooner in every seed")
check(all(slower(c, t) for c, t in zip(control, ticket)),
      "the norm-matched dense network is slower than the ticket in every seed")
finish()
