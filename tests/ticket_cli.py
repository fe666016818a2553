"""Lottery tickets from the command line: the weights file (`train
--save-weights`) read back exactly, the ticket's mask as Minegishi et al.
draw it (global magnitude pruning of the weight matrices, rewound to the
initial weights), masked entries exactly 0 after training (also under
train.fixed_norm), the norm-matched control, kept fraction 1 = the dense run,
and one-line errors with exit status 2 and nothing written for bad input.

usage: ticket_cli.py GROKSWEEP_BINARY WORKDIR
"""
import json
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
from harness import ENV, check, finish

BINARY, WORKDIR = sys.argv[1:3]
HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "sweeps", "gromov_addition.json")
SHORT = ["--set", "train.steps=60", "--set", "train.early_stop.patience=0"]
SOURCE_STEPS = 80


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300, env=ENV)


def trained(*args):
    """Run groksweep with args; the summary, after checking exit status 0."""
    result = run(*args)
    check(result.returncode == 0, f"{args[:2]}: exit 0, got {result.returncode}: {result.stderr}")
    return json.loads(result.stdout) if result.returncode == 0 else None


def tensors(path):
    """{group: {name: array}} of a weights file."""
    with h5py.File(path, "r") as f:
        return {group: {name: f[group][name][...] for name in f[group]} for group in ("initial", "final")}


def expected_mask(final, kept):
    """Global magnitude pruning over the weight matrices (every tensor of this bias-free MLP): the
    floor((1 - kept) n) smallest |w| and any tied with the last of them are pruned."""
    names = sorted(final)
    magnitudes = np.concatenate([np.abs(final[n]).ravel() for n in names])
    k = math.floor((1 - kept) * magnitudes.size)
    threshold = np.sort(magnitudes)[k - 1]
    return {n: np.abs(final[n]) > threshold for n in names}


def same_tensors(a, b):
    return sorted(a) == sorted(b) and all(a[n].shape == b[n].shape and np.array_equal(a[n], b[n]) for n in a)


def weights_file(dense_path):
    with h5py.File(dense_path, "r") as f:
        check(f.attrs["format"] == b"groksweep weights" and int(f.attrs["format_version"]) == 1,
              "weights file: format and format_version attributes")
        check(b"width=256" in f.attrs["model_structure"], "weights file: model_structure names the shapes")
        check(json.loads(f.attrs["config"])["train"]["steps"] == SOURCE_STEPS, "weights file: the run's config")
        shapes = {n: f["initial"][n].shape for n in f["initial"]}
        check(shapes == {"layers.0.weight": (256, 118), "out.weight": (59, 256)},
              f"one dataset per tensor, named and shaped as the parameter table: {shapes}")
        check(all(f[g][n].dtype == np.float32 for g in ("initial", "final") for n in f[g]), "float32 tensors")


