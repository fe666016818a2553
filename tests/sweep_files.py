"""Shared by the sweep tests: where their files go, comparing two output files
point by point, and counting the records of a sweep's journal."""
import fcntl
import json
import os
import time

import h5py
import numpy as np

from harness import check

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
TINY = os.path.join(DATA, "sweep_tiny.json")  # 8 points, under a second
SLOW = os.path.join(DATA, "sweep_slow.json")  # 16 points, a few seconds each
ACC = ["50", "90", "95", "99"]
POINT_VARS = (["status", "phase", "steps_run", "final_train_loss", "final_test_loss", "final_train_acc",
               "final_test_acc", "final_weight_norm"]
              + [f"{side}_acc_step_{k}" for side in ("train", "test") for k in ACC]
              + [f"grokking_delay_{k}" for k in ACC])
CURVES = ["curve_train_loss", "curve_test_loss", "curve_train_acc", "curve_test_acc", "curve_weight_norm"]
JOURNAL_HEADER_BYTES = 64


def fresh(workdir, name):
    """WORKDIR/NAME with no output, journal, rebuild or log left from an earlier run."""
    out = os.path.join(workdir, name)
    for suffix in ("", ".journal", ".log"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    return out


def same_points(a, b, what):
    """Check every per-point variable and curve of files A and B equal (NaN == NaN); timing excluded.
    Returns whether all were."""
    all_equal = True
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for name in POINT_VARS + CURVES:
            x, y = fa[name][...], fb[name][...]
            equal = x.shape == y.shape and (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                                            else np.array_equal(x, y))
            all_equal = check(equal, f"{what}: {name} differs") and all_equal
    return all_equal


def record_size(sweep_path):
    """Bytes of one journal record of the sweep (driver/journal.c): index, seconds, summary, curves (with a
    feature-rank series per hidden layer of the deepest MLP under train.feature_rank), checksum."""
    with open(sweep_path) as f:
        sweep = json.load(f)
    train = sweep["train"]
    steps, every = train["steps"], train.get("eval_every", 10)
    n_eval = steps // every + 1 + (steps % every != 0)
    depths = sweep["grid"].get("model.depth", [sweep.get("model", {}).get("depth", 1)])
    series = 5 + (max(depths) if train.get("feature_rank") else 0)
    return 4 + 8 + (2 + 4 * 4 * 2 + 4 * 5 + 4 + 4) + 4 * series * n_eval + 8


def journal_records(out, sweep_path):
    """How many points the journal of OUT holds (a fraction while a record is being written)."""
    journal = out + ".journal"
    size = os.path.getsize(journal) if os.path.exists(journal) else 0
    return max(0, size - JOURNAL_HEADER_BYTES) / record_size(sweep_path)


def wait_for_records(out, count, sweep_path, timeout=120):
    """Wait until the journal of OUT holds COUNT points; False on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if journal_records(out, sweep_path) >= count:
            return True
        time.sleep(0.02)
    return False


def wait_unlocked(out, timeout=20):
    """Wait until no process holds the output's lock (killed ranks take a moment to die); False on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(out + ".lock", "r+") as f:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(f, fcntl.LOCK_UN)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.05)
    return False
