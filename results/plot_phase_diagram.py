#!/usr/bin/python3
"""Plot the grokking phase diagram of a groksweep output file.

usage: plot_phase_diagram.py OUT.h5 -o DIR [--format png|pdf|svg] [--dpi N] [--plane Y,X ...]

Writes figures into DIR (created if missing), as PNG by default or as PDF or
SVG with --format (the names below with that extension), and prints their
paths:

  phase_data_fraction_weight_decay.png   phase of each grid point, data fraction x weight decay
  phase_train_size_weight_decay.png      the same over training-set size x weight decay (tasks
                                         that take a training-set size)
  phase_init_scale_weight_decay.png      the same over init scale x weight decay
  phase_init_scale_train_size.png        the same over init scale x training-set size (Omnigrok's
                                         plane)
  phase_imbalance_train_size.png         the same over imbalance x training-set size (Carvalho)
  delay_*.png                            grokking delay t_test - t_train (steps to 90% accuracy)
                                         over the same planes
  phase_Y_X.png, delay_Y_X.png           with --plane Y,X (repeatable), the two maps over any two
                                         grid axes with several values, by their coordinate names
                                         (Y vertical, X horizontal; string axes such as op as
                                         ticks in grid order), instead of the planes above; without
                                         --plane, when none of the planes above applies, the plane
                                         of the first two non-seed axes with several values
  delay_AXIS.png                         when a single non-seed axis has several values: the
                                         grokking delay against it, one marker per seed coloured
                                         by its phase, the line their median (grokking_delay_* at
                                         the sweep's phase threshold, else at 90%); log y when the
                                         delays span more than 10x
  curves_by_phase.png                    train and test accuracy, and beside it train and test
                                         loss (log scale), of one grid point per phase present;
                                         with several seeds the median over the seeds, shaded
                                         from their minimum to their maximum
  loss_vs_weight_norm.png                train and test loss against the weight norm, coloured by
                                         phase
  feature_rank.png                       each hidden layer's feature rank against the step, with
                                         test accuracy (sweeps with train.feature_rank)

Maps have one panel per value of the other grid axes (init_scale, lr, width,
...); seeds are aggregated by majority phase (ties go to the phase listed first
in the legend) and hatched where seeds disagree. Points a sweep with adaptive
refinement inferred rather than trained (status "inferred": its cell's corners
agreed) count only where no seed of a cell was trained: such a cell is drawn in
a lighter shade of its inferred phase's colour, dotted, as "inferred (not
trained)". A delay is the median over the seeds that reached 90% train and test
accuracy; blank where none did; inferred points have no delay (the delay
figures say how many were left out).
Delays are written in the cells in compact form (150, 1.2k, 3e4) at a font
size chosen so that they fit their cell when the figure is printed 3.4 inches
wide (a paper's column), between 5 and 7 points at that size; when the cells
are too small for 5 points the map keeps its colours only.

A figure whose axes or variables the file lacks is skipped with a note on
stderr. The file may belong to a sweep that is still running: it is read
without HDF5 file locking, and points not run yet show as "not run".

exit status: 0 figures written; 2 bad input (missing file, not a groksweep
sweep file, bad flags, a --plane axis the file has not or with a single value)
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
import matplotlib.ticker  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize, SymLogNorm, to_rgb  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

PROG = "plot_phase_diagram.py"

# Categories of a run: its phase when done, else its status. Ties in the
# majority over seeds go to the lower code. An inferred point (never trained)
# is drawn in its inferred phase's colour, lightened and dotted (INFERRED_*).
CATEGORIES = [  # (name, colour)
    ("not run", "#d9d9d9"),
    ("comprehension", "#009e73"),
    ("grokking", "#e69f00"),
    ("memorization", "#0072b2"),
    ("confusion", "#d55e00"),
    ("diverged", "#3b3b3b"),
    ("failed", "#cc79a7"),
    ("inferred (not trained)", "#f2f2f2"),
]
NOT_RUN, COMPREHENSION, GROKKING, MEMORIZATION, CONFUSION, DIVERGED, FAILED, INFERRED = range(len(CATEGORIES))
STATUS_INFERRED = 4  # groksweep's status code of an inferred point
INFERRED_HATCH = "...."
INFERRED_LIGHTEN = 0.55  # an inferred cell's colour: its phase's, this far towards white
PHASES = (COMPREHENSION, GROKKING, MEMORIZATION, CONFUSION)
MAPS = (("data_fraction", "weight_decay"), ("train_size", "weight_decay"), ("init_scale", "weight_decay"),
        ("init_scale", "train_size"), ("imbalance", "train_size"))
MAX_PANELS = 48
FORMATS = ("png", "pdf", "svg")
PRINT_WIDTH_IN = 3.4  # numbers in map cells are sized for the figure printed this wide (one column)
CELL_FONT_PT = (5.0, 7.0)  # smallest and largest font size of those numbers at that width
TRAIN_COLOUR, TEST_COLOUR = "#0072b2", "#d55e00"
MARKERS = "osD^v<>ph*"  # init scales in the loss figure
LINESTYLES = ("-", "--", ":", "-.")
DELAY_FILL = -2147483647  # grokking_delay_* where a level was never reached (groksweep's _FillValue)


class BadInput(Exception):
    pass


class Skip(Exception):
    """A figure the file cannot give; the message says why."""


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
    code[status == STATUS_INFERRED] = INFERRED
    done = (status == 1) & (phase >= 1) & (phase <= 4)
    code[done] = phase[done]  # phase codes 1-4 equal the category codes
    return code


def task_title(f):
    try:
        sweep = json.loads(text(f.attrs["sweep"]))
        task, grid = sweep.get("task", {}), sweep.get("grid", {})
    except (KeyError, ValueError, AttributeError):
        return ""
    kind = task.get("kind", "arithmetic")
    if kind == "arithmetic":
        return f"{'each op' if 'task.op' in grid else task.get('op', 'x+y')} mod {task.get('p', 59)}"
    if kind == "s5":
        return f"{'each op' if 'task.op' in grid else task.get('op', 'x.y')} in S5"
    if kind == "images":
        return f"images: {os.path.basename(os.path.dirname(task.get('train_images', 'fashion-mnist/')))}"
    if kind == "carvalho":
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
        phase = self.vars["phase"]
        inferred = (self.vars["status"] == STATUS_INFERRED) & (phase >= 1) & (phase <= 4)
        self.inferred_phase = np.where(inferred, phase, NOT_RUN).astype(np.int8)  # phase codes = category codes
        done = self.vars["status"] == 1
        self.delay = np.where(done, self.vars["test_acc_step_90"] - self.vars["train_acc_step_90"], np.nan)
        self.task = task_title(f)
        self.varied = [n for n in self.names if n != "seed" and self.length(n) > 1]

    def length(self, name):
        return len(self.coords[name]) if name in self.coords else 0

    def curve(self, name, index):
        """One point's curve (several with a slice in index); NaN if unreadable even after
        reopening the file (a running sweep rewrites compressed chunks, which may move them)."""
        index = tuple(index)
        try:
            return self.f[name][index].astype(float)
        except OSError:
            self.f.close()
            self.f = open_hdf5(self.path)
        values = read(self.f, name, index)
        if values is None:
            values = np.full(np.broadcast_to(np.empty((), bool), self.f[name].shape)[index].shape, np.nan)
        return values

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


def compact(value):
    """A step count in a few characters: 40, 130, 1.2k, 3e4, 3.5e4, −1.2k."""
    sign = "−" if value < 0 else ""
    a = abs(float(value))
    if round(a) < 1000:
        return f"{sign}{a:.0f}"
    if round(a, -2) < 10000:
        return f"{sign}{f'{a / 1000:.1f}'.rstrip('0').rstrip('.')}k"
    mantissa, exponent = f"{a:.1e}".split("e")
    return f"{sign}{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def pretty(name):
    return name.replace("_", " ")


def seed_last(arr, names):
    """arr with the seed axis last (a length-1 one added when there is none) and the other names."""
    if "seed" in names:
        k = names.index("seed")
        return np.moveaxis(arr, k, -1), names[:k] + names[k + 1:]
    return arr[..., None], list(names)


def majority(code, names):
    """Majority category over seeds that ran (inferred ones did not); whether they disagree;
    whether some did not run."""
    c, rest = seed_last(code, names)
    counts = np.stack([(c == k).sum(-1) for k in range(len(CATEGORIES))], -1)
    ran = counts.copy()
    ran[..., NOT_RUN] = 0
    ran[..., INFERRED] = 0
    n_ran = ran.sum(-1)
    top = np.where(n_ran > 0, ran.argmax(-1), NOT_RUN)
    disagree = (ran > 0).sum(-1) > 1
    partial = (counts[..., NOT_RUN] > 0) & (n_ran > 0)
    return top, disagree, partial, rest


def inferred_majority(S):
    """Per cell (seeds aggregated): the phase most of its inferred seeds have (ties to the lower
    code), NOT_RUN where none is inferred."""
    c, _ = seed_last(S.inferred_phase, S.names)
    counts = np.stack([(c == k).sum(-1) for k in PHASES], -1)
    return np.where(counts.sum(-1) > 0, np.array(PHASES)[counts.argmax(-1)], NOT_RUN)


def inferred_colour(k):
    """Phase k's colour lightened towards white: an inferred cell's face."""
    return tuple(c + (1 - c) * INFERRED_LIGHTEN for c in to_rgb(CATEGORIES[k][1]))


def inferred_note(S, name):
    """'; N inferred points (not trained) have no delay', also noted on stderr for the figure
    `name`; '' when there are none."""
    n = int((S.vars["status"] == STATUS_INFERRED).sum())
    if not n:
        return ""
    what = f"{n} inferred point{'s' if n != 1 else ''} (not trained) {'have' if n != 1 else 'has'} no delay"
    note(f"{name}: {what}, left out")
    return f"; {what}"


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


def printed_scale(fig):
    """Printed size over drawn size when the saved figure (tight bounding box, as written) is
    set PRINT_WIDTH_IN wide. Lays the figure out."""
    fig.draw_without_rendering()
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width + 2 * plt.rcParams["savefig.pad_inches"]
    return PRINT_WIDTH_IN / width


def cell_font_size(fig, ax, ny, nx, labels):
    """The font size (drawn points) for labels in the ny x nx cells of ax: as large as fits a
    cell with a margin, at most CELL_FONT_PT[1] printed; None when that is under CELL_FONT_PT[0]
    printed (the figure printed PRINT_WIDTH_IN wide)."""
    scale = printed_scale(fig)
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    to_pt = 72 / fig.dpi
    cell_w, cell_h = box.width * to_pt / nx, box.height * to_pt / ny
    prop = FontProperties(size=10)
    width_10pt = max(renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in labels) * to_pt
    fits = min(0.85 * cell_w * 10 / max(width_10pt, 1e-9), 0.6 * cell_h)
    printed = min(fits * scale, CELL_FONT_PT[1])
    return printed / scale if printed >= CELL_FONT_PT[0] else None


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
             ((1, "done"), (2, "diverged"), (3, "failed"), (STATUS_INFERRED, "inferred (not trained)"),
              (0, "not run")) if (status == code).any()]
    return f"{status.size} runs: " + ", ".join(parts)


# ---- figures ------------------------------------------------------------------------------------
#
# Each figure function returns a matplotlib Figure, or raises Skip when the file cannot give it;
# `name` is the file name the figure will be written as, for notes.


def phase_map(S, y, x, name=None):
    reason = map_skip_reason(S, y, x)
    if reason:
        raise Skip(reason)
    top, disagree, partial, rest = majority(S.code, S.names)
    guess = np.where(top == NOT_RUN, inferred_majority(S), NOT_RUN)  # cells no seed of which was trained
    (top, disagree, partial, guess), titles, panel_axes = arrange([top, disagree, partial, guess], rest, S.coords,
                                                                  y, x)
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
        for j, i in zip(*np.nonzero(guess[k])):
            phase = guess[k][j, i]
            ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor=inferred_colour(phase), hatch=INFERRED_HATCH,
                                   edgecolor=CATEGORIES[phase][1], linewidth=0, gid="inferred"))
        js, is_ = np.nonzero(partial[k])
        ax.plot(is_, js, "o", ms=4, mfc="white", mec="black", mew=0.8, linestyle="none")
        categorical_axes(ax, S.coords, y, x)
        if titles[k]:
            ax.set_title(titles[k], fontsize=9)
    label_outer(axes, y, x, grid_shape(len(titles), panel_axes, S.coords)[1])
    present = set(np.unique(np.where(guess != NOT_RUN, guess, top))) | set(PHASES)
    handles = category_handles(k for k in range(len(CATEGORIES)) if k in present)
    if disagree.any():
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="seeds disagree"))
    if guess.any():
        handles.append(Patch(facecolor=CATEGORIES[INFERRED][1], edgecolor="0.4", hatch=INFERRED_HATCH,
                             label=CATEGORIES[INFERRED][0]))
    if partial.any():
        handles.append(Line2D([], [], marker="o", ms=5, mfc="white", mec="black", linestyle="none",
                              label="some seeds not run"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
    task = f"{S.task}, " if S.task else ""
    fig.suptitle(f"Phase ({seeds_text(S, 'majority')})\n{task}{status_counts(S)}", fontsize=11)
    return fig


def category_handles(codes):
    """Legend entries of categories, in the colours of the phase maps."""
    return [Patch(facecolor=CATEGORIES[k][1], edgecolor="0.5", label=CATEGORIES[k][0]) for k in codes]


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


def delay_map(S, y, x, name=None):
    """Median delay per cell; the values are written in the cells when they fit (cell_font_size)."""
    name = name or f"delay_{y}_{x}.png"
    reason = map_skip_reason(S, y, x)
    if reason:
        raise Skip(reason)
    med, rest = nanmedian_over_seeds(S.delay, S.names)
    (med,), titles, panel_axes = arrange([med], rest, S.coords, y, x)
    finite = med[np.isfinite(med)]
    if finite.size == 0:
        raise Skip("no point reached 90% train and test accuracy")
    norm = delay_norm(finite, eval_spacing(S))
    ny, nx = med.shape[1:]
    fig, axes = panel_figure(len(titles), panel_axes, S.coords, ny, nx)
    cmap = plt.get_cmap("viridis")
    image = None
    for k, ax in enumerate(axes):
        ax.set_facecolor("#ececec")
        image = ax.imshow(np.ma.masked_invalid(med[k]), cmap=cmap, norm=norm, origin="lower", aspect="auto",
                          interpolation="nearest")
        categorical_axes(ax, S.coords, y, x)
        if titles[k]:
            ax.set_title(titles[k], fontsize=9)
    label_outer(axes, y, x, grid_shape(len(titles), panel_axes, S.coords)[1])
    bar = fig.colorbar(image, ax=axes, shrink=0.9 if len(axes) > 1 else 1.0)
    bar.set_label("t_test − t_train (steps)")
    fig.suptitle(f"Grokking delay to 90% accuracy ({seeds_text(S, 'median')})\n"
                 f"grey: train or test accuracy never reached 90%{inferred_note(S, name)}", fontsize=11)
    size = cell_font_size(fig, axes[0], ny, nx, [compact(v) for v in finite])
    if size is None:
        note(f"{name}: cells too small for legible numbers at a {PRINT_WIDTH_IN:g}-inch width; colours only")
        return fig
    for k, ax in enumerate(axes):
        for j, i in zip(*np.nonzero(np.isfinite(med[k]))):
            v = med[k][j, i]
            ax.text(i, j, compact(v), ha="center", va="center", fontsize=size,
                    color="white" if norm(v) < 0.55 else "black")
    return fig

def delay_variable(S):
    """The per-point grokking delay of the 1-D delay figure and its accuracy level in percent:
    the file's grokking_delay_<level> at the sweep's phase threshold if it has one, else
    grokking_delay_90, else test_acc_step_90 - train_acc_step_90. NaN where a seed never reached
    the level or did not finish."""
    try:
        threshold = float(json.loads(text(S.f.attrs["sweep"])).get("phase", {}).get("threshold", 0.9))
    except (KeyError, ValueError, AttributeError, TypeError):
        threshold = 0.9
    done = S.vars["status"] == 1
    for level in dict.fromkeys((int(round(threshold * 100)), 90)):
        name = f"grokking_delay_{level}"
        values = read(S.f, name)
        if values is not None and values.shape == S.shape:
            fill = S.f[name].attrs.get("_FillValue", DELAY_FILL)
            fill = float(np.asarray(fill).ravel()[0]) if np.size(fill) else DELAY_FILL
            return np.where(done & (values != fill) & (values != DELAY_FILL), values, np.nan), level
    return S.delay, 90


def delay_scale(ax, values, step):
    """Log y when the delays span more than 10x (symmetric log when some are 0 or negative)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo > 0 and hi / lo > 10:
        ax.set_yscale("log")
    elif lo <= 0 < hi and hi / step > 10:
        ax.set_yscale("symlog", linthresh=step, linscale=0.5)