def tickets():
    dense_path = os.path.join(WORKDIR, "dense.h5")
    source = ["--set", f"train.steps={SOURCE_STEPS}", "--set", "train.early_stop.patience=0"]
    dense = trained("train", CONFIG, *source, "--save-weights", dense_path)
    weights_file(dense_path)
    w = tensors(dense_path)
    again_path = os.path.join(WORKDIR, "again.h5")
    trained("train", CONFIG, *source, "--save-weights", again_path)
    check(same_tensors(w["initial"], tensors(again_path)["initial"])
          and same_tensors(w["final"], tensors(again_path)["final"]), "a run saves the same weights twice")

    # The ticket of the saved run, from the file and trained in-process from the same config: identical.
    ticket_path = os.path.join(WORKDIR, "ticket.h5")
    from_file = trained("ticket", dense_path, CONFIG, "--kept-fraction", "0.4", *SHORT, "--save-weights", ticket_path)
    in_process = trained("train", CONFIG, *SHORT, "--set", "ticket.kept_fraction=0.4",
                         "--set", f"ticket.source_steps={SOURCE_STEPS}")
    check(all(from_file[k] == in_process[k] for k in ("final", "train_acc_step", "test_acc_step")),
          "the ticket of the weights file equals the ticket of the run trained first (the file reads back exactly)")
    t = tensors(ticket_path)
    mask = expected_mask(w["final"], 0.4)
    kept = sum(m.sum() for m in mask.values()) / sum(m.size for m in mask.values())
    check(abs(kept - 0.4) < 1e-3, f"about 40% of the weights kept: {kept:.4f}")
    check(all(np.array_equal(t["initial"][n], np.where(mask[n], w["initial"][n], 0)) for n in mask),
          "the ticket starts at the dense run's initial weights under the global magnitude mask of its final ones")
    check(all((t["final"][n][~mask[n]] == 0).all() for n in mask), "pruned weights are exactly 0 after training")
    check(all((t["final"][n][mask[n]] != t["initial"][n][mask[n]]).any() for n in mask), "kept weights train")

    fixed_path = os.path.join(WORKDIR, "fixed.h5")
    trained("ticket", dense_path, CONFIG, "--kept-fraction", "0.4", *SHORT, "--set", "train.fixed_norm=true",
            "--save-weights", fixed_path)
    f = tensors(fixed_path)
    check(all((f["final"][n][~mask[n]] == 0).all() for n in mask), "pruned weights stay 0 under train.fixed_norm")
    norms = [math.sqrt(sum(float(np.sum(np.square(x[n], dtype=np.float64))) for n in x))
             for x in (f["initial"], f["final"])]
    check(abs(norms[1] / norms[0] - 1) < 1e-5, f"train.fixed_norm keeps the ticket's initial norm: {norms}")

    control_path = os.path.join(WORKDIR, "control.h5")
    control = trained("ticket", dense_path, CONFIG, "--kept-fraction", "0.4", "--control", "norm_matched", *SHORT,
                      "--save-weights", control_path)
    c = tensors(control_path)
    ticket_norm = math.sqrt(sum(float(np.sum(np.square(t["initial"][n], dtype=np.float64))) for n in mask))
    dense_norm = math.sqrt(sum(float(np.sum(np.square(w["initial"][n], dtype=np.float64))) for n in mask))
    check(all(np.allclose(c["initial"][n], w["initial"][n] * (ticket_norm / dense_norm), rtol=1e-6, atol=0)
              for n in mask), "the control starts at the dense initial weights scaled to the ticket's L2 norm")
    check(abs(control["final"]["step"] - 60) == 0 and all((c["final"][n] != 0).mean() > 0.99 for n in mask),
          "the control is dense")
    check(control["config"]["ticket"]["control"] == "norm_matched", "the control's config records it")

    # Kept fraction 1 is the dense run, whatever the other ticket keys say.
    plain = trained("train", CONFIG, *SHORT)
    one = trained("train", CONFIG, *SHORT, "--set", "ticket.kept_fraction=1", "--set", "ticket.source_steps=30")
    one_file = trained("ticket", dense_path, CONFIG, "--kept-fraction", "1", *SHORT)
    check(one["final"] == plain["final"] and one_file["final"] == plain["final"]
          and one["seeds"] == plain["seeds"], "a ticket with kept fraction 1 is exactly the dense run")
    check(dense["seeds"] == trained("train", CONFIG, *source, "--set", "ticket.kept_fraction=0.5")["seeds"],
          "a ticket run keeps the seeds of its config")
    return dense_path


