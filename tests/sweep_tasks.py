"""A sweep of a task beyond arithmetic, end to end: a teacher-student grid over
train_size x init_scale x depth with feature ranks, run under real mpirun with
1 and 2 ranks (bit-identical results), stopped by SIGUSR1 and resumed to the
same file, read back by h5py and by xarray with both engines (named dims, the
train_size coordinate, curve_feature_rank over hidden_layer), summarized by
`groksweep report` and plotted by results/plot_phase_diagram.py.

usage: sweep_tasks.py GROKSWEEP MPIEXEC PROJECT_ROOT WORKDIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr
from harness import ENV, check, finish
from sweep_files import same_points, wait_for_records

GROKSWEEP, MPIEXEC, ROOT, WORKDIR = sys.argv[1:5]

SWEEP = {
    "task": {"kind": "teacher_student", "test_size": 40, "input_dim": 4, "output_dim": 3, "teacher_width": 12},
    "model": {"width": 12, "activation": "tanh"},
    "train": {"steps": 30000, "eval_every": 10000, "feature_rank": True, "feature_rank_samples": 30},
    "grid": {"train_size": [10, 30], "weight_decay": [0.1], "init_scale": [0.5, 2], "model.depth": [1, 3],
             "seed": 1},
}


SWEEP_PATH = os.path.join(WORKDIR, "sweep.json")


def command(ranks, out):
    return [MPIEXEC, "-n", str(ranks), GROKSWEEP, "run", SWEEP_PATH, "-o", out, "--quiet"]


def run_sweep(ranks, out):
    result = subprocess.run(command(ranks, out), env=ENV, capture_output=True, text=True, timeout=600)
    check(result.returncode == 0, f"{ranks} ranks: exit 0, got {result.returncode}: {result.stderr[-400:]}")


def variables(path):
    with h5py.File(path, "r") as f:
        return {key: f[key][...] for key in f if isinstance(f[key], h5py.Dataset) and key != "wall_seconds"}


def same_results():
    one, two = os.path.join(WORKDIR, "one.h5"), os.path.join(WORKDIR, "two.h5")
    run_sweep(1, one)
    run_sweep(2, two)
    a, b = variables(one), variables(two)
    check(sorted(a) == sorted(b), "the same variables from 1 and 2 ranks")
    differing = [k for k in a if k in b and not np.array_equal(a[k], b[k], equal_nan=True)]
    check(not differing, f"1 and 2 ranks give bit-identical results: {differing}")
    return two


def stopped_and_resumed(reference):
    out = os.path.join(WORKDIR, "stopped.h5")
    process = subprocess.Popen(command(2, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    check(wait_for_records(out, 2, SWEEP_PATH), "the sweep journaled two points")
    process.send_signal(signal.SIGUSR1)  # as Slurm sends before the time limit, through mpirun
    _, stderr = process.communicate(timeout=120)
    check(process.returncode == 3, f"SIGUSR1: exit status 3 (resumable), got {process.returncode}: {stderr}")
    with h5py.File(out, "r") as f:
        done = int((f["status"][...] > 0).sum())
    check(0 < done < 8, f"a partial file: {done} of 8 points done")
    run_sweep(2, out)
    same_points(reference, out, "SIGUSR1 and resume vs uninterrupted")
    with h5py.File(reference, "r") as a, h5py.File(out, "r") as b:
        check(np.array_equal(a["curve_feature_rank"][...], b["curve_feature_rank"][...], equal_nan=True),
              "SIGUSR1 and resume: the same feature ranks")


def readers(path):
    with h5py.File(path, "r") as f:
        check(list(f["train_size"][...]) == [10, 30] and f["train_size"].dtype.kind == "i",
              "train_size is an integer coordinate")
        ranks = f["curve_feature_rank"]
        check(ranks.shape == (2, 1, 2, 2, 1, 3, 4), f"curve_feature_rank (axes..., hidden_layer, eval_step): "
                                                      f"{ranks.shape}")
        check(list(f["hidden_layer"][...]) == [1, 2, 3], "hidden_layer coordinate 1..3")
        values = ranks[...]
        shallow, deep = values[:, :, :, 0], values[:, :, :, 1]
        check(np.isfinite(shallow[..., 0, :]).all() and np.isnan(shallow[..., 1:, :]).all(),
              "depth 1: one rank series, NaN for layers 2 and 3")
        check(np.isfinite(deep).all() and (deep >= 1).all() and (deep <= 12).all(),
              "depth 3: ranks in [1, width] for every layer and evaluation")
        check(f["curve_feature_rank"].attrs["long_name"], "curve_feature_rank has a long_name")
    for engine in ("h5netcdf", "netcdf4"):
        with xr.open_dataset(path, engine=engine) as ds:
            da = ds["curve_feature_rank"]
            check(da.dims == ("train_size", "weight_decay", "init_scale", "depth", "seed", "hidden_layer",
                              "eval_step"), f"{engine}: named dims {da.dims}")
            rank = da.sel(train_size=30, init_scale=2, depth=3, hidden_layer=2).isel(weight_decay=0, seed=0)
            check(rank.shape == (4,) and np.isfinite(rank.values).all(), f"{engine}: select one layer's curve")
            check(ds["final_test_acc"].sel(train_size=10).shape == (1, 2, 2, 1), f"{engine}: select by train_size")


def report(path):
    result = subprocess.run([GROKSWEEP, "report", path, "--no-color"], env=ENV, capture_output=True, text=True,
                            timeout=60)
    check(result.returncode == 0, f"report exits 0: {result.stderr}")
    check("teacher-student regression" in result.stdout, "report names the task")
    check("init_scale" in result.stdout and "train_size" in result.stdout,
          "report maps init_scale x train_size when weight_decay has one value")


def plots(path):
    outdir = os.path.join(WORKDIR, "figures")
    result = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "results", "plot_phase_diagram.py"), path,
                             "-o", outdir], env=dict(ENV, MPLBACKEND="Agg"), capture_output=True, text=True,
                            timeout=300)
    check(result.returncode == 0, f"plot exits 0: {result.stderr[-400:]}")
    for name in ("phase_init_scale_train_size.png", "feature_rank.png", "curves_by_phase.png",
                 "loss_vs_weight_norm.png"):
        png = os.path.join(outdir, name)
        check(os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f"{name} is a PNG")


shutil.rmtree(WORKDIR, ignore_errors=True)
os.makedirs(WORKDIR)
with open(SWEEP_PATH, "w") as f:
    json.dump(SWEEP, f)
out = same_results()
stopped_and_resumed(out)
readers(out)
report(out)
plots(out)
finish()
