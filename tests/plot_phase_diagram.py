"""results/plot_phase_diagram.py on the output of a real small sweep.

usage: plot_phase_diagram.py GROKSWEEP WORKDIR

- A sweep derived from data/sweep_tiny.json (data fraction, weight decay and
  init scale with 2-3 values, 2 seeds, 2 learning rates) runs with
  `groksweep run` and the script writes every figure as a valid PNG, and with
  --format pdf as valid PDFs of the same stems.
- A file without the init_scale axis (and a single seed) skips the init scale
  maps with a note and still writes the other figures, as PNG and, with
  --format svg, as SVG documents.
- A file of a sweep in progress (points not run, one diverged), held open for
  writing by another process, still plots.
- A copy with inferred points (status 4, its cell's phase, every other value
  missing), every seed of one cell and one seed of another: the phase map
  draws the first cell in a lighter, dotted shade of its phase with a legend
  entry "inferred (not trained)", the second as its trained seed; the delay
  map leaves them out and says so; the titles count them.
- A missing file, an HDF5 file that is not a sweep's, a file that is not HDF5
  and bad flags (an unknown --format, a --dpi that is not a number) get one
  line on stderr and exit status 2.
- The figures themselves, built by the script's functions on the same files:
  the curves figure has a log-scale loss axis beside each accuracy axis; with
  2 seeds its lines are the median over the seeds of a grid cell, with a
  min-max band, and with one seed there is no band; the loss-vs-weight-norm
  points and trajectories have the colours of their phases, the phase maps'
  colours; the delay maps write compact numbers that fit their cells at
  5-7 points printed 3.4 inches wide, smaller on a 6 x 10 grid and none on a
  30 x 40 grid (files in the output format written here, too big to run).
- A sweep over the string axis task.op x data fraction (2 seeds), which none of
  the default planes fits: the plane op x data_fraction is drawn, ops as ticks
  in grid order; --plane data_fraction,op draws that plane instead; bad --plane
  values (an unknown axis, the same axis twice, a single-valued axis, not two
  names) get one line naming --plane, the value and the allowed axes, exit 2
  and write nothing. Its subsets with one axis of several values (op, a string
  axis; data fraction, a numeric one) get the 1-D delay figure, one marker per
  seed that reached 90% and the median line, from grokking_delay_90.
"""
import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from harness import ENV, check, finish  # noqa: E402

GROKSWEEP, WORKDIR = sys.argv[1:3]
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "results", "plot_phase_diagram.py")
TINY = os.path.join(HERE, "data", "sweep_tiny.json")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
MAPS = ["data_fraction_weight_decay", "init_scale_weight_decay"]
ALL_FIGURES = ([f"phase_{m}.png" for m in MAPS] + [f"delay_{m}.png" for m in MAPS]
               + ["curves_by_phase.png", "loss_vs_weight_norm.png"])
PHASE_NAMES = {1: "comprehension", 2: "grokking", 3: "memorization", 4: "confusion"}


def plot(h5, outdir, *flags):
    return subprocess.run([sys.executable, SCRIPT, h5, "-o", outdir, *flags], env=ENV, capture_output=True,
                          text=True, timeout=300)


def as_format(names, ext):
    return [name[:-len(".png")] + "." + ext for name in names]


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


def check_pdf(path):
    """A one-page PDF document: the signature, a page, the end-of-file marker."""
    name = os.path.basename(path)
    if not check(os.path.isfile(path), f"{name} was written"):
        return
    with open(path, "rb") as fh:
        data = fh.read()
    check(data.startswith(b"%PDF-"), f"{name} has the PDF signature: {data[:8]!r}")
    check(data.rstrip().endswith(b"%%EOF"), f"{name} ends with %%EOF")
    check(data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 1, f"{name} has one page")
    check(len(data) > 5000, f"{name} has content: {len(data)} bytes")


def check_svg(path):
    """An XML document whose root is an <svg> element of a plausible size, with drawn paths."""
    name = os.path.basename(path)
    if not check(os.path.isfile(path), f"{name} was written"):
        return
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, f"{name} is XML: {e}")
        return
    check(root.tag == SVG_ROOT, f"{name} has an <svg> root element: {root.tag}")
    width = float(root.get("width", "0").rstrip("pt"))
    check(150 <= width <= 3000, f"{name} has a plausible width: {root.get('width')}")
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    check(len(paths) > 20, f"{name} draws paths: {len(paths)}")


