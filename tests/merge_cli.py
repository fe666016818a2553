"""`groksweep merge`: two outputs of one config on overlapping grids become
one output over the union grid; running the union sweep on it trains only
the points neither ran, and the result equals a fresh run of the union. A
point held twice with different results, different configs, an existing
output and bad flags are refused with nothing written.

usage: /usr/bin/python3 merge_cli.py GROKSWEEP WORKDIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

import h5py
import numpy as np

from harness import ENV, check, finish
from sweep_files import CURVES, JOURNAL_HEADER_BYTES, POINT_VARS, TINY, journal_records, record_size, same_points

GROKSWEEP, WORKDIR = sys.argv[1:3]


def groksweep(*args):
    return subprocess.run([GROKSWEEP, *args], env=ENV, capture_output=True, text=True, timeout=300)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & (2**64 - 1)
    return h


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    with open(TINY) as f:
        base = json.load(f)
    grids = {"a": {"seed": [0, 1], "data_fraction": [0.3]}, "b": {"seed": [1, 2], "data_fraction": [0.3, 0.6]},
             "union": {"seed": [0, 1, 2], "data_fraction": [0.3, 0.6]}}
    paths = {}
    for name, grid in grids.items():
        sweep = json.loads(json.dumps(base))
        sweep["grid"].update(grid)
        paths[name] = os.path.join(WORKDIR, f"{name}.json")
        with open(paths[name], "w") as f:
            json.dump(sweep, f)
    other = json.loads(json.dumps(base))
    other["train"]["steps"] = 220
    paths["other"] = os.path.join(WORKDIR, "other.json")
    with open(paths["other"], "w") as f:
        json.dump(other, f)
    out = {name: os.path.join(WORKDIR, f"{name}.h5") for name in paths}
    for name in paths:
        result = groksweep("run", paths[name], "-o", out[name], "--quiet")
        check(result.returncode == 0, f"run {name}: {result.stderr}")

    merged = os.path.join(WORKDIR, "merged.h5")
    result = groksweep("merge", out["a"], out["b"], "-o", merged)
    # a: 16 points, b: 32, 8 of them shared (seed 1 at data fraction 0.3); the union has 48, 8 run by neither
    check(result.returncode == 0 and "48 points, 40 finished (8 found in more than one input)" in result.stderr,
          f"merge: {result.stderr}")
    with h5py.File(merged, "r") as f, h5py.File(out["union"], "r") as u:
        check(f["status"].shape == u["status"].shape and list(f["seed"][...]) == [0, 1, 2] and
              list(f["data_fraction"][...]) == [0.3, 0.6], "the union grid, values in order")
        status = f["status"][...]
        check(int((status == 1).sum()) == 40 and bool((status[1, :, :, 0, :] == 0).all()),
              "40 points done; data fraction 0.6 with seed 0 not run")
        done = status == 1
        for name in POINT_VARS + CURVES:
            if name == "wall_seconds":
                continue
            a, b = f[name][...], u[name][...]
            same = np.array_equal(a[done], b[done], equal_nan=True)
            check(same, f"merged {name} equals a fresh run of the union at the points done")
        check(f.attrs["history"].decode().endswith(f"groksweep merge {out['a']} {out['b']} -o {merged}"),
              "the merge is in the file's history")
    result = groksweep("run", paths["union"], "-o", merged, "--quiet")
    check(result.returncode == 0, f"the union sweep resumes on the merged output: {result.stderr}")
    check(journal_records(merged, paths["union"]) == 48, "and trains only the 8 points neither ran")
    same_points(out["union"], merged, "merged and resumed vs the union from scratch")

    # refusals: nothing written
    conflicting = os.path.join(WORKDIR, "b_forged.h5")
    shutil.copyfile(out["b"], conflicting)
    size = record_size(paths["b"])
    with open(out["b"] + ".journal", "rb") as f:
        journal = bytearray(f.read())
    n_records = (len(journal) - JOURNAL_HEADER_BYTES) // size
    for k in range(n_records):  # change final_test_loss of b's seed-1 points at data fraction 0.3, re-sealed
        start = JOURNAL_HEADER_BYTES + k * size
        point = struct.unpack_from("<q", journal, start + 4)[0]
        index = np.unravel_index(point, (2, 2, 2, 2, 2))
        if index[0] == 0 and index[3] == 0:
            journal[start + 12 + 40] ^= 0x04
            struct.pack_into("<Q", journal, start + size - 8, fnv1a(journal[start + 4:start + size - 8]))
    with open(conflicting + ".journal", "wb") as f:
        f.write(journal)
    cases = (([out["a"], conflicting], ["twice with different results"]),
             ([out["a"], out["other"]], ["different configs"]),
             ([out["a"], out["b"], "-o", merged], ["exists"]),
             ([out["a"]], ["at least two inputs"]),
             ([out["a"], os.path.join(WORKDIR, "missing.h5")], ["missing.h5"]),
             ([out["a"], out["b"], "--bogus"], ["--bogus"]))
    for k, (args, needles) in enumerate(cases):
        target = os.path.join(WORKDIR, f"refused_{k}.h5")
        argv = ["merge", *args] + ([] if "-o" in args else ["-o", target])
        result = groksweep(*argv)
        message = result.stderr.strip()
        check(result.returncode == 2 and len(message.splitlines()) == 1 and all(n in message for n in needles),
              f"merge {' '.join(args)}: exit 2 and one line naming it, got {result.returncode}: {message!r}")
        check(not os.path.exists(target) and not os.path.exists(target + ".journal"),
              f"merge {' '.join(args)}: nothing written")
    finish()


main()
