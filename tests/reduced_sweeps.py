"""Shipped sweeps run on reduced grids for the reproduction tests
(published_beyond.py, published_power.py): a sweep file from sweeps/ with
its grid and some train keys replaced, run under mpirun, its HDF5 variables
read back squeezed of their length-1 axes."""
import json
import os
import subprocess

import h5py
import numpy as np
from harness import ENV, check

PHASES = {0: "none", 1: "comprehension", 2: "grokking", 3: "memorization", 4: "confusion"}
PATH_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


class ReducedSweeps:
    def __init__(self, groksweep, mpiexec, root, workdir):
        self.groksweep, self.mpiexec, self.root, self.workdir = groksweep, mpiexec, root, workdir
        os.makedirs(workdir, exist_ok=True)

    def start(self, name, grid, label=None, ranks=2, **train):
        """Start the shipped sweep `name` on another grid, with train keys replaced; returns a handle for
        finish()."""
        with open(os.path.join(self.root, "sweeps", name)) as f:
            sweep = json.load(f)
        sweep["grid"] = grid
        sweep["train"].update(train)
        for key in PATH_KEYS:  # the shipped sweeps name their files relative to the project root
            if key in sweep["task"] and not os.path.isabs(sweep["task"][key]):
                sweep["task"][key] = os.path.join(self.root, sweep["task"][key])
        path = os.path.join(self.workdir, f"{label or name[:-5]}.json")
        with open(path, "w") as f:
            json.dump(sweep, f)
        out = path[:-5] + ".h5"
        process = subprocess.Popen([self.mpiexec, "-n", str(ranks), self.groksweep, "run", path, "-o", out, "--force",
                                    "--quiet"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return name, out, process

    def finish(self, handle):
        """Wait for a started sweep; return the file's variables squeezed of their length-1 axes (coordinates
        included)."""
        name, out, process = handle
        _, stderr = process.communicate(timeout=1200)
        check(process.returncode == 0, f"{name}: sweep exit 0, got {process.returncode}: {stderr[-500:]}")
        with h5py.File(out, "r") as f:
            return {key: np.squeeze(f[key][...]) for key in f if isinstance(f[key], h5py.Dataset)}

    def run(self, name, grid, **options):
        return self.finish(self.start(name, grid, **options))


def first_step(curve, steps, level):
    """First evaluation step at which curve >= level, or -1."""
    hits = np.nonzero(curve >= level)[0]
    return int(steps[hits[0]]) if len(hits) else -1


def at_step(curve, steps, step):
    return float(curve[list(steps).index(step)])