CHECKS = {"png": check_png, "pdf": check_pdf, "svg": check_svg}


def check_plot_run(result, outdir, expected, what, fmt="png"):
    """Exit 0; the expected figures (named with fmt's extension) listed on stdout, written and
    valid files of that format; only files of that format listed and written."""
    expected = as_format(expected, fmt)
    check(result.returncode == 0, f"{what}: exit 0, got {result.returncode}: {result.stderr.strip()}")
    listed = result.stdout.split()
    for name in expected:
        path = os.path.join(outdir, name)
        check(path in listed, f"{what}: {name} is listed on stdout: {listed}")
        CHECKS[fmt](path)
    check(all(p.endswith("." + fmt) for p in listed), f"{what}: only .{fmt} files listed: {listed}")
    if os.path.isdir(outdir):
        others = [n for n in os.listdir(outdir) if not n.endswith("." + fmt)]
        check(not others, f"{what}: only .{fmt} files written: {others}")
    return listed


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


def ops_sweep():
    """sweep_tiny.json over task.op x data fraction (given out of order) with 2 seeds, every
    other axis single-valued."""
    with open(TINY) as fh:
        sweep = json.load(fh)
    sweep["train"].update(steps=300)
    sweep["grid"] = {"task.op": ["x+y", "x-y"], "data_fraction": [0.7, 0.3], "weight_decay": [1],
                     "init_scale": [1], "seed": 2}
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


INFERRED_CELL = dict(data_fraction=1, weight_decay=0)  # every seed inferred
INFERRED_SEED = dict(data_fraction=0, weight_decay=1, seed=1)  # one seed inferred, the other trained


def make_inferred(path):
    """Mark points as adaptive refinement leaves them: inferred (status 4) with the phase of
    their cell (grokking here), every other variable at its fill value, as groksweep writes them.
    Returns the inferred cell's (y, x) = (data_fraction, weight_decay) index."""
    with h5py.File(path, "r+") as f:
        names = axis_names(f)
        status, phase = f["status"][...], f["phase"][...]
        points = []
        for index in np.ndindex(status.shape):
            at = dict(zip(names, index))
            if all(at[k] == v for k, v in INFERRED_CELL.items()) or all(at[k] == v for k, v in INFERRED_SEED.items()):
                points.append(index)
        for p in points:
            status[p], phase[p] = 4, 2
            for name, ds in f.items():
                if name in names or name in ("status", "phase", "eval_step", "hidden_layer"):
                    continue
                fill = ds.attrs.get("_FillValue", np.nan)
                ds[p] = np.asarray(fill).ravel()[0]
        f["status"][...], f["phase"][...] = status, phase
    return INFERRED_CELL["data_fraction"], INFERRED_CELL["weight_decay"]


