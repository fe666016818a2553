"""`groksweep train` as a user meets it: the summary's contract, the curve
file, overrides, and one clear message with exit status 2 for bad input.

usage: cli_train.py GROKSWEEP_BINARY
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from harness import check, finish

BINARY = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "sweeps", "gromov_addition.json")


def run(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300)


def summary_contract(workdir):
    curve_path = os.path.join(workdir, "curve.csv")
    result = run("train", CONFIG, "--set", "train.steps=40", "--set", "train.eval_every=10",
                 "--set", "train.early_stop.patience=0", "--curve", curve_path)
    check(result.returncode == 0, f"train exits 0, got {result.returncode}: {result.stderr}")
    summary = json.loads(result.stdout)
    for key in ("status", "phase", "train_acc_step", "test_acc_step", "final", "steps_run",
                "wall_seconds", "ms_per_step"):
        check(key in summary, f"summary has {key}")
    check(summary["status"] == "done", "status done")
    check(summary["phase"] in ("none", "comprehension", "grokking", "memorization", "confusion"),
          f"phase {summary['phase']}")
    for side in ("train_acc_step", "test_acc_step"):
        check(sorted(summary[side]) == ["0.5", "0.9", "0.95", "0.99"], f"{side} keys")
        steps = [summary[side][k] for k in ("0.5", "0.9", "0.95", "0.99")]
        check(all(isinstance(s, int) and s >= -1 for s in steps), f"{side} values {steps}")
    for key in ("train_loss", "test_loss", "train_acc", "test_acc", "weight_norm"):
        check(isinstance(summary["final"][key], (int, float)), f"final.{key} is a number")
    check(summary["steps_run"] == 40, f"steps_run 40, got {summary['steps_run']}")
    check(summary["ms_per_step"] > 0 and summary["wall_seconds"] > 0, "timings are positive")
    check(summary["blas"]["core"] != "", "BLAS core recorded")
    check(summary["config"]["train"]["steps"] == 40, "the override is in the recorded config")
    with open(curve_path) as f:
        rows = list(csv.DictReader(f))
    check([int(r["step"]) for r in rows] == [0, 10, 20, 30, 40], "curve has one row per evaluation")
    check(abs(float(rows[-1]["test_acc"]) - summary["final"]["test_acc"]) < 1e-8
          and int(rows[-1]["step"]) == summary["final"]["step"], "last curve row is the final eval")

    # The same config twice gives the same numbers.
    again = json.loads(run("train", CONFIG, "--set", "train.steps=40", "--set", "train.eval_every=10",
                           "--set", "train.early_stop.patience=0").stdout)
    check(again["final"] == summary["final"], "a run repeats exactly")


def diverged_is_a_result():
    result = run("train", CONFIG, "--set", "optimizer.lr=1e30",
                 "--set", "train.steps=50")
    check(result.returncode == 0, f"diverged run exits 0, got {result.returncode}")
    summary = json.loads(result.stdout)
    check(summary["status"] == "diverged", f"status diverged, got {summary['status']}")
    check(summary["final"]["train_loss"] is None, "non-finite loss is null in JSON")


def bad_input(workdir):
    bad_json = os.path.join(workdir, "bad.json")
    with open(bad_json, "w") as f:
        f.write('{"task": {"p": 59,}}')
    unknown = os.path.join(workdir, "unknown.json")
    with open(unknown, "w") as f:
        f.write('{"optimizer": {"weigth_decay": 0.1}}')
    cases = [
        (["train", CONFIG, "--set", "optimizer.weight_decay=-1"], ["optimizer.weight_decay", "-1", ">= 0"]),
        (["train", CONFIG, "--set", "task.op=x/y", "--set", "task.p=91"], ["task.p", "91", "prime"]),
        (["train", CONFIG, "--set", "task.data_fraction=1.5"], ["task.data_fraction", "1.5", "(0, 1)"]),
        (["train", CONFIG, "--set", "model.init_scale=-1"], ["model.init_scale", "-1", "> 0"]),
        (["train", CONFIG, "--set", "model.width=0"], ["model.width", "0", "[1,"]),
        (["train", CONFIG, "--set", "model.activation=sigmoid"], ["model.activation", "sigmoid", "relu"]),
        (["train", CONFIG, "--set", "model.kind=transformer", "--set", "model.positions=rotary"],
         ["model.positions", "rotary", "\"learned\", \"sinusoidal\""]),
        (["train", CONFIG, "--set", "model.attention_bias=true"], ["model.attention_bias", "model.kind is \"transformer\""]),
        (["train", CONFIG, "--set", "train.steps=ten"], ["train.steps", "ten", "integer"]),
        (["train", CONFIG, "--set", "optimizer.lr"], ["optimizer.lr", "key=value"]),
        (["train", unknown], ["optimizer.weigth_decay", "0.1", "did you mean optimizer.weight_decay"]),
        (["train", bad_json], ["bad.json", "line 1"]),
        (["train", os.path.join(workdir, "missing.json")], ["missing.json", "No such file"]),
        (["train", CONFIG, "--curve", os.path.join(workdir, "no", "dir", "c.csv")], ["--curve", "c.csv"]),
        (["train", CONFIG, "--frobnicate"], ["--frobnicate", "--set"]),
        (["train"], ["CONFIG.json"]),
        (["fly"], ["fly", "train"]),
    ]
    for args, needles in cases:
        result = run(*args)
        check(result.returncode == 2, f"{args[1:]}: exit status 2, got {result.returncode}")
        message = result.stderr.strip()
        check(len(message.splitlines()) == 1, f"{args[1:]}: one line, got {message!r}")
        for needle in needles:
            check(needle in message, f"{args[1:]}: message names {needle!r}: {message!r}")
        check(result.stdout == "", f"{args[1:]}: nothing on stdout")


def help_documents_everything():
    result = run("train", "--help")
    check(result.returncode == 0, "train --help exits 0")
    for key in ("task.op", "task.data_fraction", "model.init_scale", "optimizer.weight_decay",
                "train.early_stop.patience", "phase.delay_steps", "--set", "--curve"):
        check(key in result.stdout, f"train --help documents {key}")
    check(run("--help").returncode == 0 and "train" in run("--help").stdout, "groksweep --help")


with tempfile.TemporaryDirectory() as workdir:
    summary_contract(workdir)
    diverged_is_a_result()
    bad_input(workdir)
    help_documents_everything()

finish()
