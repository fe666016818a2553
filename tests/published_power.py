"""The observations of Power et al. 2022 and Miller et al. 2024 that the shipped
sweeps reproduce, checked on reduced grids of those same sweep files.

usage: published_power.py GROKSWEEP MPIEXEC PROJECT_ROOT WORKDIR

- Power et al., S5 (sweeps/power_s5.json): composition of permutations of 5
  elements is learned; the steps to 99% validation accuracy grow as the
  training fraction falls, and a small fraction memorizes within the budget.
- Power et al., operations (sweeps/power_operations.json): at 40% data x+y
  and x^2+y^2 generalize while x^3+xy^2+y does not; at 25% the symmetric
  x^2+y^2 still generalizes, x+y no longer does.
- Miller et al. (sweeps/miller_concealment.json): the delay between 95% train
  and 95% test accuracy grows with the number k of concealed random bits.
"""
import sys

import numpy as np
from harness import check, finish
from reduced_sweeps import PHASES, ReducedSweeps

GROKSWEEP, MPIEXEC, ROOT, WORKDIR = sys.argv[1:5]
SWEEPS = ReducedSweeps(GROKSWEEP, MPIEXEC, ROOT, WORKDIR)
MISSING_DELAY = -2147483647  # grokking_delay_95's fill value: a crossing never reached


def power_s5():
    r = SWEEPS.run("power_s5.json", {"data_fraction": [0.3, 0.6, 0.8], "weight_decay": [1], "init_scale": [0.5],
                                     "seed": 1}, steps=6000)
    test99, train99, test = r["test_acc_step_99"], r["train_acc_step_99"], r["final_test_acc"]
    phases = [PHASES[int(p)] for p in r["phase"]]
    print(f"Power S5 x.y: data fraction 0.3, 0.6, 0.8 -> train 99% at {train99.tolist()}, test 99% at "
          f"{test99.tolist()}, final test accuracy {np.round(test, 3).tolist()}, phases {phases}")
    check(test99[2] > 0 and test99[1] > test99[2], f"S5 is learned, later with less data: {test99[1:].tolist()}")
    check(test99[1] >= 2 * max(train99[1], 100), "at 60% data the validation set is learned long after the training set")
    check(train99[0] > 0 and test[0] < 0.1 and phases[0] == "memorization",
          f"30% data memorizes within the budget: train 99% at {train99[0]}, test {test[0]:.3f}")


def power_operations():
    ops = ["x+y", "x^2+y^2", "x^3+xy^2+y"]
    r = SWEEPS.run("power_operations.json", {"task.op": ops, "data_fraction": [0.25, 0.4], "weight_decay": [1],
                                             "init_scale": [0.5], "seed": 1}, steps=4500)
    test = r["final_test_acc"]  # op x data_fraction
    print("Power operations: final test accuracy at 25% and 40% data:",
          {op: np.round(test[i], 3).tolist() for i, op in enumerate(ops)})
    check(test[0, 1] >= 0.99 and test[1, 1] >= 0.99, "40% data: x+y and x^2+y^2 generalize")
    check(test[2, 1] < 0.1 and test[2, 0] < 0.1, "x^3+xy^2+y does not generalize")
    check(test[1, 0] >= 0.5 and test[0, 0] < 0.1, "25% data: the symmetric x^2+y^2 generalizes, x+y does not")


def miller_concealment():
    r = SWEEPS.run("miller_concealment.json", {"task.concealed_bits": [0, 10, 20, 30, 40], "data_fraction": [0.75],
                                               "weight_decay": [0.01], "init_scale": [1], "seed": 2})
    delay, train95 = r["grokking_delay_95"], r["train_acc_step_95"]  # k x seed
    reached = np.where(delay == MISSING_DELAY, np.nan, delay)
    median = np.nanmedian(reached, axis=1)
    print(f"Miller concealment: k = 0, 10, 20, 30, 40 -> 95% train-to-test delay per seed {delay.tolist()}, "
          f"median {median.tolist()}")
    check((train95 > 0).all(), "every run fits its training set to 95%")
    check(np.all(np.diff(median) > 0), f"the median delay grows with k: {median.tolist()}")
    check(median[4] >= 10 * max(median[0], 50), "40 concealed bits delay generalization at least 10x longer than 0")


power_s5()
power_operations()
miller_concealment()
finish()
