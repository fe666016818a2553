"""Gromov's recipe groks, and weight decay is what makes it grok.

p = 59, N = 256, one-hot input, x^2 activation, no biases, MSE, full-batch
AdamW lr 1e-2, betas (0.9, 0.98), weight decay 1, 30% of pairs, init
N(0, sigma^2) with sigma = sqrt(0.25) / (2N)^(1/3). Expected: train accuracy
reaches 99% many times earlier than test accuracy does; with weight decay 0
test accuracy stays far below 90% within the same budget.

usage: grokking_gromov.py GROKSWEEP_BINARY
"""
import json
import os
import subprocess
import sys

from harness import check, finish

BINARY = sys.argv[1]
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweeps", "gromov_addition.json")
BUDGET = 1500
SIGMA = 0.25 ** 0.5 / (2 * 256) ** (1 / 3)


def train(weight_decay, early_stop):
    args = [BINARY, "train", CONFIG, "--set", f"optimizer.weight_decay={weight_decay}",
            "--set", f"model.init.std={SIGMA!r}", "--set", f"train.steps={BUDGET}",
            "--set", f"train.early_stop.patience={5 if early_stop else 0}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(result.stdout)


groks = train(1.0, early_stop=True)
t_train, t_test = groks["train_acc_step"]["0.99"], groks["test_acc_step"]["0.99"]
print(f"wd 1: train 99% at step {t_train}, test 99% at step {t_test}, phase {groks['phase']}")
check(0 <= t_train and 0 <= t_test, f"wd 1: both sets reach 99% within {BUDGET} steps: train {t_train}, test {t_test}")
check(t_test >= 10 * t_train, f"wd 1: test 99% at {t_test} is many times later than train 99% at {t_train}")

no_decay = train(0.0, early_stop=False)
t_train0, final_test0 = no_decay["train_acc_step"]["0.99"], no_decay["final"]["test_acc"]
print(f"wd 0: train 99% at step {t_train0}, final test accuracy {final_test0:.4f}, phase {no_decay['phase']}")
check(t_train0 >= 0, "wd 0: the training set is still memorized")
check(final_test0 < 0.5 and no_decay["test_acc_step"]["0.9"] == -1,
      f"wd 0: test accuracy stays far below 90%, reached {final_test0:.4f}")
check(no_decay["phase"] == "memorization", f"wd 0: phase memorization, got {no_decay['phase']}")
finish()