def bad_input(dense_path):
    other = os.path.join(WORKDIR, "other.h5")
    trained("train", CONFIG, "--set", "model.width=100", "--set", "train.steps=1", "--save-weights", other)
    plain_hdf5 = os.path.join(WORKDIR, "plain.h5")
    with h5py.File(plain_hdf5, "w") as f:
        f["x"] = np.zeros(3)
    truncated = os.path.join(WORKDIR, "truncated.h5")
    with h5py.File(truncated, "w") as f:
        f.attrs["format"] = np.bytes_(b"groksweep weights")
        f.attrs["format_version"] = np.int32(1)
        f.create_group("initial")
    out, curve = os.path.join(WORKDIR, "out.h5"), os.path.join(WORKDIR, "out.csv")
    writes = ["--save-weights", out, "--curve", curve]
    ticket = ["ticket", dense_path, CONFIG]
    cases = [
        ([*ticket, "--kept-fraction", "0"], ["--kept-fraction", "0", "(0, 1]"]),
        ([*ticket, "--kept-fraction", "1.5"], ["--kept-fraction", "1.5", "(0, 1]"]),
        ([*ticket, "--kept-fraction", "half"], ["--kept-fraction", "half", "(0, 1]"]),
        ([*ticket], ["--kept-fraction"]),
        ([*ticket, "--kept-fraction", "0.4", "--control", "sparse"], ["--control", "sparse", "norm_matched"]),
        (["ticket", other, CONFIG, "--kept-fraction", "0.4"],
         ["other.h5", "layers.0.weight", "(100, 118)", "(256, 118)"]),
        (["ticket", dense_path, CONFIG, "--kept-fraction", "0.4", "--set", "model.width=100"],
         ["dense.h5", "layers.0.weight", "(256, 118)", "(100, 118)"]),
        (["ticket", CONFIG, CONFIG, "--kept-fraction", "0.4"], ["gromov_addition.json", "not a weights file"]),
        (["ticket", plain_hdf5, CONFIG, "--kept-fraction", "0.4"], ["plain.h5", "not a weights file", "format"]),
        (["ticket", truncated, CONFIG, "--kept-fraction", "0.4"], ["truncated.h5", "initial/layers.0.weight"]),
        (["ticket", os.path.join(WORKDIR, "missing.h5"), CONFIG, "--kept-fraction", "0.4"],
         ["missing.h5", "No such file"]),
        (["train", CONFIG, "--set", "ticket.kept_fraction=0"], ["ticket.kept_fraction", "0", "(0, 1]"]),
        (["train", CONFIG, "--set", "ticket.kept_fraction=1.2"], ["ticket.kept_fraction", "1.2", "(0, 1]"]),
        (["train", CONFIG, "--set", "ticket.control=dense"], ["ticket.control", "dense", "norm_matched"]),
        (["train", CONFIG, "--set", f"ticket.weights={dense_path}"],
         ["ticket.weights", "applies only when ticket.source is \"file\""]),
        (["train", CONFIG, "--set", "ticket.source=file"], ["ticket.source", "file", "needs ticket.weights"]),
        (["train", CONFIG, "--set", "ticket.source=file", "--set", f"ticket.weights={dense_path}",
          "--set", "ticket.source_steps=10"], ["ticket.source_steps", "10", "applies only when ticket.source"]),
        (["train", CONFIG, "--set", "ticket.source_steps=0"], ["ticket.source_steps", "0", "[1,"]),
        (["train", CONFIG, "--set", "ticket.kept_fraction=0.4", "--set", "ticket.source=file",
          "--set", f"ticket.weights={other}"], ["other.h5", "(100, 118)", "(256, 118)"]),
        (["train", CONFIG, "--save-weights", os.path.join(WORKDIR, "no", "dir", "w.h5")], ["--save-weights", "w.h5"]),
    ]
    for args, needles in cases:
        result = run(*args, *writes) if "--save-weights" not in args else run(*args)
        label = " ".join(a if len(a) < 40 else os.path.basename(a) for a in args[1:])
        check(result.returncode == 2, f"{label}: exit status 2, got {result.returncode}")
        message = result.stderr.strip()
        check(len(message.splitlines()) == 1, f"{label}: one line, got {message!r}")
        for needle in needles:
            check(needle in message, f"{label}: message names {needle!r}: {message!r}")
        check(result.stdout == "" and not os.path.exists(out) and not os.path.exists(curve),
              f"{label}: nothing written")
    # a sweep whose ticket points read a file of another model is refused before its output is touched
    with open(CONFIG) as f:
        sweep = json.load(f)
    sweep["ticket"] = {"source": "file", "weights": other, "kept_fraction": 0.4}
    sweep["grid"] = {"data_fraction": [0.3], "weight_decay": [1, 2], "init_scale": [1], "seed": 1}
    sweep_path, sweep_out = os.path.join(WORKDIR, "ticket_sweep.json"), os.path.join(WORKDIR, "ticket_sweep.h5")
    with open(sweep_path, "w") as f:
        json.dump(sweep, f)
    for command in (["validate", sweep_path], ["run", sweep_path, "-o", sweep_out]):
        result = run(*command)
        message = result.stderr.strip()
        check(result.returncode == 2 and len(message.splitlines()) == 1 and "grid point" in message and
              "other.h5" in message and "(100, 118)" in message, f"{command[0]} of a sweep reading another model's "
              f"weights: exit 2 with one line naming the point and the file, got {result.returncode}: {message!r}")
    check(not os.path.exists(sweep_out), "run of that sweep: nothing written")


def help_documents_tickets():
    text = run("train", "--help").stdout
    for key in ("ticket.kept_fraction", "ticket.control", "ticket.source", "ticket.source_steps", "ticket.weights",
                "--save-weights"):
        check(key in text, f"train --help documents {key}")
    result = run("ticket", "--help")
    check(result.returncode == 0 and "--kept-fraction" in result.stdout and "norm_matched" in result.stdout,
          "ticket --help documents its flags")


shutil.rmtree(WORKDIR, ignore_errors=True)
os.makedirs(WORKDIR)
help_documents_tickets()
bad_input(tickets())
finish()
