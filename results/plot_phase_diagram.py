#!/usr/bin/python3
"""Plot the grokking phase diagram of a groksweep output file.

usage: plot_phase_diagram.py OUT.h5 -o DIR [--dpi N]

Writes PNG files into DIR (created if missing) and prints their paths:

  phase_data_fraction_weight_decay.png   phase of each grid point, data fraction x weight decay
  phase_train_size_weight_decay.png      the same over training-set size x weight decay (tasks
                                         that take a training-set size)
  phase_init_scale_weight_decay.png      the same over init scale x weight decay
  phase_init_scale_train_size.png        the same over init scale x training-set size (Omnigrok's
                                         plane)
  phase_imbalance_train_size.png         the same over imbalance x training-set size (Carvalho)
  delay_*.png                            grokking delay t_test - t_train (steps to 90% accuracy)
                                         over the same planes
  curves_by_phase.png                    train and test accuracy of one point per phase present
  loss_vs_weight_norm.png                train and test loss against the weight norm
  feature_rank.png                       each hidden layer's feature rank against the step, with
                                         test accuracy (sweeps with train.feature_rank)

Maps have one panel per value of the other grid axes (init_scale, lr, width,
...); seeds are aggregated by majority phase (ties go to the phase listed first
in the legend) and hatched where seeds disagree. A delay is the median over
the seeds that reached 90% train and test accuracy; blank where none did.

A figure whose axes or variables the file lacks is skipped with a note on
stderr. The file may belong to a sweep that is still running: it is read
without HDF5 file locking, and points not run yet show as "not run".

exit status: 0 figures written; 2 bad input (missing file, not a groksweep
sweep file, bad flags)
"""
import argparse
import json
import os
import sys
import textwrap
import warnings

# Read without file locking (see open_hdf5); this covers h5py versions without locking=False.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import h5py  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize, SymLogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

PROG = "plot_phase_diagram.py"

# Categories of a run: its phase when done, else its status. Ties in the
# majority over seeds go to the lower code.
CATEGORIES = [  # (name, colour)
    ("not run", "#d9d9d9"),
    ("comprehension", "#009e73"),
    ("grokking", "#e69f00"),
    ("memorization", "#0072b2"),
    ("confusion", "#d55e00"),
    ("diverged", "#3b3b3b"),
    ("failed", "#cc79a7"),
]
NOT_RUN, COMPREHENSION, GROKKING, MEMORIZATION, CONFUSION, DIVERGED, FAILED = range(len(CATEGORIES))
PHASES = (COMPREHENSION, GROKKING, MEMORIZATION, CONFUSION)
MAPS = (("data_fraction", "weight_decay"), ("train_size", "weight_decay"), ("init_scale", "weight_decay"),
        ("init_scale", "train_size"), ("imbalance", "train_size"))
MAX_PANELS = 48
ANNOTATE_MAX_CELLS = 120  # write delay values into cells up to this many per panel


class BadInput(Exception):
    pass


_noted = set()


def note(message):
    if message not in _noted:
        _noted.add(message)
        print(f"{PROG}: {message}", file=sys.stderr)


# ---- reading ------------------------------------------------------------------------------------


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def open_hdf5(path):
    """Opened without file locking, so that the output of a running sweep can be read."""
    try:
        return h5py.File(path, "r", locking=False)
    except (TypeError, ValueError):  # h5py or HDF5 without the option
        return h5py.File(path, "r")


def open_sweep(path):
    if not os.path.exists(path):
        raise BadInput(f"{path}: no such file")
    try:
        f = open_hdf5(path)
    except OSError as e:
        raise BadInput(f"{path}: not a readable HDF5 file ({e})")
    fmt = text(f.attrs.get("format", ""))
    if fmt != "groksweep-sweep":
        f.close()
        raise BadInput(f"{path}: not a groksweep sweep file (root attribute format is {fmt!r}, "
                       "expected 'groksweep-sweep')")
    for name in ("status", "phase"):
        if name not in f:
            f.close()
            raise BadInput(f"{path}: groksweep file without the variable {name!r}")
    return f