def check_inferred(P, path):
    """The phase map draws inferred cells apart; the delay map leaves inferred points out."""
    cell = make_inferred(path)
    outdir = os.path.join(WORKDIR, "plots_inferred")
    result = plot(path, outdir)
    check_plot_run(result, outdir, [f for f in ALL_FIGURES if f.startswith(("phase_", "delay_"))], "inferred points")
    check("inferred points (not trained) have no delay, left out" in result.stderr,
          f"inferred points: the delay maps say they are left out: {result.stderr.strip()}")
    S = P.Sweep(P.open_sweep(path), path)
    try:
        fig = P.phase_map(S, "data_fraction", "weight_decay")
        check("inferred (not trained)" in legend_texts(fig) and "not run" not in legend_texts(fig),
              f"phase map: a legend entry for inferred, none for not run: {legend_texts(fig)}")
        entry = [h for lg in fig.legends for h, t in zip(getattr(lg, "legend_handles", None) or lg.legendHandles,
                                                         lg.get_texts()) if t.get_text() == "inferred (not trained)"]
        check(entry and entry[0].get_hatch() == P.INFERRED_HATCH, "phase map: the inferred legend entry is hatched")
        patches = [(ax, r) for ax in fig.axes for r in ax.patches if r.get_gid() == "inferred"]
        n_panels = len([ax for ax in fig.axes if ax.get_visible() and ax.images])
        check(len(patches) == n_panels, f"phase map: one inferred cell per panel: {len(patches)} in {n_panels}")
        grokking = np.array(P.to_rgb(P.CATEGORIES[P.GROKKING][1]))
        for ax, r in patches:
            face = np.array(r.get_facecolor()[:3])
            check(r.get_xy() == (cell[1] - 0.5, cell[0] - 0.5), f"phase map: inferred patch at {r.get_xy()}")
            check(r.get_hatch() == P.INFERRED_HATCH and face.sum() > grokking.sum() and
                  np.allclose(face, grokking + (1 - grokking) * P.INFERRED_LIGHTEN),
                  f"phase map: inferred cell hatched, grokking's colour lightened: {face}")
        top = P.majority(S.code, S.names)[0]
        names = [n for n in S.names if n != "seed"]
        at = tuple(INFERRED_SEED.get(n, 0) for n in names)
        check(top[at] not in (P.NOT_RUN, P.INFERRED), f"a cell with a trained seed shows that seed: {top[at]}")
        check("inferred (not trained)" in fig._suptitle.get_text(), f"phase map title counts inferred points")
        fig = P.delay_map(S, "data_fraction", "weight_decay")
        check("inferred points (not trained) have no delay" in fig._suptitle.get_text(),
              f"delay map title says inferred points have no delay: {fig._suptitle.get_text()!r}")
        check(np.isnan(S.delay[S.vars["status"] == 4]).all(), "inferred points have no delay")
    finally:
        S.f.close()
    P.plt.close("all")


