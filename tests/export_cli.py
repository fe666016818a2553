"""`groksweep export` against the HDF5 values: CSV and JSON, per point and
curves in long form, missing values, points not run, inferred points (named
so, with their phase and every other value missing, and no curve rows), -o
and bad input.

usage: /usr/bin/python3 export_cli.py GROKSWEEP WORKDIR
"""
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

from harness import ENV, check, finish
from sweep_files import TINY

GROKSWEEP, WORKDIR = sys.argv[1:3]
NOT_RUN = [(0, 0, 0, 0, 0), (1, 1, 1, 1, 1)]  # made not run in a copy
INFERRED = [(0, 1, 0, 0, 0), (1, 0, 1, 0, 1)]  # made inferred (grokking) in the copy, the rest at fill


def export(*args):
    return subprocess.run([GROKSWEEP, "export", *args], env=ENV, capture_output=True, text=True, timeout=120)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def expected(path):
    """Per point: {column: value or None} from h5py, in row-major order."""
    with h5py.File(path, "r") as f:
        axes = [d.keys()[0] for d in f["status"].dims]
        coords = {a: f[a][...] for a in axes}
        statuses = text(f["status"].attrs["flag_meanings"]).split()
        phases = text(f["phase"].attrs["flag_meanings"]).split()
        variables = [name for name in f if name not in axes and name not in ("status", "phase", "eval_step")
                     and f[name].shape == f["status"].shape]
        data = {name: f[name][...] for name in variables + ["status", "phase"]}
        fills = {name: f[name].attrs.get("_FillValue") for name in variables}
        rows = []
        for index in np.ndindex(f["status"].shape):
            row = {a: coords[a][i].item() for a, i in zip(axes, index)}
            status = int(data["status"][index])
            row["status"], row["phase"] = statuses[status], phases[int(data["phase"][index])]
            for name in variables:
                v = data[name][index].item()
                fill = fills[name]
                gone = status in (0, 4) or (isinstance(v, float) and math.isnan(v)) or (fill is not None and v == fill)
                row[name] = None if gone else v
            rows.append(row)
        return axes, variables, rows


def same_value(got, want):
    if want is None:
        return got in (None, "")
    if isinstance(got, str):
        got = float(got)
    return got == want if isinstance(want, int) else np.float32(got) == np.float32(want)