def read_axes(f):
    """The grid axes in file order: [(name, coordinate values)]."""
    axes = []
    status = f["status"]
    for i, dim in enumerate(status.dims):
        names = dim.keys()
        name = names[0] if names else f"dim_{i}"
        values = f[name][...] if name in f and f[name].shape == (status.shape[i],) else np.arange(status.shape[i])
        if values.dtype.kind in "OS":
            values = np.array([text(v) for v in values])
        axes.append((name, values))
    return axes


def read(f, name, index=Ellipsis):
    """f[name][index] as floats; None when missing or unreadable (a sweep writing the file may
    have moved data since it was opened)."""
    if name not in f:
        return None
    try:
        return f[name][index].astype(float)
    except OSError as e:
        note(f"could not read {name} (is a sweep writing the file?): {e}")
        return None


def read_point_vars(f, shape):
    """Per-point arrays; crossing steps below 0 (never, or not run) become NaN."""
    v = {}
    for name in ("status", "phase"):
        v[name] = read(f, name)
        if v[name] is None:
            raise BadInput(f"cannot read the variable {name!r}; if a sweep is writing the file, try "
                           "again or read a copy")
        v[name] = v[name].astype(np.int8)
    for name in ("final_train_loss", "final_test_loss", "final_test_acc", "final_weight_norm"):
        values = read(f, name)
        v[name] = values if values is not None else np.full(shape, np.nan)
    for name in ("train_acc_step_90", "test_acc_step_90"):
        steps = read(f, name)
        v[name] = np.where(steps >= 0, steps, np.nan) if steps is not None else np.full(shape, np.nan)
    return v


def categories(status, phase):
    code = np.full(status.shape, FAILED, dtype=np.int8)  # failed, or done without a phase
    code[status == 0] = NOT_RUN
    code[status == 2] = DIVERGED
    done = (status == 1) & (phase >= 1) & (phase <= 4)
    code[done] = phase[done]  # phase codes 1-4 equal the category codes
    return code


def task_title(f):
    try:
        task = json.loads(text(f.attrs["sweep"])).get("task", {})
    except (KeyError, ValueError, AttributeError):
        return ""
    kind = task.get("kind", "arithmetic")
    if kind == "arithmetic":
        return f"{task.get('op', 'x+y')} mod {task.get('p', 59)}"
    if kind == "images":
        return f"images: {os.path.basename(os.path.dirname(task.get('train_images', 'fashion-mnist/')))}"
    if kind == "carvalho":
        grid = json.loads(text(f.attrs["sweep"])).get("grid", {})
        return "Carvalho et al." + ("" if "task.dataset" in grid else f" dataset {task.get('dataset', 1)}")
    return kind.replace("_", "-")


class Sweep:
    """The file's grid, per-point variables and lazily read curves."""

    def __init__(self, f, path):
        self.f = f
        self.path = path
        self.axes = read_axes(f)
        self.names = [name for name, _ in self.axes]
        self.coords = dict(self.axes)
        self.shape = f["status"].shape
        self.vars = read_point_vars(f, self.shape)
        self.code = categories(self.vars["status"], self.vars["phase"])
        done = self.vars["status"] == 1
        self.delay = np.where(done, self.vars["test_acc_step_90"] - self.vars["train_acc_step_90"], np.nan)
        self.task = task_title(f)

    def length(self, name):
        return len(self.coords[name]) if name in self.coords else 0

    def curve(self, name, index):
        """One point's curve; NaN if unreadable even after reopening the file (a running sweep
        rewrites compressed chunks, which may move them)."""
        try:
            return self.f[name][tuple(index)].astype(float)
        except OSError:
            self.f.close()
            self.f = open_hdf5(self.path)
        values = read(self.f, name, tuple(index))
        return values if values is not None else np.full(self.f[name].shape[-1], np.nan)

    def has(self, *names):
        return all(n in self.f for n in names)

    def point_label(self, index, width=44, skip=()):
        parts = [f"{n}={fmt(self.coords[n][i])}" for n, i in zip(self.names, index)
                 if (self.length(n) > 1 or n == "seed") and n not in skip]
        return "\n".join(textwrap.wrap(", ".join(parts), width))


# ---- helpers ------------------------------------------------------------------------------------