def delay_1d_figure(S, axis, name=None):
    """The grokking delay against the one non-seed axis with several values: a marker per seed,
    coloured by its phase, and the median over the seeds that reached the level."""
    name = name or f"delay_{axis}.png"
    delay, level = delay_variable(S)
    k = S.names.index(axis)
    seed_k = S.names.index("seed") if "seed" in S.names else None
    index = tuple(slice(None) if i in (k, seed_k) else 0 for i in range(len(S.names)))

    def per_value(a):  # (n values, n seeds)
        a = a[index]
        return a[:, None] if seed_k is None else a if k < seed_k else a.T

    order = sorted_order(S.coords[axis])
    values = S.coords[axis][order]
    d, code = per_value(delay)[order], per_value(S.code)[order]
    finite = d[np.isfinite(d)]
    if finite.size == 0:
        raise Skip(f"no point reached {level}% train and test accuracy")
    numeric = values.dtype.kind in "iuf"
    xs = values.astype(float) if numeric else np.arange(len(values), dtype=float)
    n_seeds = d.shape[1]
    fig, ax = plt.subplots(figsize=(max(4.2, 0.55 * len(values) + 2.2), 3.4), layout="constrained")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # values no seed reached stay NaN
        median = np.nanmedian(d, axis=1)
    ax.plot(xs, median, color="0.2", linewidth=1.4, zorder=2, label="median")
    present = set()
    for s in range(n_seeds):
        marker = MARKERS[s % len(MARKERS)]
        for j in np.nonzero(np.isfinite(d[:, s]))[0]:
            present.add(int(code[j, s]))
            ax.plot(xs[j], d[j, s], marker, ms=6, color=CATEGORIES[code[j, s]][1], mec="0.2", mew=0.5,
                    linestyle="none", zorder=3, gid="seed delay")
    missing = (~np.isfinite(d) & (code != INFERRED)).sum(1)  # inferred points were not trained
    top = ax.get_xaxis_transform()
    for j in np.nonzero(missing)[0]:
        ax.plot(xs[j], 0.97, "v", ms=6, mfc="white", mec="0.3", transform=top, clip_on=False, zorder=3,
                gid="never reached")
        if missing[j] > 1:
            ax.text(xs[j], 0.97, f" {missing[j]}", transform=top, fontsize=7, va="center", ha="left")
    delay_scale(ax, finite, eval_spacing(S))
    if numeric:
        if xs.min() > 0 and xs.max() / xs.min() >= 20:
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xticks(xs, [fmt(v) for v in values])
    else:
        ax.set_xticks(xs, [fmt(v) for v in values], rotation=45 if len(values) > 6 else 0)
        ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_xlabel(pretty(axis))
    ax.set_ylabel(f"t_test − t_train at {level}% (steps)")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    handles = category_handles(sorted(present))
    if n_seeds > 1:
        handles += [Line2D([], [], marker=MARKERS[s % len(MARKERS)], color="0.4", linestyle="none",
                           label=f"seed {fmt(S.coords['seed'][s])}") for s in range(n_seeds)]
    handles.append(Line2D([], [], color="0.2", linewidth=1.4, label="median"))
    if missing.any():
        handles.append(Line2D([], [], marker="v", mfc="white", mec="0.3", linestyle="none",
                              label=f"never reached {level}%\n(number of seeds)"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    task = f"{S.task}, " if S.task else ""
    fig.suptitle(f"Grokking delay to {level}% accuracy against {pretty(axis)}\n{task}"
                 f"{seeds_text(S, 'one marker for each')}, {status_counts(S)}{inferred_note(S, name)}",
                 fontsize=10)
    return fig


def median_pick(indices, keys):
    ok = np.isfinite(keys)
    if ok.any():
        indices, keys = indices[ok], keys[ok]
    return tuple(indices[np.argsort(keys, kind="stable")[len(keys) // 2]])


def phase_key(S, k):
    """What picks a phase's example: the delay for comprehension and grokking, the final test
    accuracy otherwise."""
    return S.delay if k in (COMPREHENSION, GROKKING) else S.vars["final_test_acc"]


def examples(S):
    """One point per phase present: the median delay for comprehension and grokking, the median
    final test accuracy otherwise. [(phase code, index)]"""
    picks = []
    for k in PHASES:
        idx = np.argwhere(S.code == k)
        if len(idx) == 0:
            continue
        picks.append((k, median_pick(idx, phase_key(S, k)[tuple(idx.T)])))
    return picks


def curve_examples(S):
    """The points of the curves figure: [(phase code, index, title)]. Without several seeds,
    examples(S). With several, one grid cell per phase present, the index holding slice(None)
    on the seed axis: among the cells where the phase is the majority over seeds (else where
    any seed is in it), the one with the median of the key over the seeds in the phase."""
    n_seeds = S.length("seed")
    if n_seeds < 2:
        return [(k, index, f"{CATEGORIES[k][0]}\n{S.point_label(index)}") for k, index in examples(S)]
    where = S.names.index("seed")
    top = majority(S.code, S.names)[0]
    code = seed_last(S.code, S.names)[0]
    picks = []
    for k in PHASES:
        in_phase = code == k
        cells = np.argwhere(top == k)
        if len(cells) == 0:
            cells = np.argwhere(in_phase.any(-1))
        if len(cells) == 0:
            continue
        key = np.where(in_phase, seed_last(phase_key(S, k), S.names)[0], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            key = np.nanmedian(key, axis=-1)
        cell = median_pick(cells, key[tuple(cells.T)])
        index = cell[:where] + (slice(None),) + cell[where:]
        title = (f"{CATEGORIES[k][0]} in {int(in_phase[cell].sum())} of {n_seeds} seeds\n"
                 f"{S.point_label(index, skip=('seed',))}")
        picks.append((k, index, title))
    return picks


def step_axis(ax, steps):
    positive = steps[steps > 0]
    if len(positive):
        ax.set_xscale("symlog", linthresh=float(positive.min()), linscale=0.4)
    ax.set_xlim(left=0, right=float(steps.max()) if len(steps) else 1)


def spread(ax, steps, curves, colour, label):
    """The median of curves (one per row) and, with several, a band from their minimum to their
    maximum."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # steps no curve reached stay NaN
        mid, lo, hi = np.nanmedian(curves, 0), np.nanmin(curves, 0), np.nanmax(curves, 0)
    ax.plot(steps, mid, color=colour, label=label)
    if len(curves) > 1:
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(steps, np.where(ok, lo, 0), np.where(ok, hi, 0), where=ok, color=colour, alpha=0.25,
                        linewidth=0, label=f"{label}: min–max over seeds")


def common_log_limits(axes):
    """The same log-scale y range on axes, spanning the positive values of their train and test
    lines."""
    values = [line.get_ydata() for ax in axes for line in ax.get_lines() if line.get_label() in ("train", "test")]
    values = np.concatenate([np.asarray(v, float) for v in values]) if values else np.array([])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        margin = (hi / lo) ** 0.04 if hi > lo else 2.0
        for ax in axes:
            ax.set_ylim(lo / margin, hi * margin)


def curves_figure(S, name="curves_by_phase.png"):
    """Per phase present, accuracy and beside it loss (log scale) of curve_examples(S): the
    median over the seeds that finished, with a min–max band when there are several."""
    if not S.has("eval_step", "curve_train_acc", "curve_test_acc"):
        raise Skip("the file has no accuracy curves")
    picks = curve_examples(S)
    if not picks:
        raise Skip("no point is done")
    has_loss = S.has("curve_train_loss", "curve_test_loss")
    if not has_loss:
        note(f"{name}: the file has no loss curves; accuracy only")
    steps = S.f["eval_step"][...].astype(float)
    several = S.length("seed") > 1
    per_row = min(len(picks), 2)
    rows = -(-len(picks) // per_row)
    width = (6.8 if has_loss else 3.8) * per_row
    fig = plt.figure(figsize=(width, 3.3 * rows + 0.6), layout="constrained")
    subfigs = fig.subfigures(rows, per_row, squeeze=False)
    loss_axes = []
    lines = max(title.count("\n") for _, _, title in picks)
    for sub, (k, index, title) in zip(subfigs.flat, picks):
        title = "\n" * (lines - title.count("\n")) + title  # panels of a row level
        axs = sub.subplots(1, 2 if has_loss else 1, squeeze=False)[0]
        done = np.atleast_1d(S.vars["status"][index] == 1)
        sides = (("train", TRAIN_COLOUR), ("test", TEST_COLOUR))
        kinds = [(axs[0], "acc", "accuracy")] + ([(axs[1], "loss", "loss")] if has_loss else [])
        for ax, var, label in kinds:
            ax.set_label(label)
            for side, colour in sides:
                curves = np.atleast_2d(S.curve(f"curve_{side}_{var}", index))[done]
                if var == "loss":
                    curves = np.where(curves > 0, curves, np.nan)
                spread(ax, steps, curves, colour, side)
            for var90, colour in (("train_acc_step_90", TRAIN_COLOUR), ("test_acc_step_90", TEST_COLOUR)):
                t = np.atleast_1d(S.vars[var90][index])[done]
                if np.isfinite(t).any():
                    ax.axvline(float(np.nanmedian(t)), color=colour, linestyle=":", linewidth=1)
            step_axis(ax, steps)
            ax.set_xlabel("step")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        axs[0].set_ylim(-0.02, 1.02)
        if has_loss:
            axs[1].set_yscale("log")
            loss_axes.append(axs[1])
        sub.suptitle(title, fontsize=9)
    for sub in subfigs.flat[len(picks):]:
        sub.set_visible(False)
    common_log_limits(loss_axes)
    handles = [Line2D([], [], color=TRAIN_COLOUR, label="train"), Line2D([], [], color=TEST_COLOUR, label="test")]
    if several:
        handles[0].set_label("train, median")
        handles[1].set_label("test, median")
        handles.append(Patch(facecolor="0.6", alpha=0.5, label=f"min–max over {S.length('seed')} seeds"))
    handles.append(Line2D([], [], color="0.3", linestyle=":", linewidth=1, label="first step at 90%"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False)
    what = "Accuracy and loss" if has_loss else "Accuracy"
    if several:
        title = (f"{what} of one grid point per phase: median over its {S.length('seed')} seeds, "
                 "shaded from their minimum to their maximum\n(dotted: first step at 90%, median over "
                 "the seeds that reached it)")
    else:
        title = f"{what} of one point per phase (dotted: first step at 90%)"
    fig.suptitle(title, fontsize=11)
    return fig


def trajectory_points(S, picks):
    """init_scale's values at the median grokking point's other coordinates (done points only);
    without an init_scale axis, the examples of each phase. [(label, index, colour, linestyle)],
    coloured by the point's phase."""
    done = S.vars["status"] == 1
    if S.length("init_scale") > 1 and picks:
        ref = list(dict(picks).get(GROKKING, picks[0][1]))
        k = S.names.index("init_scale")
        out = []
        for n, i in enumerate(sorted_order(S.coords["init_scale"])):
            ref[k] = i
            index = tuple(ref)
            if done[index]:
                name, colour = CATEGORIES[S.code[index]]
                out.append((f"α = {fmt(S.coords['init_scale'][i])}: {name}", index, colour,
                            LINESTYLES[n % len(LINESTYLES)]))
        return out
    return [(CATEGORIES[k][0], index, CATEGORIES[k][1], "-") for k, index in picks]


def init_scale_groups(S):
    """[(label, mask over the grid, marker)] per init_scale value, or one group of all points."""
    if S.length("init_scale") < 2:
        return [(None, np.ones(S.shape, bool), "o")]
    k = S.names.index("init_scale")
    values = S.coords["init_scale"]
    order = sorted_order(values)
    which = np.arange(len(values)).reshape([-1 if d == k else 1 for d in range(len(S.shape))])
    return [(f"α = {fmt(values[i])}", np.broadcast_to(which == i, S.shape), MARKERS[n % len(MARKERS)])
            for n, i in enumerate(order)]


def loss_scatter(S, axs):
    """Final losses of the finished runs, coloured by phase (the phase maps' colours), one marker
    per init scale. Returns the legend entries."""
    done = S.vars["status"] == 1
    norm = S.vars["final_weight_norm"]
    present = [k for k in range(len(CATEGORIES)) if (done & (S.code == k)).any()]
    groups = init_scale_groups(S)
    for ax, var, side in zip(axs, ("final_train_loss", "final_test_loss"), ("train", "test")):
        ax.set_label(f"final {side} loss")
        for k in present:
            for label, mask, marker in groups:
                sel = done & mask & (S.code == k)
                loss = S.vars[var][sel]
                ok = np.isfinite(loss) & (loss > 0) & np.isfinite(norm[sel])
                if ok.any():
                    ax.scatter(norm[sel][ok], loss[ok], s=16, color=CATEGORIES[k][1], marker=marker, alpha=0.85,
                               edgecolors="none", label=CATEGORIES[k][0])
        ax.set_yscale("log")
        ax.set_xlim(left=-0.02 * ax.get_xlim()[1])  # norm 0 (collapsed weights) stays visible
        ax.set_xlabel("final weight norm ‖w‖")
        ax.set_ylabel(f"final {side} loss")
        ax.set_title(f"{side} loss at the end of each run", fontsize=10)
        ax.grid(alpha=0.3)
    handles = category_handles(present)
    if len(groups) > 1:
        handles += [Line2D([], [], marker=marker, color="0.4", linestyle="none", label=label)
                    for label, _, marker in groups]
    return handles


def loss_trajectories(S, axs, points):
    drawn = False
    for ax, var, side in zip(axs, ("curve_train_loss", "curve_test_loss"), ("train", "test")):
        ax.set_label(f"{side} loss trajectory")
        for label, index, c, style in points:
            norm, loss = S.curve("curve_weight_norm", index), S.curve(var, index)
            ok = np.isfinite(norm) & np.isfinite(loss) & (loss > 0)
            if not ok.any():
                continue
            ax.plot(norm[ok], loss[ok], color=c, linestyle=style, label=label, linewidth=1.3)
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


def loss_figure(S, name="loss_vs_weight_norm.png"):
    if not S.has("final_train_loss", "final_test_loss", "final_weight_norm"):
        raise Skip("the file has no final losses or weight norms")
    if not (S.vars["status"] == 1).any():
        raise Skip("no point is done")
    has_curves = S.has("curve_train_loss", "curve_test_loss", "curve_weight_norm")
    points = trajectory_points(S, examples(S)) if has_curves else []
    rows = 2 if points else 1
    fig, axs = plt.subplots(rows, 2, figsize=(9.5, 3.8 * rows), squeeze=False, layout="constrained")
    handles = loss_scatter(S, axs[0])
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9, frameon=False,
               title="phase" + (", init scale" if S.length("init_scale") > 1 else ""), title_fontsize=9)
    title = ("Loss against weight norm, coloured by phase (compare Omnigrok's L-shaped train and "
             "U-shaped test loss)")
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
    return fig


def feature_rank_figure(S, name="feature_rank.png"):
    """One panel per grid point (up to MAX_PANELS): each hidden layer's feature rank against the step, and
    test accuracy on a second axis."""
    if not S.has("curve_feature_rank", "hidden_layer", "eval_step"):
        raise Skip("the file has no feature ranks (train.feature_rank)")
    done = [index for index in np.ndindex(S.shape) if S.vars["status"][index] == 1]
    if not done:
        raise Skip("no point is done")
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
        acc.plot(steps, S.curve("curve_test_acc", index), color=TEST_COLOUR, linestyle="--", linewidth=1.2)
        acc.set_ylim(-0.02, 1.02)
        acc.set_ylabel("test accuracy", color=TEST_COLOUR)
    for ax in axs.flat[len(done):]:
        ax.set_visible(False)
    deepest = max(axs.flat[:len(done)], key=lambda ax: len(ax.get_lines()))
    handles, labels = deepest.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Feature rank of each hidden layer on the test set (dashed: test accuracy)", fontsize=11)
    return fig


def planes_of(S, planes=None):
    """The (y, x) planes of the maps: the given ones, else MAPS and, when none of those applies,
    the first two non-seed axes with several values."""
    if planes:
        return list(planes)
    maps = list(MAPS)
    if all(map_skip_reason(S, y, x) for y, x in MAPS) and len(S.varied) >= 2:
        maps.append(tuple(S.varied[:2]))
    return maps


def figures(S=None, planes=None):
    """[(file stem, figure function, its arguments after the sweep)] in the order written."""
    maps = planes_of(S, planes) if S is not None else list(MAPS)
    one_d = [(f"delay_{S.varied[0]}", delay_1d_figure, (S.varied[0],))] if S is not None and len(S.varied) == 1 \
        else []
    return ([(f"phase_{y}_{x}", phase_map, (y, x)) for y, x in maps]
            + [(f"delay_{y}_{x}", delay_map, (y, x)) for y, x in maps] + one_d
            + [("curves_by_phase", curves_figure, ()), ("loss_vs_weight_norm", loss_figure, ()),
               ("feature_rank", feature_rank_figure, ())])


def check_planes(S, values):
    """The --plane values as [(y, x)], in order without repeats; BadInput naming the flag, the
    value and the allowed axis names when one is not two distinct axes with several values."""
    allowed = ", ".join(S.varied) if S.varied else "none"
    planes = []
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2 or not all(parts):
            reason = "expected two axis names Y,X"
        elif parts[0] == parts[1]:
            reason = f"the same axis {parts[0]!r} twice"
        else:
            reason = None
            for n in parts:
                if n not in S.coords:
                    reason = f"no grid axis {n!r}"
                elif n == "seed":
                    reason = "seed is not an axis of a map (the maps aggregate the seeds)"
                elif S.length(n) < 2:
                    reason = f"{n} has a single value"
                if reason:
                    break
        if reason:
            raise BadInput(f"argument --plane: {value!r}: {reason}; allowed axis names (grid axes with "
                           f"several values): {allowed}")
        if tuple(parts) not in planes:
            planes.append(tuple(parts))
    return planes


def write_figures(S, outdir, fmt="png", dpi=130, planes=None):
    """Every figure the file gives, as outdir/STEM.fmt; notes the skipped ones. The paths written."""
    written = []
    for stem, draw, args in figures(S, planes):
        name = f"{stem}.{fmt}"
        try:
            fig = draw(S, *args, name=name)
        except Skip as e:
            note(f"skipping {name}: {e}")
            continue
        path = os.path.join(outdir, name)
        try:
            fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
        written.append(path)
    return written


# ---- main ---------------------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        """Bad flags: one line on stderr, exit 2."""
        self.exit(2, f"{PROG}: {message} (see --help)\n")


def parse_args(argv):
    p = ArgumentParser(prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=__doc__[__doc__.index("Writes"):].split("\nexit status")[0],
                       epilog="exit status: 0 figures written; 2 bad input (missing file, not a "
                              "groksweep sweep file, bad flags, a --plane axis the file has not or with "
                              "a single value)",
                       usage="%(prog)s OUT.h5 -o DIR [--format png|pdf|svg] [--dpi N] [--plane Y,X ...]")
    p.add_argument("file", metavar="OUT.h5", help="output of groksweep run")
    p.add_argument("-o", "--outdir", metavar="DIR", required=True, help="directory for the figures")
    p.add_argument("--format", choices=FORMATS, default="png", metavar="{png,pdf,svg}",
                   help="file format of every figure (default png); the names keep their stems")
    p.add_argument("--dpi", type=int, default=130, metavar="N",
                   help="resolution of PNG files, and of the map images inside PDF and SVG files "
                        "(default 130)")
    p.add_argument("--plane", action="append", default=[], metavar="Y,X",
                   help="draw the phase and delay maps over grid axes Y (vertical) and X (horizontal), "
                        "by coordinate name (e.g. op,data_fraction), instead of the default planes; "
                        "repeatable")
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
        planes = check_planes(S, args.plane)
    except BadInput as e:
        S.f.close()
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        S.f.close()
        print(f"{PROG}: cannot create {args.outdir}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        written = write_figures(S, args.outdir, args.format, args.dpi, planes)
    finally:
        S.f.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