def grid_file(path, ny, nx):
    """A finished sweep's file of a ny x nx grid over data fraction x weight decay, one seed,
    every point grokking with delays from 40 to 30000 steps: the variables the delay map reads."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = np.bytes_("groksweep-sweep")
        f.attrs["format_version"] = np.int32(2)
        axes = {"data_fraction": np.linspace(0.2, 0.8, ny), "weight_decay": np.round(np.geomspace(0.01, 10, nx), 3)}
        for name, values in axes.items():
            f[name] = values
            f[name].make_scale(name)
        delays = np.round(np.geomspace(40, 30000, ny * nx)).astype(np.int32).reshape(ny, nx)
        data = {"status": np.ones((ny, nx), np.int8), "phase": np.full((ny, nx), 2, np.int8),
                "train_acc_step_90": np.full((ny, nx), 100, np.int32), "test_acc_step_90": 100 + delays}
        for name, values in data.items():
            f[name] = values
            for i, axis in enumerate(axes):
                f[name].dims[i].attach_scale(f[axis])


def read_only(path):
    """Opened as the script opens files (without locking), which HDF5 needs of a file open twice."""
    return h5py.File(path, "r", locking=False)


def load_script():
    spec = importlib.util.spec_from_file_location("plot_phase_diagram_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stems(paths):
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in paths)


def quiet_nanstats(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(curves, 0), np.nanmin(curves, 0), np.nanmax(curves, 0)


def labelled_axes(fig, label):
    return [ax for ax in fig.axes if ax.get_label() == label]


def legend_entries(fig):
    """{label: face colour as #rrggbb} of the figure's legend patches."""
    out = {}
    for legend in fig.legends:
        handles = getattr(legend, "legend_handles", None) or legend.legendHandles
        for handle, label in zip(handles, legend.get_texts()):
            if hasattr(handle, "get_facecolor") and not hasattr(handle, "get_xdata"):
                out[label.get_text()] = to_hex(handle.get_facecolor()[:3])
    return out


def legend_texts(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def check_curves(P, S, path):
    """Loss (log) beside accuracy per phase; with 2 seeds, median lines over the cell's finished
    seeds and a min-max band, compared with the file."""
    fig = P.curves_figure(S)
    fig.draw_without_rendering()
    acc, loss = labelled_axes(fig, "accuracy"), labelled_axes(fig, "loss")
    picks = P.curve_examples(S)
    with read_only(path) as f:
        status, phase = f["status"][...], f["phase"][...]
        present = set(np.unique(phase[status == 1]).tolist()) & set(PHASE_NAMES)
        check(len(picks) == len(present) >= 2, f"curves: one example per phase present {sorted(present)}: "
                                               f"{[k for k, _, _ in picks]}")
        check(len(acc) == len(loss) == len(picks), f"curves: an accuracy and a loss axis per phase: "
                                                   f"{len(acc)}, {len(loss)}, {len(picks)}")
        for a, lo in zip(acc, loss):
            pa, pl = a.get_position(), lo.get_position()
            check(lo.get_yscale() == "log", f"curves: loss axis on a log scale: {lo.get_yscale()}")
            check(pl.x0 > pa.x1 and abs(pl.y0 - pa.y0) < 0.02 and abs(pl.y1 - pa.y1) < 0.02,
                  f"curves: loss axis beside its accuracy axis: {pa.bounds} {pl.bounds}")
        seed_axis = axis_names(f).index("seed")
        widths = []
        for (k, index, title), a, lo in zip(picks, acc, loss):
            check(isinstance(index[seed_axis], slice), f"curves: {title!r} spans the seeds: {index}")
            done = status[index] == 1
            check(done.sum() >= 2 and (phase[index][done] == k).any(),
                  f"curves: {title!r} has 2 finished seeds, one in the phase: {phase[index]}")
            check(title.startswith(PHASE_NAMES[k]), f"curves: the title names the phase: {title!r}")
            for ax, var in ((a, "acc"), (lo, "loss")):
                for side in ("train", "test"):
                    what = f"curves: {PHASE_NAMES[k]} {side} {var}"
                    curves = f[f"curve_{side}_{var}"][index][done].astype(float)
                    if var == "loss":
                        curves[~(curves > 0)] = np.nan
                    median, low, high = quiet_nanstats(curves)
                    lines = [line for line in ax.get_lines() if line.get_label() == side]
                    check(len(lines) == 1 and np.allclose(lines[0].get_ydata(), median, equal_nan=True),
                          f"{what}: the line is the median over the seeds")
                    bands = [c for c in ax.collections if isinstance(c, PolyCollection)
                             and c.get_label().startswith(side)]
                    if not check(len(bands) == 1, f"{what}: one band over the seeds: {len(bands)}"):
                        continue
                    ys = np.concatenate([p.vertices[:, 1] for p in bands[0].get_paths()])
                    check(np.isclose(ys.max(), np.nanmax(high)) and np.isclose(ys.min(), np.nanmin(low)),
                          f"{what}: the band spans the seeds' min to max: {ys.min()}..{ys.max()}, "
                          f"{np.nanmin(low)}..{np.nanmax(high)}")
                    if var == "acc":
                        widths.append(np.nanmax(high - low))
        check(max(widths, default=0) > 0.01, f"curves: the seeds differ, so the bands have width: {widths}")
    n_seeds = len(S.coords["seed"])
    check(any(f"min–max over {n_seeds} seeds" in t for t in legend_texts(fig)),
          f"curves: the legend says the band is min–max over {n_seeds} seeds: {legend_texts(fig)}")
    P.plt.close(fig)


def check_curves_one_seed(P, S, path):
    """One seed: the point's own curves, loss beside accuracy, no band."""
    fig = P.curves_figure(S)
    acc, loss = labelled_axes(fig, "accuracy"), labelled_axes(fig, "loss")
    picks = P.curve_examples(S)
    check(len(acc) == len(loss) == len(picks) >= 2, f"one seed: an accuracy and a loss axis per phase: "
                                                    f"{len(acc)}, {len(loss)}, {len(picks)}")
    bands = [c for ax in fig.axes for c in ax.collections if isinstance(c, PolyCollection)]
    check(not bands, f"one seed: no band: {len(bands)}")
    check(not any("min–max" in t for t in legend_texts(fig)), f"one seed: no band in the legend: "
                                                            f"{legend_texts(fig)}")
    with read_only(path) as f:
        for (k, index, title), a, lo in zip(picks, acc, loss):
            check(all(isinstance(i, (int, np.integer)) for i in index), f"one seed: {title!r} is one point")
            for ax, var in ((a, "acc"), (lo, "loss")):
                expected = f[f"curve_test_{var}"][index].astype(float)
                if var == "loss":
                    expected[~(expected > 0)] = np.nan
                lines = [line for line in ax.get_lines() if line.get_label() == "test"]
                check(len(lines) == 1 and np.allclose(lines[0].get_ydata(), expected, equal_nan=True),
                      f"one seed: {PHASE_NAMES[k]} test {var} is the point's curve")
    P.plt.close(fig)


def check_loss_colours(P, S, path):
    """Final losses and trajectories in the colours of their phases, as in the phase maps."""
    phase_fig = P.phase_map(S, "data_fraction", "weight_decay")
    map_colours = legend_entries(phase_fig)
    P.plt.close(phase_fig)
    check(all(name in map_colours for name in PHASE_NAMES.values()), f"phase map legend: {map_colours}")
    fig = P.loss_figure(S)
    loss_colours = legend_entries(fig)
    with read_only(path) as f:
        status, phase, norm = f["status"][...], f["phase"][...], f["final_weight_norm"][...]
        done_phases = {PHASE_NAMES[p] for p in np.unique(phase[status == 1]) if p in PHASE_NAMES}
        check({n: c for n, c in loss_colours.items() if n in PHASE_NAMES.values()}
              == {n: map_colours[n] for n in done_phases},
              f"loss vs norm: the legend has the finished runs' phases in the phase map's colours: "
              f"{loss_colours}, {map_colours}")
        for side in ("train", "test"):
            loss = f[f"final_{side}_loss"][...]
            ok = (status == 1) & np.isfinite(loss) & (loss > 0) & np.isfinite(norm)
            expected = {}
            for p in np.unique(phase[ok]):
                expected[map_colours[PHASE_NAMES[p]]] = int((ok & (phase == p)).sum())
            got = {}
            for ax in labelled_axes(fig, f"final {side} loss"):
                for c in ax.collections:
                    if isinstance(c, PathCollection):
                        faces = {to_hex(fc[:3]) for fc in c.get_facecolors()}
                        check(len(faces) == 1, f"loss vs norm: one colour per group of points: {faces}")
                        colour = to_hex(c.get_facecolors()[0][:3])
                        got[colour] = got.get(colour, 0) + len(c.get_offsets())
            check(len(expected) >= 2 and got == expected,
                  f"loss vs norm: final {side} loss points coloured by phase: {got}, expected {expected}")
        points = P.trajectory_points(S, P.examples(S))
        check(len(points) >= 2, f"loss vs norm: trajectories drawn: {len(points)}")
        for side in ("train", "test"):
            axes = labelled_axes(fig, f"{side} loss trajectory")
            if not check(len(axes) == 1, f"loss vs norm: a {side} loss trajectory axis: {len(axes)}"):
                continue
            ax = axes[0]
            for label, index, _, _ in points:
                colour = map_colours[PHASE_NAMES[int(phase[index])]]
                lines = [line for line in ax.get_lines() if line.get_label() == label]
                check(len(lines) == 1 and to_hex(lines[0].get_color()) == colour,
                      f"loss vs norm: the {side} trajectory {label!r} has its phase's colour {colour}: "
                      f"{[to_hex(line.get_color()) for line in lines]}")
    P.plt.close(fig)


def cell_numbers(P, S, path, what, name=None):
    """The delay map's cell numbers, checked against the file: compact values of the median
    delays, each inside its cell, within 5-7 points at a 3.4-inch print. Their printed sizes."""
    fig = P.delay_map(S, "data_fraction", "weight_decay", **({"name": name} if name else {}))
    scale = P.printed_scale(fig)
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.images]
    texts = [t for ax in axes for t in ax.texts]
    with read_only(path) as f:
        names = axis_names(f)
        train, test = f["train_acc_step_90"][...].astype(float), f["test_acc_step_90"][...].astype(float)
        delay = np.where((f["status"][...] == 1) & (train >= 0) & (test >= 0), test - train, np.nan)
    if "seed" in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            delay = np.nanmedian(delay, axis=names.index("seed"))
    finite = delay[np.isfinite(delay)]
    check(sum(np.ma.count(ax.images[0].get_array()) for ax in axes) == finite.size,
          f"{what}: every delay has a coloured cell")
    if texts:
        check(sorted(t.get_text() for t in texts) == sorted(P.compact(v) for v in finite),
              f"{what}: the cells hold the compact median delays: {sorted(t.get_text() for t in texts)[:8]}")
    printed = []
    for ax in axes:
        ny, nx = ax.images[0].get_array().shape
        box = ax.get_window_extent(renderer)
        for t in ax.texts:
            size = t.get_fontsize() * scale
            printed.append(size)
            extent = t.get_window_extent(renderer)
            if not check(4.95 <= size <= 7.05, f"{what}: {t.get_text()!r} is {size:.2f} pt printed"):
                break
            if not check(extent.width <= box.width / nx and extent.height <= box.height / ny,
                         f"{what}: {t.get_text()!r} fits its cell: {extent.width:.1f}x{extent.height:.1f} px "
                         f"in {box.width / nx:.1f}x{box.height / ny:.1f}"):
                break
    P.plt.close(fig)
    return printed, finite.size


def check_delay_cells(P, S, path):
    for value, expected in ((40, "40"), (999.6, "1k"), (1234, "1.2k"), (9960, "1e4"), (30000, "3e4"),
                            (35000, "3.5e4"), (-1500, "\u22121.5k")):
        check(P.compact(value) == expected, f"compact({value}) is {expected!r}: {P.compact(value)!r}")
    small, n = cell_numbers(P, S, path, "delay map of the sweep")
    check(len(small) == n > 0, f"delay map of the sweep: a number in each of the {n} cells: {len(small)}")
    check(all(abs(size - 7) < 0.05 for size in small), f"delay map of the sweep: 7 pt printed: {small[:4]}")

    medium_path = os.path.join(WORKDIR, "grid_6x10.h5")
    grid_file(medium_path, 6, 10)
    medium_sweep = P.Sweep(P.open_sweep(medium_path), medium_path)
    medium, n = cell_numbers(P, medium_sweep, medium_path, "6 x 10 delay map")
    medium_sweep.f.close()
    check(len(medium) == n == 60, f"6 x 10 delay map: a number in each of the 60 cells: {len(medium)}")
    check(bool(medium) and bool(small) and max(medium) < min(small) - 0.5,
          f"6 x 10 delay map: smaller numbers than the sweep's: {medium[:1]} < {small[:1]}")

    huge_path = os.path.join(WORKDIR, "grid_30x40.h5")
    grid_file(huge_path, 30, 40)
    huge_sweep = P.Sweep(P.open_sweep(huge_path), huge_path)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        huge, n = cell_numbers(P, huge_sweep, huge_path, "30 x 40 delay map", name="delay_30x40.png")
    huge_sweep.f.close()
    check(n == 1200 and not huge, f"30 x 40 delay map: colours only, no numbers: {len(huge)} of {n}")
    check("delay_30x40.png: cells too small for legible numbers at a 3.4-inch width" in stderr.getvalue(),
          f"30 x 40 delay map: a note on dropping the numbers: {stderr.getvalue().strip()}")


def tick_texts(axis):
    return [t.get_text() for t in axis.get_ticklabels()]


def check_delay_1d(P, path, axis, ticks):
    """The 1-D delay figure of a file whose one non-seed axis with several values is `axis`:
    a marker per seed that reached 90%, the median line over them, a marker per value where a
    seed never did, compared with the file's grokking_delay_90."""
    S = P.Sweep(P.open_sweep(path), path)
    try:
        check(S.varied == [axis], f"1-D {axis}: the one axis with several values: {S.varied}")
        fig = P.delay_1d_figure(S, axis)
    finally:
        S.f.close()
    ax = fig.axes[0]
    with read_only(path) as f:
        names = axis_names(f)
        index = tuple(slice(None) if n in (axis, "seed") else 0 for n in names)
        delay = f["grokking_delay_90"][index].astype(float)
        delay[(delay == -2147483647) | (f["status"][index] != 1)] = np.nan
        if names.index(axis) > names.index("seed"):
            delay = delay.T
        values = f[axis][...]
    order = np.argsort(values) if values.dtype.kind in "iuf" else np.arange(len(values))
    delay = delay[order]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(delay, axis=1)
    check(np.isfinite(delay).any() and (~np.isfinite(delay)).any(),
          f"1-D {axis}: the file has delays reached and never reached: {delay.tolist()}")
    markers = sorted(float(line.get_ydata()[0]) for line in ax.get_lines() if line.get_gid() == "seed delay")
    check(markers == sorted(delay[np.isfinite(delay)].tolist()),
          f"1-D {axis}: a marker per seed that reached 90%: {markers}, {delay.tolist()}")
    lines = [line for line in ax.get_lines() if line.get_label() == "median"]
    check(len(lines) == 1 and np.allclose(lines[0].get_ydata(), median, equal_nan=True),
          f"1-D {axis}: the line is the median over the seeds: {[list(x.get_ydata()) for x in lines]}, "
          f"{median.tolist()}")
    never = [line for line in ax.get_lines() if line.get_gid() == "never reached"]
    check(len(never) == int((~np.isfinite(delay)).any(axis=1).sum()),
          f"1-D {axis}: a marker where seeds never reached 90%: {len(never)}")
    check(tick_texts(ax.xaxis) == ticks and ax.get_xlabel() == axis.replace("_", " "),
          f"1-D {axis}: ticks {ticks} in order: {tick_texts(ax.xaxis)}, label {ax.get_xlabel()!r}")
    P.plt.close(fig)

    scales = []
    for values in ([100, 5000], [0, 40, 2000], [100, 500]):
        fig, ax = P.plt.subplots()
        P.delay_scale(ax, np.array(values, float), 20.0)
        scales.append(ax.get_yscale())
        P.plt.close(fig)
    check(scales == ["log", "symlog", "linear"], f"1-D delay: log y over more than 10x: {scales}")


def check_other_axes(out):
    """A sweep over task.op x data fraction: its plane drawn by default and with --plane, bad
    --plane values refused, and its single-axis subsets' 1-D delay figures."""
    outdir = os.path.join(WORKDIR, "plots_ops")
    planes = ["op_data_fraction"]
    others = ["curves_by_phase.png", "loss_vs_weight_norm.png"]
    expected = [f"phase_{m}.png" for m in planes] + [f"delay_{m}.png" for m in planes] + others
    result = plot(out, outdir)
    listed = check_plot_run(result, outdir, expected, "op x data fraction")
    check(sorted(map(os.path.basename, listed)) == sorted(expected),
          f"op x data fraction: only the op plane, curves and losses: {listed}")
    check("skipping phase_data_fraction_weight_decay.png: weight_decay has a single value" in result.stderr,
          f"op x data fraction: the default planes are still noted as skipped: {result.stderr.strip()}")
    P = load_script()
    S = P.Sweep(P.open_sweep(out), out)
    try:
        fig = P.phase_map(S, "op", "data_fraction")
        ax = fig.axes[0]
        check(tick_texts(ax.yaxis) == ["x+y", "x-y"] and tick_texts(ax.xaxis) == ["0.3", "0.7"],
              f"op plane: ops as ticks in grid order, data fractions sorted: {tick_texts(ax.yaxis)}, "
              f"{tick_texts(ax.xaxis)}")
        P.plt.close(fig)
    finally:
        S.f.close()

    outdir = os.path.join(WORKDIR, "plots_ops_plane")
    expected = ["phase_data_fraction_op.png", "delay_data_fraction_op.png"] + others
    listed = check_plot_run(plot(out, outdir, "--plane", "data_fraction,op"), outdir, expected, "--plane")
    check(sorted(map(os.path.basename, listed)) == sorted(expected),
          f"--plane data_fraction,op: that plane instead of the default ones: {listed}")

    bad_dir = os.path.join(WORKDIR, "plots_bad_plane")
    for value, words in (("nope,op", "no grid axis 'nope'"), ("op,op", "the same axis 'op' twice"),
                         ("op,weight_decay", "weight_decay has a single value"), ("op", "two axis names")):
        result = plot(out, bad_dir, "--plane", "data_fraction,op", "--plane", value)
        lines = result.stderr.strip().splitlines()
        check(result.returncode == 2, f"--plane {value}: exit 2, got {result.returncode}")
        check(len(lines) == 1 and all(w in lines[0] for w in ("--plane", repr(value), words, "op, data_fraction")),
              f"--plane {value}: one line naming the flag, the value, {words!r} and the allowed axes: {lines}")
        check(result.stdout == "", f"--plane {value}: nothing on stdout: {result.stdout!r}")
    check(not os.path.exists(bad_dir), "bad --plane: no output directory made")

    for axis, keep, ticks in (("op", "data_fraction", ["x+y", "x-y"]), ("data_fraction", "op", ["0.3", "0.7"])):
        path = os.path.join(WORKDIR, f"only_{axis}.h5")
        subset(out, path, keep, keep_dim=True)
        outdir = os.path.join(WORKDIR, f"plots_only_{axis}")
        listed = check_plot_run(plot(path, outdir), outdir, [f"delay_{axis}.png"] + others, f"1-D {axis}")
        check(not any(os.path.basename(p).startswith("phase_") for p in listed),
              f"1-D {axis}: no phase map: {listed}")
        check_delay_1d(P, path, axis, ticks)
    P.plt.close("all")


def check_figures(out, one_seed):
    """The figures as built by the script's functions."""
    P = load_script()
    S = P.Sweep(P.open_sweep(out), out)
    try:
        check_curves(P, S, out)
        check_loss_colours(P, S, out)
        check_delay_cells(P, S, out)
    finally:
        S.f.close()
    S = P.Sweep(P.open_sweep(one_seed), one_seed)
    try:
        check_curves_one_seed(P, S, one_seed)
    finally:
        S.f.close()
    P.plt.close("all")


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

    # The whole sweep: every figure, as PNG and as PDF.
    outdir = os.path.join(WORKDIR, "plots")
    png = check_plot_run(plot(out, outdir), outdir, ALL_FIGURES, "full sweep")
    outdir = os.path.join(WORKDIR, "plots_pdf")
    pdf = check_plot_run(plot(out, outdir, "--format", "pdf"), outdir, ALL_FIGURES, "full sweep as PDF", "pdf")
    check(stems(pdf) == stems(png), f"PDF: the same figures as PNG: {stems(pdf)}, {stems(png)}")

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
    outdir = os.path.join(WORKDIR, "plots_no_init_scale_svg")
    svg_result = plot(one_seed, outdir, "--format", "svg")
    svg = check_plot_run(svg_result, outdir, expected, "no init_scale axis, as SVG", "svg")
    check(stems(svg) == stems(result.stdout.split()), f"SVG: the same figures as PNG: {stems(svg)}")
    for name in as_format([f for f in ALL_FIGURES if f not in expected], "svg"):
        check(f"skipping {name}: the file has no init_scale axis" in svg_result.stderr,
              f"no init_scale axis, as SVG: a note on skipping {name}: {svg_result.stderr.strip()}")

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
    for flags, words in ((["--format", "jpg"], ["--format", "'jpg'", "png", "pdf", "svg"]),
                         (["--dpi", "high"], ["--dpi", "'high'"])):
        result = plot(out, os.path.join(WORKDIR, "plots_bad"), *flags)
        lines = result.stderr.strip().splitlines()
        what = " ".join(flags)
        check(result.returncode == 2, f"{what}: exit 2, got {result.returncode}")
        check(len(lines) == 1 and all(w in lines[0] for w in words), f"{what}: one line naming {words}: {lines}")
        check(result.stdout == "", f"{what}: nothing on stdout: {result.stdout!r}")
    check(not os.path.exists(os.path.join(WORKDIR, "plots_bad")), "bad input: no output directory made")

    result = subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True, timeout=60)
    check(result.returncode == 0 and "OUT.h5" in result.stdout and "phase_data_fraction_weight_decay.png"
          in result.stdout, "--help documents the usage and the files")
    check("--format" in result.stdout and "png,pdf,svg" in result.stdout and "3.4 inches" in result.stdout,
          "--help documents --format and the print width of cell numbers")

    check("--plane" in result.stdout and "delay_AXIS.png" in result.stdout,
          "--help documents --plane and the 1-D delay figure")

    # Other axes: a string axis and a single varied axis.
    ops_path = os.path.join(WORKDIR, "ops.json")
    with open(ops_path, "w") as fh:
        json.dump(ops_sweep(), fh, indent=1)
    ops = os.path.join(WORKDIR, "ops.h5")
    run = subprocess.run([GROKSWEEP, "run", ops_path, "-o", ops, "--quiet"], env=ENV, capture_output=True,
                         text=True, timeout=600)
    if check(run.returncode == 0, f"groksweep run (ops): exit 0, got {run.returncode}: {run.stderr.strip()}"):
        check_other_axes(ops)

    # The figures' contents.
    check_figures(out, one_seed)
    inferred = os.path.join(WORKDIR, "inferred.h5")
    shutil.copy(out, inferred)
    check_inferred(load_script(), inferred)


main()
finish()