def check_rows(what, rows, axes, variables, want):
    check(len(rows) == len(want), f"{what}: {len(rows)} rows, expected {len(want)}")
    wrong = []
    for got, ref in zip(rows, want):
        for a in axes:
            if not (str(got[a]) == str(ref[a]) or same_value(got[a], ref[a])):
                wrong.append(f"{a}={got[a]!r} vs {ref[a]!r}")
        for name in ("status", "phase"):
            if got[name] != ref[name]:
                wrong.append(f"{name}={got[name]!r} vs {ref[name]!r}")
        for name in variables:
            if not same_value(got.get(name), ref[name]):
                wrong.append(f"{name}={got.get(name)!r} vs {ref[name]!r}")
    check(not wrong, f"{what}: values differ from h5py: {wrong[:5]}")


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    full = os.path.join(WORKDIR, "tiny.h5")
    run = subprocess.run([GROKSWEEP, "run", TINY, "-o", full, "--quiet"], env=ENV, capture_output=True, text=True)
    check(run.returncode == 0, f"the sweep runs: {run.stderr}")
    path = os.path.join(WORKDIR, "partial.h5")
    shutil.copyfile(full, path)
    with h5py.File(path, "r+") as f:
        status = f["status"][...]
        phase = f["phase"][...]
        for index in NOT_RUN:
            status[index] = 0
        for index in INFERRED:
            status[index], phase[index] = 4, 2
        f["status"][...], f["phase"][...] = status, phase
        for name, ds in f.items():  # an inferred point's other values are fill, as groksweep writes them
            if ds.shape[:status.ndim] == status.shape and name not in ("status", "phase"):
                fill = np.asarray(ds.attrs.get("_FillValue", np.nan)).ravel()[0]
                for index in INFERRED:
                    ds[index] = fill
    axes, variables, want = expected(path)
    check(len(variables) == 19 and "grokking_delay_90" in variables and "wall_seconds" in variables,
          f"every per-point variable is exported: {variables}")
    check(any(r["test_acc_step_99"] is None for r in want if r["status"] == "done"),
          "some done points never reached 99% (missing values to check)")

    result = export(path)
    check(result.returncode == 0 and not result.stderr, f"csv: exit 0: {result.stderr}")
    reader = list(csv.DictReader(io.StringIO(result.stdout)))
    check(list(reader[0].keys())[:len(axes) + 2] == axes + ["status", "phase"] if reader else False,
          "csv: the axes, status and phase first")
    check_rows("csv", reader, axes, variables, want)
    check(sum(r["status"] == "not_run" for r in reader) == len(NOT_RUN), "csv: points not run are named so")
    inferred = [r for r in reader if r["status"] == "inferred"]
    check(len(inferred) == len(INFERRED) and all(r["phase"] == "grokking" for r in inferred) and
          all(r[name] == "" for r in inferred for name in variables),
          f"csv: inferred points named so, with their phase and no other value: {inferred[:1]}")

    out = os.path.join(WORKDIR, "points.json")
    result = export(path, "--format", "json", "-o", out)
    check(result.returncode == 0 and not result.stdout, f"json -o: exit 0, nothing on stdout: {result.stderr}")
    with open(out) as f:
        data = json.load(f)
    check(data["columns"][:len(axes)] == axes and data["sweep"]["grid"]["seed"] == 2, "json: columns and sweep")
    check_rows("json", data["rows"], axes, variables, want)
    check(not [n for n in os.listdir(WORKDIR) if ".export-" in n], "json -o: no temporary file left")

    with h5py.File(path, "r") as f:
        steps = f["eval_step"][...]
        curves = {name: f[name][...] for name in f if name.startswith("curve_")}
        status = f["status"][...]
    result = export(path, "--curves")
    long_rows = list(csv.DictReader(io.StringIO(result.stdout)))
    done = int(((status != 0) & (status != 4)).sum())
    check(result.returncode == 0 and len(long_rows) == done * len(steps),
          f"curves: one row per point run and evaluation: {len(long_rows)} rows, expected {done * len(steps)}")
    bad = 0
    k = 0
    for index in np.ndindex(status.shape):
        if status[index] in (0, 4):
            continue
        for e, step in enumerate(steps):
            row = long_rows[k] if k < len(long_rows) else {}
            k += 1
            if row.get("eval_step") != str(step):
                bad += 1
                continue
            for name, values in curves.items():
                v = values[index + (e,)]
                cell = row.get(name, "x")
                if (np.isnan(v) and cell != "") or (not np.isnan(v) and (cell == "" or np.float32(cell) != v)):
                    bad += 1
    check(bad == 0, f"curves: {bad} cells differ from h5py")

    previous = os.path.join(WORKDIR, "kept.csv")
    with open(previous, "w") as f:
        f.write("earlier export\n")
    for args, needles, code in ((["--format", "xml", path], ["--format xml", "csv or json"], 2),
                                (["--bogus", path], ["--bogus"], 2),
                                ([os.path.join(WORKDIR, "missing.h5")], ["missing.h5"], 2),
                                ([TINY], ["not a groksweep sweep file"], 2),
                                ([path, "-o", os.path.join(WORKDIR, "no", "dir", "x.csv")], ["no/dir/x.csv"], 1)):
        result = export(*args)
        message = result.stderr.strip()
        check(result.returncode == code and len(message.splitlines()) == 1 and all(n in message for n in needles),
              f"{' '.join(args)}: exit {code} and one line naming it, got {result.returncode}: {message!r}")
    result = export(TINY, "-o", previous)
    check(result.returncode == 2 and open(previous).read() == "earlier export\n",
          "a failed export leaves an existing -o file as it was")
    finish()


main()
