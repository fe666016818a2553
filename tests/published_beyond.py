"""The published observations beyond modular arithmetic that the shipped
sweeps reproduce, checked on reduced grids (fewer points, fewer steps) of those
same sweep files.

usage: published_beyond.py GROKSWEEP MPIEXEC PROJECT_ROOT WORKDIR

- Omnigrok, MNIST (sweeps/omnigrok_mnist.json, real MNIST digits): with
  alpha = 8 the training set is fit long before test accuracy rises, and the
  weight norm falls as it does; with alpha = 1 the model generalizes at once.
- Omnigrok, teacher-student (sweeps/omnigrok_teacher_student.json): train
  accuracy reaches 0.99 early, test accuracy much later.
- Omnigrok, LU mechanism (sweeps/omnigrok_lu.json): at a fixed weight norm,
  final train loss falls and stays low as alpha grows (L); test loss is
  lowest near alpha = 1 and orders of magnitude higher at alpha = 10 (U).
- Omnigrok, images at a fixed norm (sweeps/omnigrok_lu_images.json,
  Fashion-MNIST): A (alpha 1, N 140) generalizes; B (alpha 6.3, N 140)
  memorizes ("grokking" region); C (alpha 6.3, N 7200) generalizes again
  ("de-grokking").
- Carvalho et al. 2025 (sweeps/carvalho_shift.json): balanced data
  generalizes at once; dataset 1 without the down-weighted subclasses (f = 0)
  stalls; a small f generalizes late; dataset 2 generalizes even at f = 0.
- Fan et al. 2024 (sweeps/deep_grokking.json): deeper MLPs generalize later,
  and every hidden layer's feature rank is recorded.
"""
import sys

import numpy as np
from harness import check, finish
from reduced_sweeps import PHASES, ReducedSweeps, at_step, first_step

GROKSWEEP, MPIEXEC, ROOT, WORKDIR = sys.argv[1:5]
SWEEPS = ReducedSweeps(GROKSWEEP, MPIEXEC, ROOT, WORKDIR)
start_run, finish_run, reduced_run = SWEEPS.start, SWEEPS.finish, SWEEPS.run


def omnigrok_mnist():
    r = reduced_run("omnigrok_mnist.json", {"train_size": [1000], "weight_decay": [0.1], "init_scale": [1, 8],
                                            "seed": 1}, steps=12000, eval_every=250)
    steps, test, norm = r["eval_step"], r["curve_test_acc"], r["curve_weight_norm"]
    phase = [PHASES[p] for p in r["phase"]]
    fit = int(r["train_acc_step_99"][1])
    print(f"Omnigrok MNIST: alpha 1, 8 -> phases {phase}; alpha 8: train 99% at step {fit}, test "
          f"{at_step(test[1], steps, fit) if fit >= 0 else float('nan'):.3f} then, {test[1][-1]:.3f} at step "
          f"{steps[-1]}; weight norm {norm[1][0]:.1f} -> {norm[1][-1]:.1f}; alpha 1: test "
          f"{at_step(test[0], steps, 1000):.3f} at step 1000")
    check(0 < fit <= 3000, f"alpha 8 fits the training set within a few thousand steps: {fit}")
    check(fit > 0 and at_step(test[1], steps, fit) < 0.4, "alpha 8: test accuracy still low when the train set is fit")
    check(test[1][-1] >= 0.8, f"alpha 8: test accuracy rises long after, to >= 0.8: {test[1][-1]:.3f}")
    check(first_step(test[1], steps, 0.5) >= 2 * fit, "alpha 8: test 50% at least twice as late as train 99%")
    check(norm[1][-1] < 0.5 * norm[1][0], "alpha 8: the weight norm falls as test accuracy rises")
    check(phase[1] == "grokking", f"alpha 8 is grokking: {phase[1]}")
    check(at_step(test[0], steps, 1000) >= 0.85 and phase[0] == "comprehension",
          f"alpha 1 generalizes without the delay: {phase[0]}")


def omnigrok_teacher_student():
    r = reduced_run("omnigrok_teacher_student.json", {"train_size": [100], "weight_decay": [0.05],
                                                      "init_scale": [2], "seed": 1}, steps=50000)
    steps, test = r["eval_step"], r["curve_test_acc"]
    train99, test99 = int(r["train_acc_step_99"]), int(r["test_acc_step_99"])
    print(f"Omnigrok teacher-student: train 99% at step {train99}, test 99% at step {test99}; test accuracy "
          f"{at_step(test, steps, 5000):.2f} at 5k, {at_step(test, steps, 15000):.2f} at 15k")
    check(0 <= train99 <= 2000, f"train accuracy 0.99 early: {train99}")
    check(test99 >= 10 * max(train99, 500), f"test accuracy 0.99 much later: {test99}")
    check(at_step(test, steps, 5000) < 0.6, "test accuracy still below 0.6 at step 5000")
    check(PHASES[int(r["phase"])] == "grokking", f"phase grokking: {PHASES[int(r['phase'])]}")


