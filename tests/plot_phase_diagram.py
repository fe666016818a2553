"""results/plot_phase_diagram.py on the output of a real small sweep.

usage: plot_phase_diagram.py GROKSWEEP WORKDIR

- A sweep derived from data/sweep_tiny.json (data fraction, weight decay and
  init scale with 2-3 values, 2 seeds, 2 learning rates) runs with
  `groksweep run` and the script writes every figure as a valid PNG.
- A file without the init_scale axis (and a single seed) skips the init scale
  maps with a note and still writes the other figures.
- A file of a sweep in progress (points not run, one diverged), held open for
  writing by another process, still plots.
- A missing file, an HDF5 file that is not a sweep's and a file that is not
  HDF5 get one line on stderr and exit status 2.
"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
from harness import ENV, check, finish  # noqa: E402

GROKSWEEP, WORKDIR = sys.argv[1:3]
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "results", "plot_phase_diagram.py")
TINY = os.path.join(HERE, "data", "sweep_tiny.json")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAPS = ["data_fraction_weight_decay", "init_scale_weight_decay"]
ALL_FIGURES = ([f"phase_{m}.png" for m in MAPS] + [f"delay_{m}.png" for m in MAPS]
               + ["curves_by_phase.png", "loss_vs_weight_norm.png"])


def plot(h5, outdir):
    return subprocess.run([sys.executable, SCRIPT, h5, "-o", outdir], env=ENV, capture_output=True, text=True,
                          timeout=300)


def check_png(path):
    """A PNG that matplotlib reads, of a plausible size and not blank."""
    name = os.path.basename(path)
    if not os.path.isfile(path):
        check(False, f"{name} was not written")
        return
    with open(path, "rb") as fh:
        check(fh.read(8) == PNG_SIGNATURE, f"{name} has the PNG signature")
    image = matplotlib.image.imread(path)
    h, w = image.shape[:2]
    check(image.ndim == 3 and image.shape[2] in (3, 4), f"{name} is an RGB(A) image: shape {image.shape}")
    check(200 <= h <= 6000 and 300 <= w <= 8000, f"{name} has a plausible size: {w}x{h}")
    check(float(image[..., :3].std()) > 0.05, f"{name} is not blank")


def check_plot_run(result, outdir, expected, what):
    check(result.returncode == 0, f"{what}: exit 0, got {result.returncode}: {result.stderr.strip()}")
    listed = result.stdout.split()
    for name in expected:
        path = os.path.join(outdir, name)
        check(path in listed, f"{what}: {name} is listed on stdout: {listed}")
        check_png(path)


def derived_sweep():
    """sweep_tiny.json on a larger task, long enough for all four phases to appear."""
    with open(TINY) as fh:
        sweep = json.load(fh)
    sweep["task"]["p"] = 23
    sweep["model"]["width"] = 64
    sweep["train"].update(steps=600, eval_every=20)
    sweep["grid"].update(weight_decay=[0, 0.3, 10], init_scale=[1, 3], seed=2)
    assert all(len(sweep["grid"][k]) >= 2 for k in ("data_fraction", "weight_decay", "init_scale"))
    return sweep


def axis_names(f):
    return [d.keys()[0] for d in f["status"].dims]


def subset(src, dst, axis, keep_dim):
    """A copy of src with only the first value of `axis`, as a length-1 axis or without it."""
    with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
        for key, value in f.attrs.items():
            g.attrs[key] = value
        names = axis_names(f)
        k = names.index(axis)
        kept = [n for n in names if keep_dim or n != axis]
        for name in kept + ["eval_step"]:
            g[name] = f[name][:1] if name == axis else f[name][...]
            g[name].make_scale(name)
        for name, ds in f.items():
            if name in names or name == "eval_step":
                continue
            index = [slice(None)] * ds.ndim
            index[k] = slice(0, 1) if keep_dim else 0
            g[name] = ds[tuple(index)]
            dims = kept + (["eval_step"] if ds.ndim > len(names) else [])
            for i, dim in enumerate(dims):
                g[name].dims[i].attach_scale(g[dim])


def make_partial(path):
    """Mark points as a running sweep leaves them: not run (all seeds of one cell, one seed of
    another), and one diverged."""
    with h5py.File(path, "r+") as f:
        names = axis_names(f)
        status, phase = f["status"][...], f["phase"][...]

        def point(**at):
            return tuple(at.get(n, 0) for n in names)

        not_run = [point(data_fraction=0, weight_decay=0, seed=0), point(data_fraction=0, weight_decay=0, seed=1),
                   point(data_fraction=1, weight_decay=1, seed=1)]
        for p in not_run:
            status[p], phase[p] = 0, 0
            for name, ds in f.items():
                if name.startswith(("final_", "curve_")) or name == "wall_seconds":
                    ds[p] = np.nan
                elif name.startswith(("train_acc_step_", "test_acc_step_")):
                    ds[p] = -1
        diverged = point(data_fraction=1, weight_decay=2, seed=0)
        status[diverged], phase[diverged] = 2, 0
        f["status"][...], f["phase"][...] = status, phase


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    sweep_path = os.path.join(WORKDIR, "sweep.json")
    with open(sweep_path, "w") as fh:
        json.dump(derived_sweep(), fh, indent=1)
    out = os.path.join(WORKDIR, "out.h5")
    run = subprocess.run([GROKSWEEP, "run", sweep_path, "-o", out, "--quiet"], env=ENV, capture_output=True,
                         text=True, timeout=600)
    check(run.returncode == 0, f"groksweep run: exit 0, got {run.returncode}: {run.stderr.strip()}")
    if run.returncode != 0:
        return

    # The whole sweep: every figure.
    outdir = os.path.join(WORKDIR, "plots")
    check_plot_run(plot(out, outdir), outdir, ALL_FIGURES, "full sweep")

    # No init_scale axis, one seed: the init scale maps are skipped, the rest drawn.
    reduced = os.path.join(WORKDIR, "no_init_scale.h5")
    subset(out, reduced, "init_scale", keep_dim=False)
    one_seed = os.path.join(WORKDIR, "no_init_scale_one_seed.h5")
    subset(reduced, one_seed, "seed", keep_dim=True)
    outdir = os.path.join(WORKDIR, "plots_no_init_scale")
    result = plot(one_seed, outdir)
    expected = [f for f in ALL_FIGURES if "init_scale" not in f]
    check_plot_run(result, outdir, expected, "no init_scale axis")
    for name in ALL_FIGURES:
        if name not in expected:
            check(not os.path.exists(os.path.join(outdir, name)), f"no init_scale axis: {name} not written")
            check(f"skipping {name}: the file has no init_scale axis" in result.stderr,
                  f"no init_scale axis: a note on skipping {name}: {result.stderr.strip()}")

    # A sweep in progress whose file another process holds open for writing.
    partial = os.path.join(WORKDIR, "partial.h5")
    shutil.copy(out, partial)
    make_partial(partial)
    outdir = os.path.join(WORKDIR, "plots_partial")
    with h5py.File(partial, "r+"):
        result = plot(partial, outdir)
    check_plot_run(result, outdir, [f for f in ALL_FIGURES if f.startswith("phase_")], "sweep in progress")

    # Bad input: one line, exit 2.
    foreign = os.path.join(WORKDIR, "foreign.h5")
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    text_file = os.path.join(WORKDIR, "not_hdf5.h5")
    with open(text_file, "w") as fh:
        fh.write("not an HDF5 file\n")
    for path, words in ((os.path.join(WORKDIR, "missing.h5"), "no such file"),
                        (foreign, "not a groksweep sweep file"), (text_file, "not a readable HDF5 file")):
        result = plot(path, os.path.join(WORKDIR, "plots_bad"))
        lines = result.stderr.strip().splitlines()
        name = os.path.basename(path)
        check(result.returncode == 2, f"{name}: exit 2, got {result.returncode}")
        check(len(lines) == 1 and words in lines[0], f"{name}: one line saying {words!r}: {lines}")
    check(not os.path.exists(os.path.join(WORKDIR, "plots_bad")), "bad input: no output directory made")

    result = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True, timeout=60)
    check(result.returncode == 0 and "OUT.h5" in result.stdout and "phase_data_fraction_weight_decay.png"
          in result.stdout, "--help documents the usage and the files")


main()
finish()
