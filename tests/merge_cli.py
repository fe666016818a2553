"""`groksweep merge`: two outputs of one config on overlapping grids become
one output over the union grid; running the union sweep on it trains only
the points neither ran, and the result equals a fresh run of the union.
Inferred points (in an input's file, not its journal) are carried over: a
point trained in one input and inferred in the other is the trained one; one
inferred in two inputs with different phases is not run. A point held twice
with different results, different configs, an existing output and bad flags
are refused with nothing written.

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


def make_inferred(src, dst, sweep_path, chosen, phase=None):
    """dst: src with the points chosen(index) inferred as adaptive refinement leaves them: status 4,
    their phase (or `phase`), every other variable at fill, and no record in the journal."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        status, phases = f["status"][...], f["phase"][...]
        points = [index for index in np.ndindex(status.shape) if chosen(index)]
        for index in points:
            status[index] = 4
            if phase is not None:
                phases[index] = phase
        f["status"][...], f["phase"][...] = status, phases
        for name, ds in f.items():
            if ds.shape[:status.ndim] == status.shape and name not in ("status", "phase"):
                fill = np.asarray(ds.attrs.get("_FillValue", np.nan)).ravel()[0]
                for index in points:
                    ds[index] = fill
        shape = status.shape
    size = record_size(sweep_path)
    with open(src + ".journal", "rb") as f:
        journal = f.read()
    kept = [journal[:JOURNAL_HEADER_BYTES]]
    for start in range(JOURNAL_HEADER_BYTES, len(journal), size):
        point = struct.unpack_from("<q", journal, start + 4)[0]
        if not chosen(np.unravel_index(point, shape)):
            kept.append(journal[start:start + size])
    with open(dst + ".journal", "wb") as f:
        f.write(b"".join(kept))
    return len(points)


def inferred_points(out, paths):
    """b with inferred points: 4 that a trained (seed 1 at data fraction 0.3), 4 only b has (seed 2 at
    0.6); merged with a, the first are a's trained ones and the others stay inferred. Two copies
    inferring different phases at seed 2 make those points not run."""
    shared = lambda index: index[0] == 0 and index[1] == 0 and index[3] == 0  # noqa: E731
    only_b = lambda index: index[0] == 1 and index[1] == 0 and index[3] == 1  # noqa: E731
    b_inferred = os.path.join(WORKDIR, "b_inferred.h5")
    check(make_inferred(out["b"], b_inferred, paths["b"], lambda i: shared(i) or only_b(i)) == 8,
          "8 points of b made inferred")
    merged = os.path.join(WORKDIR, "merged_inferred.h5")
    result = groksweep("merge", out["a"], b_inferred, "-o", merged)
    check(result.returncode == 0 and "48 points, 36 finished (4 found in more than one input), 4 inferred, 0 not run"
          in result.stderr, f"merge with inferred points: {result.stderr}")
    with h5py.File(merged, "r") as f, h5py.File(out["b"], "r") as b, h5py.File(out["union"], "r") as u:
        status, phase = f["status"][...], f["phase"][...]
        # union seeds [0, 1, 2]: b's seed k is the union's k + 1
        trained = status[0, 0, :, 1, :]
        check(bool((trained == 1).all()) and np.array_equal(f["test_acc_step_90"][0, 0, :, 1, :],
                                                            u["test_acc_step_90"][0, 0, :, 1, :]),
              "trained in a, inferred in b: the trained point wins")
        check(bool((status[1, 0, :, 2, :] == 4).all()) and
              np.array_equal(phase[1, 0, :, 2, :], b["phase"][1, 0, :, 1, :]),
              "inferred in b only: inferred, with b's phase")
        check(bool((f["steps_run"][1, 0, :, 2, :] == -1).all()) and
              bool(np.isnan(f["curve_test_acc"][1, 0, :, 2, :]).all()), "a merged inferred point's values are fill")
        check(int((status == 4).sum()) == 4 and int((status == 1).sum()) == 36, "36 done, 4 inferred")
    b_other = os.path.join(WORKDIR, "b_inferred_other.h5")
    with h5py.File(b_inferred, "r") as f:
        other_phase = 1 if int(f["phase"][1, 0, 0, 1, 0]) != 1 else 3
    make_inferred(out["b"], b_other, paths["b"], lambda i: shared(i) or only_b(i), phase=other_phase)
    with h5py.File(b_other, "r+") as f:  # the shared points inferred as in b_inferred, the others not
        phase = f["phase"][...]
        with h5py.File(b_inferred, "r") as g:
            phase[0, 0, :, 0, :] = g["phase"][0, 0, :, 0, :]
        f["phase"][...] = phase
    disputed = os.path.join(WORKDIR, "merged_disputed.h5")
    result = groksweep("merge", b_inferred, b_other, "-o", disputed)
    check(result.returncode == 0 and "4 inferred, 4 not run because two inputs inferred different phases" in
          result.stderr, f"two inputs inferring different phases: {result.stderr}")
    with h5py.File(disputed, "r") as f:
        status = f["status"][...]
        check(bool((status[1, 0, :, 1, :] == 0).all()) and bool((status[0, 0, :, 0, :] == 4).all()),
              "inferred differently: not run; inferred alike: inferred")


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

    inferred_points(out, paths)

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