def fmt(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return text(value)


def pretty(name):
    return name.replace("_", " ")


def seed_last(arr, names):
    """arr with the seed axis last (a length-1 one added when there is none) and the other names."""
    if "seed" in names:
        k = names.index("seed")
        return np.moveaxis(arr, k, -1), names[:k] + names[k + 1:]
    return arr[..., None], list(names)


def majority(code, names):
    """Majority category over seeds that ran; whether they disagree; whether some did not run."""
    c, rest = seed_last(code, names)
    counts = np.stack([(c == k).sum(-1) for k in range(len(CATEGORIES))], -1)
    ran = counts.copy()
    ran[..., NOT_RUN] = 0
    n_ran = ran.sum(-1)
    top = np.where(n_ran > 0, ran.argmax(-1), NOT_RUN)
    disagree = (ran > 0).sum(-1) > 1
    partial = (counts[..., NOT_RUN] > 0) & (n_ran > 0)
    return top, disagree, partial, rest


def nanmedian_over_seeds(values, names):
    v, rest = seed_last(values, names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        return np.nanmedian(v, axis=-1), rest


def sorted_order(values):
    return np.argsort(values, kind="stable") if values.dtype.kind in "iuf" else np.arange(len(values))


def arrange(arrays, names, coords, y, x):
    """Panels of (y, x) maps: each array as (n_panels, ny, nx) with axes sorted by value, and a
    title per panel. Axes other than x and y of length 1 are dropped; at most MAX_PANELS panels."""
    keep = [n for n in names if n in (x, y) or len(coords[n]) > 1]
    index = tuple(slice(None) if n in keep else 0 for n in names)
    panel_axes = [n for n in keep if n not in (x, y)]
    order = panel_axes + [y, x]
    out = []
    for a in arrays:
        a = a[index].transpose([keep.index(n) for n in order])
        for k, n in enumerate(order):
            a = np.take(a, sorted_order(coords[n]), axis=k)
        out.append(a.reshape(-1, len(coords[y]), len(coords[x])))
    shape = [len(coords[n]) for n in panel_axes]
    titles = []
    for idx in np.ndindex(*shape):
        titles.append(", ".join(f"{n} = {fmt(coords[n][sorted_order(coords[n])[i]])}"
                                for n, i in zip(panel_axes, idx)))
    n = len(titles)
    if n > MAX_PANELS:
        note(f"{n} panels over {', '.join(panel_axes)}; showing the first {MAX_PANELS}")
        out = [a[:MAX_PANELS] for a in out]
        titles = titles[:MAX_PANELS]
    return out, titles, panel_axes


def grid_shape(n, panel_axes, coords):
    if len(panel_axes) >= 2:
        ncols = min(len(coords[panel_axes[-1]]), 6)
    else:
        ncols = n if n <= 3 else int(np.ceil(np.sqrt(n)))
    return (n + ncols - 1) // ncols, ncols


def panel_figure(n, panel_axes, coords, ny, nx):
    nrows, ncols = grid_shape(n, panel_axes, coords)
    w = max(2.8, 0.6 * nx + 1.4)
    h = max(2.4, 0.42 * ny + 1.3)
    fig, axs = plt.subplots(nrows, ncols, figsize=(w * ncols + 0.5, h * nrows + 0.7), squeeze=False,
                            sharex=True, sharey=True, layout="constrained")
    for ax in axs.flat[n:]:
        ax.set_visible(False)
    return fig, list(axs.flat[:n])


def categorical_axes(ax, coords, y, x):
    xs, ys = coords[x][sorted_order(coords[x])], coords[y][sorted_order(coords[y])]
    ax.set_xticks(range(len(xs)), [fmt(v) for v in xs], rotation=45 if len(xs) > 6 else 0)
    ax.set_yticks(range(len(ys)), [fmt(v) for v in ys])
    ax.set_xticks(np.arange(len(xs) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(ys) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(labelsize=8)


def label_outer(axes, y, x, ncols):
    for i, ax in enumerate(axes):
        if i % ncols == 0:
            ax.set_ylabel(pretty(y))
        if i >= len(axes) - ncols:
            ax.set_xlabel(pretty(x))
            ax.xaxis.set_tick_params(labelbottom=True)


def save(fig, outdir, name, dpi, written):
    path = os.path.join(outdir, name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    written.append(path)


def map_skip_reason(S, y, x):
    for n in (y, x):
        if n not in S.coords:
            return f"the file has no {n} axis"
        if S.length(n) < 2:
            return f"{n} has a single value"
    return None


def seeds_text(S, how):
    n = S.length("seed") or 1
    return f"{how} of {n} seeds" if n > 1 else "1 seed"


def status_counts(S):
    """'48 runs: 44 done, 1 diverged, 3 not run'."""
    status = S.vars["status"]
    parts = [f"{int((status == code).sum())} {name}" for code, name in
             ((1, "done"), (2, "diverged"), (3, "failed"), (0, "not run")) if (status == code).any()]
    return f"{status.size} runs: " + ", ".join(parts)


# ---- figures ------------------------------------------------------------------------------------


def phase_map(S, y, x, outdir, dpi, written):
    name = f"phase_{y}_{x}.png"
    reason = map_skip_reason(S, y, x)
    if reason:
        return note(f"skipping {name}: {reason}")
    top, disagree, partial, rest = majority(S.code, S.names)
    (top, disagree, partial), titles, panel_axes = arrange([top, disagree, partial], rest, S.coords, y, x)
    ny, nx = top.shape[1:]
    fig, axes = panel_figure(len(titles), panel_axes, S.coords, ny, nx)
    cmap = ListedColormap([c for _, c in CATEGORIES])
    norm = BoundaryNorm(np.arange(len(CATEGORIES) + 1) - 0.5, len(CATEGORIES))
    for k, ax in enumerate(axes):
        ax.imshow(top[k], cmap=cmap, norm=norm, origin="lower", aspect="auto", interpolation="nearest")
        for j, i in zip(*np.nonzero(disagree[k])):
            edge = "white" if top[k][j, i] == DIVERGED else "black"
            ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, fill=False, hatch="///", edgecolor=edge,
                                   linewidth=0, alpha=0.7))
        js, is_ = np.nonzero(partial[k])
        ax.plot(is_, js, "o", ms=4, mfc="white", mec="black", mew=0.8, linestyle="none")
        categorical_axes(ax, S.coords, y, x)
        if titles[k]:
            ax.set_title(titles[k], fontsize=9)
    label_outer(axes, y, x, grid_shape(len(titles), panel_axes, S.coords)[1])
    present = set(np.unique(top)) | set(PHASES)
    handles = [Patch(facecolor=c, edgecolor="0.5", label=n) for k, (n, c) in enumerate(CATEGORIES) if k in present]
    if disagree.any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="seeds disagree"))
    if partial.any():
        handles.append(Line2D([], [], marker="o", ms=5, mfc="white", mec="black", linestyle="none",
                              label="some seeds not run"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
    task = f"{S.task}, " if S.task else ""
    fig.suptitle(f"Phase ({seeds_text(S, 'majority')})\n{task}{status_counts(S)}", fontsize=11)
    save(fig, outdir, name, dpi, written)


def delay_norm(values, step):
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi <= lo:
        return Normalize(lo - 1, hi + 1)
    if lo > 0 and hi / lo >= 10:
        return LogNorm(lo, hi)
    if lo <= 0 < hi and hi / step >= 10:
        return SymLogNorm(linthresh=step, linscale=0.5, vmin=lo, vmax=hi, base=10)
    return Normalize(lo, hi)


def eval_spacing(S):
    steps = S.f["eval_step"][...] if "eval_step" in S.f else np.array([0, 1])
    positive = np.diff(np.unique(steps))
    return float(positive.min()) if len(positive) else 1.0


def delay_map(S, y, x, outdir, dpi, written):
    name = f"delay_{y}_{x}.png"
    reason = map_skip_reason(S, y, x)
    if reason:
        return note(f"skipping {name}: {reason}")
    med, rest = nanmedian_over_seeds(S.delay, S.names)
    (med,), titles, panel_axes = arrange([med], rest, S.coords, y, x)
    finite = med[np.isfinite(med)]
    if finite.size == 0:
        return note(f"skipping {name}: no point reached 90% train and test accuracy")
    norm = delay_norm(finite, eval_spacing(S))
    ny, nx = med.shape[1:]
    fig, axes = panel_figure(len(titles), panel_axes, S.coords, ny, nx)
    cmap = plt.get_cmap("viridis")
    image = None
    for k, ax in enumerate(axes):
        ax.set_facecolor("#ececec")
        image = ax.imshow(np.ma.masked_invalid(med[k]), cmap=cmap, norm=norm, origin="lower", aspect="auto",
                          interpolation="nearest")
        if nx * ny <= ANNOTATE_MAX_CELLS:
            for j, i in zip(*np.nonzero(np.isfinite(med[k]))):
                v = med[k][j, i]
                ax.text(i, j, f"{v:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if norm(v) < 0.55 else "black")
        categorical_axes(ax, S.coords, y, x)
        if titles[k]:
            ax.set_title(titles[k], fontsize=9)
    label_outer(axes, y, x, grid_shape(len(titles), panel_axes, S.coords)[1])
    bar = fig.colorbar(image, ax=axes, shrink=0.9 if len(axes) > 1 else 1.0)
    bar.set_label("t_test − t_train (steps)")
    fig.suptitle(f"Grokking delay to 90% accuracy ({seeds_text(S, 'median')})\n"
                 "grey: train or test accuracy never reached 90%", fontsize=11)
    save(fig, outdir, name, dpi, written)


def median_pick(indices, keys):
    ok = np.isfinite(keys)
    if ok.any():
        indices, keys = indices[ok], keys[ok]
    return tuple(indices[np.argsort(keys, kind="stable")[len(keys) // 2]])


def examples(S):
    """One point per phase present: the median delay for comprehension and grokking, the median
    final test accuracy otherwise. [(phase code, index)]"""
    picks = []
    for k in PHASES:
        idx = np.argwhere(S.code == k)
        if len(idx) == 0:
            continue
        key = S.delay if k in (COMPREHENSION, GROKKING) else S.vars["final_test_acc"]
        picks.append((k, median_pick(idx, key[tuple(idx.T)])))
    return picks


def step_axis(ax, steps):
    positive = steps[steps > 0]
    if len(positive):
        ax.set_xscale("symlog", linthresh=float(positive.min()), linscale=0.4)
    ax.set_xlim(left=0, right=float(steps.max()) if len(steps) else 1)


def curves_figure(S, outdir, dpi, written):
    name = "curves_by_phase.png"
    if not S.has("eval_step", "curve_train_acc", "curve_test_acc"):
        return note(f"skipping {name}: the file has no accuracy curves")
    picks = examples(S)
    if not picks:
        return note(f"skipping {name}: no point is done")
    steps = S.f["eval_step"][...].astype(float)
    fig, axs = plt.subplots(1, len(picks), figsize=(3.8 * len(picks), 3.6), squeeze=False, sharey=True,
                            layout="constrained")
    for ax, (k, index) in zip(axs[0], picks):
        ax.plot(steps, S.curve("curve_train_acc", index), color="#0072b2", label="train")
        ax.plot(steps, S.curve("curve_test_acc", index), color="#d55e00", label="test")
        for var, color in (("train_acc_step_90", "#0072b2"), ("test_acc_step_90", "#d55e00")):
            t = S.vars[var][index]
            if np.isfinite(t):
                ax.axvline(t, color=color, linestyle=":", linewidth=1)
        step_axis(ax, steps)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("step")
        ax.set_title(f"{CATEGORIES[k][0]}\n{S.point_label(index)}", fontsize=9)
        ax.grid(alpha=0.3)
    axs[0][0].set_ylabel("accuracy")
    fig.legend(handles=axs[0][0].lines[:2], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)
    fig.suptitle("Accuracy of one point per phase (dotted: first step at 90%)", fontsize=11)
    save(fig, outdir, name, dpi, written)


def colour_values(n):
    return [plt.get_cmap("plasma")(v) for v in np.linspace(0.05, 0.8, n)] if n > 1 else ["#0072b2"]


def trajectory_points(S, picks):
    """init_scale's values at the median grokking point's other coordinates (done points only);
    without an init_scale axis, the examples of each phase. [(label, index, colour)]"""
    done = S.vars["status"] == 1
    if S.length("init_scale") > 1 and picks:
        ref = list(dict(picks).get(GROKKING, picks[0][1]))
        k = S.names.index("init_scale")
        order = sorted_order(S.coords["init_scale"])
        colours = colour_values(len(order))
        out = []
        for c, i in zip(colours, order):
            ref[k] = i
            if done[tuple(ref)]:
                out.append((f"α = {fmt(S.coords['init_scale'][i])}", tuple(ref), c))
        return out
    return [(CATEGORIES[k][0], index, CATEGORIES[k][1]) for k, index in picks]


def init_scale_groups(S):
    """[(label, mask over the grid, colour)] per init_scale value, or one group of all points."""
    if S.length("init_scale") < 2:
        return [("all points", np.ones(S.shape, bool), colour_values(1)[0])]
    k = S.names.index("init_scale")
    values = S.coords["init_scale"]
    order = sorted_order(values)
    which = np.arange(len(values)).reshape([-1 if d == k else 1 for d in range(len(S.shape))])
    return [(f"α = {fmt(values[i])}", np.broadcast_to(which == i, S.shape), c)
            for i, c in zip(order, colour_values(len(order)))]


def loss_scatter(S, axs):
    done = S.vars["status"] == 1
    norm = S.vars["final_weight_norm"]
    for ax, var, side in zip(axs, ("final_train_loss", "final_test_loss"), ("train", "test")):
        for label, mask, c in init_scale_groups(S):
            sel = done & mask
            loss = S.vars[var][sel]
            ok = np.isfinite(loss) & (loss > 0) & np.isfinite(norm[sel])
            ax.scatter(norm[sel][ok], loss[ok], s=14, color=c, alpha=0.8, label=label, edgecolors="none")
        ax.set_yscale("log")
        ax.set_xlim(left=-0.02 * ax.get_xlim()[1])  # norm 0 (collapsed weights) stays visible
        ax.set_xlabel("final weight norm ‖w‖")
        ax.set_ylabel(f"final {side} loss")
        ax.set_title(f"{side} loss at the end of each run", fontsize=10)
        ax.grid(alpha=0.3)
    axs[1].legend(fontsize=8, title="init scale" if S.length("init_scale") > 1 else None, title_fontsize=8)


def loss_trajectories(S, axs, points):
    drawn = False
    for ax, var, side in zip(axs, ("curve_train_loss", "curve_test_loss"), ("train", "test")):
        for label, index, c in points:
            norm, loss = S.curve("curve_weight_norm", index), S.curve(var, index)
            ok = np.isfinite(norm) & np.isfinite(loss) & (loss > 0)
            if not ok.any():
                continue
            ax.plot(norm[ok], loss[ok], color=c, label=label, linewidth=1.3)
            ax.plot(norm[ok][0], loss[ok][0], "o", mfc="white", mec=c, ms=5)
            ax.plot(norm[ok][-1], loss[ok][-1], "o", color=c, ms=5)
            drawn = True
        ax.set_yscale("log")
        ax.set_xlim(left=-0.02 * ax.get_xlim()[1])  # norm 0 (collapsed weights) stays visible
        ax.set_xlabel("weight norm ‖w‖")
        ax.set_ylabel(f"{side} loss")
        ax.set_title(f"{side} loss during training (○ start, ● end)", fontsize=10)
        ax.grid(alpha=0.3)
    if drawn:
        axs[1].legend(fontsize=8)


def loss_figure(S, outdir, dpi, written):
    name = "loss_vs_weight_norm.png"
    if not S.has("final_train_loss", "final_test_loss", "final_weight_norm"):
        return note(f"skipping {name}: the file has no final losses or weight norms")
    if not (S.vars["status"] == 1).any():
        return note(f"skipping {name}: no point is done")
    has_curves = S.has("curve_train_loss", "curve_test_loss", "curve_weight_norm")
    points = trajectory_points(S, examples(S)) if has_curves else []
    rows = 2 if points else 1
    fig, axs = plt.subplots(rows, 2, figsize=(9.5, 3.8 * rows), squeeze=False, layout="constrained")
    loss_scatter(S, axs[0])
    title = "Loss against weight norm (compare Omnigrok's L-shaped train and U-shaped test loss)"
    if points:
        loss_trajectories(S, axs[1], points)
        if S.length("init_scale") > 1:
            at = S.point_label(points[0][1], width=1000, skip=("init_scale",))
            title += f"\ntrajectories: each init scale at {at}" if at else ""
        else:
            title += "\ntrajectories: the points of the accuracy curves figure"
    else:
        note(f"{name}: the file has no loss curves; final losses only")
    fig.suptitle(title, fontsize=11)
    save(fig, outdir, name, dpi, written)


def feature_rank_figure(S, outdir, dpi, written):
    """One panel per grid point (up to MAX_PANELS): each hidden layer's feature rank against the step, and
    test accuracy on a second axis."""
    name = "feature_rank.png"
    if not S.has("curve_feature_rank", "hidden_layer", "eval_step"):
        return note(f"skipping {name}: the file has no feature ranks (train.feature_rank)")
    done = [index for index in np.ndindex(S.shape) if S.vars["status"][index] == 1]
    if not done:
        return note(f"skipping {name}: no point is done")
    if len(done) > MAX_PANELS:
        note(f"{name}: the first {MAX_PANELS} of {len(done)} done points")
        done = done[:MAX_PANELS]
    steps = S.f["eval_step"][...].astype(float)
    layers = S.f["hidden_layer"][...]
    cols = min(len(done), 3)
    rows = -(-len(done) // cols)
    fig, axs = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, layout="constrained")
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(layers)))
    for ax, index in zip(axs.flat, done):
        ranks = S.curve("curve_feature_rank", index)
        for layer, colour, series in zip(layers, colours, ranks):
            if np.isfinite(series).any():
                ax.plot(steps, series, color=colour, linewidth=1, label=f"layer {layer}")
        step_axis(ax, steps)
        ax.set_xlabel("step")
        ax.set_ylabel("feature rank")
        ax.set_title(S.point_label(index), fontsize=9)
        ax.grid(alpha=0.3)
        acc = ax.twinx()
        acc.plot(steps, S.curve("curve_test_acc", index), color="#d55e00", linestyle="--", linewidth=1.2)
        acc.set_ylim(-0.02, 1.02)
        acc.set_ylabel("test accuracy", color="#d55e00")
    for ax in axs.flat[len(done):]:
        ax.set_visible(False)
    deepest = max(axs.flat[:len(done)], key=lambda ax: len(ax.get_lines()))
    handles, labels = deepest.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Feature rank of each hidden layer on the test set (dashed: test accuracy)", fontsize=11)
    save(fig, outdir, name, dpi, written)


# ---- main ---------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                description=__doc__[__doc__.index("Writes"):].split("\nexit status")[0],
                                epilog="exit status: 0 figures written; 2 bad input (missing file, not a "
                                       "groksweep sweep file, bad flags)",
                                usage="%(prog)s OUT.h5 -o DIR [--dpi N]")
    p.add_argument("file", metavar="OUT.h5", help="output of groksweep run")
    p.add_argument("-o", "--outdir", metavar="DIR", required=True, help="directory for the PNG files")
    p.add_argument("--dpi", type=int, default=130, metavar="N", help="resolution of the PNG files (default 130)")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        f = open_sweep(args.file)
    except BadInput as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        S = Sweep(f, args.file)
    except BadInput as e:
        f.close()
        print(f"{PROG}: {args.file}: {e}", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        S.f.close()
        print(f"{PROG}: cannot create {args.outdir}: {e.strerror}", file=sys.stderr)
        return 2
    written = []
    try:
        for y, x in MAPS:
            phase_map(S, y, x, args.outdir, args.dpi, written)
        for y, x in MAPS:
            delay_map(S, y, x, args.outdir, args.dpi, written)
        curves_figure(S, args.outdir, args.dpi, written)
        loss_figure(S, args.outdir, args.dpi, written)
        feature_rank_figure(S, args.outdir, args.dpi, written)
    finally:
        S.f.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
