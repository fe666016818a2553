"""The published observations the shipped sweeps reproduce, checked on
reduced grids of those same sweep files.

usage: published_results.py GROKSWEEP MPIEXEC WORKDIR

- Power et al. 2022 (sweeps/power_data_fraction.json): steps to 99% test
  accuracy grow steeply as the data fraction falls; below a critical
  fraction the model does not generalize within the budget.
- Omnigrok (sweeps/omnigrok_weight_decay.json): without weight decay the
  model memorizes; weight decay turns memorization into grokking, and the
  time to generalize falls as weight decay grows.
- Liu et al. 2022 (sweeps/liu_lr_weight_decay.json): in the learning-rate x
  weight-decay plane, low weight decay memorizes, the phase moves through
  grokking to comprehension as weight decay grows, and high learning rate
  with high weight decay is confusion.
- Gromov 2023 (sweeps/gromov_p97.json): the quadratic MLP groks modular
  addition within a few hundred full-batch steps.
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
from harness import ENV, check, finish

GROKSWEEP, MPIEXEC, WORKDIR = sys.argv[1:4]
SWEEPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweeps")
PHASES = {0: "none", 1: "comprehension", 2: "grokking", 3: "memorization", 4: "confusion"}


def reduced_run(name, grid, steps=None):
    """Run the shipped sweep `name` on a smaller grid; return {variable: array} squeezed to the grid."""
    with open(os.path.join(SWEEPS, name)) as f:
        sweep = json.load(f)
    sweep["grid"] = grid
    if steps:
        sweep["train"]["steps"] = steps
    path = os.path.join(WORKDIR, name)
    with open(path, "w") as f:
        json.dump(sweep, f)
    out = path.replace(".json", ".h5")
    result = subprocess.run([MPIEXEC, "-n", "2", GROKSWEEP, "run", path, "-o", out, "--force", "--quiet"],
                            env=ENV, capture_output=True, text=True, timeout=900)
    check(result.returncode == 0, f"{name}: sweep exit 0, got {result.returncode}: {result.stderr[-500:]}")
    with h5py.File(out, "r") as f:
        return {key: f[key][...] for key in ("phase", "test_acc_step_99", "train_acc_step_99",
                                             "test_acc_step_90", "final_test_acc")}


def power():
    fractions = [0.2, 0.3, 0.4, 0.6]
    r = reduced_run("power_data_fraction.json",
                    {"data_fraction": fractions, "weight_decay": [1], "init_scale": [1], "seed": 1}, steps=3000)
    t99 = r["test_acc_step_99"].reshape(len(fractions))
    print("Power: data fraction", fractions, "-> steps to 99% test accuracy", list(t99))
    check(t99[0] == -1, f"below the critical fraction (0.2) no generalization in 3000 steps, got {t99[0]}")
    generalized = t99[1:]
    check((generalized > 0).all(), f"fractions >= 0.3 generalize: {list(generalized)}")
    check(all(a > b for a, b in zip(generalized, generalized[1:])), f"t99 falls as data grows: {list(generalized)}")
    check(generalized[0] >= 4 * generalized[-1], f"steeply: t99(0.3) >= 4 t99(0.6): {list(generalized)}")


def omnigrok():
    decays = [0, 0.5, 1, 2]
    r = reduced_run("omnigrok_weight_decay.json",
                    {"data_fraction": [0.35], "weight_decay": decays, "init_scale": [3], "seed": 1}, steps=3000)
    phase, t99 = r["phase"].reshape(4), r["test_acc_step_99"].reshape(4)
    print("Omnigrok: weight decay", decays, "-> phases", [PHASES[p] for p in phase], "t99", list(t99))
    check(PHASES[phase[0]] == "memorization", f"alpha 3, weight decay 0 memorizes: {PHASES[phase[0]]}")
    check(all(PHASES[p] == "grokking" for p in phase[1:]), "weight decay turns it into grokking")
    check(all(a > b > 0 for a, b in zip(t99[1:], t99[2:])), f"time to generalize falls with weight decay: {list(t99)}")


def liu():
    decays, rates = [0, 1, 10], [0.01, 0.03, 0.1]
    r = reduced_run("liu_lr_weight_decay.json",
                    {"data_fraction": [0.3], "weight_decay": decays, "init_scale": [1], "seed": 1,
                     "optimizer.lr": rates}, steps=1500)
    phase = r["phase"].reshape(3, 3)  # weight_decay x lr
    names = [[PHASES[p] for p in row] for row in phase]
    print("Liu et al.: rows weight decay", decays, "columns lr", rates)
    for row in names:
        print("   ", row)
    check(names[0][0] == "memorization" and names[0][1] == "memorization",
          "no weight decay, lr <= 0.03: memorization")
    check(names[2][2] == "confusion", "high lr and high weight decay: confusion")
    column = [names[i][1] for i in range(3)]
    check(column == ["memorization", "grokking", "comprehension"],
          f"at lr 0.03 memorization -> grokking -> comprehension as weight decay grows: {column}")
    check(all(names[i][j] != "confusion" for i in range(3) for j in range(3) if (i, j) != (2, 2)),
          "confusion only in the high-lr, high-decay corner")


def gromov():
    r = reduced_run("gromov_p97.json",
                    {"data_fraction": [0.5], "weight_decay": [5], "init_scale": [1], "seed": 1})
    t_train, t_test = int(r["train_acc_step_99"].item()), int(r["test_acc_step_99"].item())
    print(f"Gromov: p 97, N 500: train 99% at step {t_train}, test 99% at step {t_test}")
    check(0 <= t_train < t_test <= 300, f"groks within a few hundred steps: train {t_train}, test {t_test}")


os.makedirs(WORKDIR, exist_ok=True)
power()
omnigrok()
liu()
gromov()
finish()