def omnigrok_lu():
    r = reduced_run("omnigrok_lu.json", {"train_size": [100], "weight_decay": [0],
                                         "init_scale": {"logspace": [-1, 1, 5]}, "seed": 1})
    alpha, train, test = r["init_scale"], r["final_train_loss"], r["final_test_loss"]
    norm = r["curve_weight_norm"]
    print("Omnigrok LU: alpha", [f"{a:.3g}" for a in alpha], "final train loss",
          [f"{x:.2g}" for x in train], "test loss", [f"{x:.2g}" for x in test])
    # L: high at the smallest alpha, then down to "≈ 0" (float32 round-off of a fit training set, whose
    # exact size differs between OpenBLAS kernels) from alpha = 1 on, and staying there
    low = 1e-4
    fitted = [i for i, a in enumerate(alpha) if a >= 1 - 1e-9]
    check(train[0] >= 1e-3 and all(train[i] < low for i in fitted) and train[-1] < 1e-6,
          "train loss falls and stays low as alpha grows (L)")
    best = int(np.argmin(test))
    check(0.3 <= alpha[best] <= 3.2, f"test loss lowest near alpha = 1 (at {alpha[best]:.3g})")
    check(test[-1] >= 1e3 * test[best] and test[0] >= 10 * test[best],
          "test loss orders of magnitude higher at alpha = 10, and higher at 0.1 (U)")
    drift = np.max(np.abs(norm / norm[:, :1] - 1))
    check(drift < 1e-5, f"the weight norm stays at its initial value: largest drift {drift:.2g}")


def omnigrok_lu_images():
    r = reduced_run("omnigrok_lu_images.json", {"train_size": [140, 7200], "weight_decay": [0],
                                                "init_scale": [1, 6.3], "seed": 1}, steps=4000)
    test, train = r["final_test_acc"], r["final_train_acc"]  # train_size x init_scale
    a, b, c = test[0, 0], test[0, 1], test[1, 1]
    print(f"Omnigrok images at a fixed norm: test accuracy A (alpha 1, N 140) {a:.3f}, B (alpha 6.3, N 140) "
          f"{b:.3f} with train {train[0, 1]:.3f}, C (alpha 6.3, N 7200) {c:.3f}")
    check(train[0, 1] >= 0.99 and b <= a - 0.3, "A -> B: a larger norm memorizes the small training set (grokking)")
    check(c >= b + 0.3, "B -> C: more data generalizes at the same norm (de-grokking)")


def carvalho():
    common = {"weight_decay": [0.03], "init_scale": [4], "seed": 1}
    small = reduced_run("carvalho_shift.json", {"task.dataset": [1], "task.imbalance": [0, 0.05, 1],
                                                "train_size": [400], **common}, label="carvalho_dataset1")
    other = start_run("carvalho_shift.json", {"task.dataset": [2], "task.imbalance": [0], "train_size": [400],
                                              **common}, label="carvalho_dataset2", ranks=1)
    dense = start_run("carvalho_shift.json", {"task.dataset": [1], "task.imbalance": [0.01],
                                              "train_size": [1600], **common}, label="carvalho_dense", ranks=1)
    other, dense = finish_run(other), finish_run(dense)
    steps, test = small["eval_step"], small["curve_test_acc"]
    phase = [PHASES[p] for p in small["phase"]]
    t85 = [first_step(t, steps, 0.85) for t in test]  # the sweep's phase threshold
    dense_test = dense["curve_test_acc"]
    print(f"Carvalho dataset 1, N 400, f = 0, 0.05, 1: phases {phase}, test 85% at {t85}, final test "
          f"{[round(float(x), 3) for x in small['final_test_acc']]}; dataset 2, f = 0: "
          f"{PHASES[int(other['phase'])]}, final test {float(other['final_test_acc']):.3f}; dataset 1, N 1600, "
          f"f = 0.01: {PHASES[int(dense['phase'])]}, test {at_step(dense_test, steps, 1000):.3f} at step 1000, "
          f"{dense_test[-1]:.3f} at the end")
    check(phase[2] == "comprehension" and 0 <= t85[2] <= 1000, "balanced data generalizes without a long delay")
    check(test[0][-1] < 0.75 and phase[0] == "memorization", "dataset 1 without half its subclasses (f = 0) stalls")
    check(phase[1] == "grokking" and t85[1] >= 3000 and test[1][-1] - at_step(test[1], steps, 1000) >= 0.05,
          "f = 0.05 generalizes late")
    check(dense_test[-1] - at_step(dense_test, steps, 1000) >= 0.02 and dense_test[-1] < test[2][-1] - 0.05,
          "at N = 1600 a small f (0.01) still generalizes late, below balanced data")
    check(PHASES[int(other["phase"])] == "comprehension", "dataset 2 generalizes even at f = 0")


def deep_grokking():
    r = reduced_run("deep_grokking.json", {"model.depth": [4, 8, 12], "train_size": [1000], "weight_decay": [0.1],
                                           "init_scale": [3], "seed": 1}, steps=8000)
    steps, test, ranks = r["eval_step"], r["curve_test_acc"], r["curve_feature_rank"]
    mid = [at_step(t, steps, 2400) for t in test]
    late = [first_step(t, steps, 0.8) for t in test]
    print(f"Deep grokking: depth 4, 8, 12 -> test accuracy at step 2400 {[round(x, 3) for x in mid]}, "
          f"first step at 80% {late}; final feature ranks of depth 12: {ranks[2][:, -1].tolist()}")
    check(mid[0] > mid[1] > mid[2], "deeper networks generalize later (test accuracy at step 2400)")
    check(0 < late[0] < late[1] < late[2], "deeper networks reach 80% test accuracy later")
    check(ranks.shape == (3, 12, len(steps)), f"feature ranks: (depth, hidden_layer, eval_step) {ranks.shape}")
    for d, depth in enumerate((4, 8, 12)):
        recorded = ranks[d, :depth]
        check(np.isfinite(recorded).all() and (recorded >= 1).all() and (recorded <= 100).all(),
              f"depth {depth}: a rank in [1, 100] for every layer and evaluation")
        check(np.isnan(ranks[d, depth:]).all(), f"depth {depth}: NaN for the layers it does not have")


omnigrok_mnist()
omnigrok_teacher_student()
omnigrok_lu()
omnigrok_lu_images()
carvalho()
deep_grokking()
finish()
