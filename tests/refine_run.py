#!/usr/bin/env python3
"""A sweep with a refine section, end to end under real mpirun: the same file
(every variable but wall_seconds) on 1, 2 and 4 ranks and after kill -9 at
two moments and a resume; the coarse sub-grid always trained; every other
point either trained or recorded as inferred with a phase; and an inferred
point's phase equal to that of the corners of a cell that agrees; and the
same refinement re-run twice as fine on the finished output (the extend
path): every point trained before is kept as it was, not trained again.

usage: refine_run.py GROKSWEEP MPIEXEC SWEEP WORKDIR"""
import os
import shutil
import signal
import subprocess
import sys

import json

import h5py
import numpy as np

from harness import ENV, check, finish
from sweep_files import wait_for_records, wait_unlocked

GROKSWEEP, MPIEXEC, SWEEP, WORKDIR = sys.argv[1:5]
STRIDE = 4
INFERRED = 4


def command(out, ranks):
    args = [GROKSWEEP, "run", SWEEP, "-o", out, "--quiet"]
    return args if ranks == 1 else [MPIEXEC, "--oversubscribe", "-n", str(ranks), *args]


def load(out):
    with h5py.File(out, "r") as f:
        return {k: f[k][...] for k in f.keys() if isinstance(f[k], h5py.Dataset) and k != "wall_seconds"}


def same(a, b):
    return [k for k in a if not np.array_equal(a[k], b[k], equal_nan=True)]


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    files = {}
    for ranks in (1, 2, 4):
        out = os.path.join(WORKDIR, f"ranks{ranks}.h5")
        result = subprocess.run(command(out, ranks), env=ENV, capture_output=True, text=True, timeout=600)
        check(result.returncode == 0, f"{ranks} ranks: exit {result.returncode}: {result.stderr[-500:]}")
        files[ranks] = load(out)
    reference = files[1]
    for ranks in (2, 4):
        check(same(reference, files[ranks]) == [], f"{ranks} ranks give the 1-rank file: {same(reference, files[ranks])}")
    status, phase = reference["status"], reference["phase"]  # (data_fraction, weight_decay, init_scale, seed)
    n_inferred = int((status == INFERRED).sum())
    check(n_inferred > 0 and int((status == 1).sum()) > 0, f"both trained and inferred points: {n_inferred} inferred")
    check(((status == 1) | (status == INFERRED)).all(), "every point trained or inferred")
    coarse = status[::STRIDE, ::STRIDE]
    check((coarse == 1).all(), "the coarse sub-grid is trained")
    check(((phase > 0) | (status != INFERRED)).all(), "an inferred point has a phase")
    # a cell whose trained corners all agree (over both seeds): the inferred points strictly inside it
    # have their phase (the finest agreeing cell decides, and only this one holds its interior)
    agreeing = 0
    for stride in (STRIDE, STRIDE // 2):
        for i in range(0, status.shape[0] - 1, stride):
            for j in range(0, status.shape[1] - 1, stride):
                rows, cols = [i, i, i + stride, i + stride], [j, j + stride, j, j + stride]
                corners, trained = phase[rows, cols], status[rows, cols] == 1
                if not trained.all() or len(np.unique(corners)) != 1:
                    continue
                inside = slice(i + 1, i + stride), slice(j + 1, j + stride)
                inferred = status[inside] == INFERRED
                check((phase[inside][inferred] == corners.flat[0]).all(), f"cell {stride} at ({i}, {j}): inferred phases")
                agreeing += 1
    check(agreeing > 0, "some cell agrees")

    # kill -9 after the first points and again later, then resume: the same file
    out = os.path.join(WORKDIR, "killed.h5")
    for records in (3, 40):
        process = subprocess.Popen(command(out, 2), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        check(wait_for_records(out, records, SWEEP), f"the run journaled {records} points")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        check(wait_unlocked(out), "the killed run's lock is gone")
    result = subprocess.run(command(out, 2), env=ENV, capture_output=True, text=True, timeout=600)
    check(result.returncode == 0, f"resume: exit {result.returncode}: {result.stderr[-500:]}")
    check(same(reference, load(out)) == [], f"kill -9 twice and resume gives the same file: {same(reference, load(out))}")
    finer_later(os.path.join(WORKDIR, "ranks2.h5"))
    finish()


def midpoints(values):
    """values with the midpoint of every gap inserted: the old values stay exactly as they are."""
    out = [float(values[0])]
    for a, b in zip(values, values[1:]):
        out += [float((a + b) / 2), float(b)]
    return out


def finer_later(out):
    """Re-run a finished refinement twice as fine on its output: the old points are kept (wall_seconds too)."""
    with h5py.File(out, "r") as f:
        before = {k: f[k][...] for k in ("status", "phase", "wall_seconds", "final_test_acc")}
        axes = {name: f[name][...] for name in ("data_fraction", "weight_decay")}
    with open(SWEEP) as f:
        sweep = json.load(f)
    for name, values in axes.items():
        sweep["grid"][name] = midpoints(list(values))
    sweep["refine"]["coarse_stride"] = 2 * STRIDE
    finer = os.path.join(WORKDIR, "finer.json")
    with open(finer, "w") as f:
        json.dump(sweep, f)
    args = [MPIEXEC, "--oversubscribe", "-n", "2", GROKSWEEP, "run", finer, "-o", out, "--quiet"]
    result = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=600)
    check(result.returncode == 0, f"the finer refinement on the finished output: exit {result.returncode}: "
                                  f"{result.stderr[-500:]}")
    if result.returncode != 0:
        return
    with h5py.File(out, "r") as f:
        after = {k: f[k][...] for k in before}
    n, m = before["status"].shape[:2]
    check(after["status"].shape[:2] == (2 * n - 1, 2 * m - 1), f"the grid is twice as fine: {after['status'].shape}")
    old = {k: v[::2, ::2] for k, v in after.items()}
    trained = before["status"] == 1
    for k in before:
        check(np.array_equal(old[k][trained], before[k][trained], equal_nan=True),
              f"every point trained before keeps its {k} (kept, not trained again)")
    check(((after["status"] == 1) | (after["status"] == INFERRED)).all(), "every point of the finer grid is trained "
                                                                          "or inferred")
    new_trained = int((after["status"] == 1).sum()) - int(trained.sum())
    check(new_trained > 0, f"the finer grid trained new points near the boundaries: {new_trained}")


if __name__ == "__main__":
    main()
