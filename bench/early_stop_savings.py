#!/usr/bin/python3
"""The compute that early stop on success saves, and a check that it changes no outcome.

usage: bench/early_stop_savings.py [--build build] [--sweep sweeps/demo.json] [--ranks N] [--quick] [--json FILE]

Runs the sweep twice with `mpirun -n N` (N = the number of cores by default):
as shipped (sweeps/demo.json stops a run once test accuracy has stayed >= 0.99
for 5 evaluations) and from a copy with train.early_stop.patience = 0 (early
stop off, every run takes its full step budget). Reports for both the total
training steps (sum of steps_run), the total training time of the points (sum
of wall_seconds), the sweep's wall time, and the saving in %.

It then compares the recorded outcome of every point: status, phase and the
first steps at which train and test accuracy reached 50/90/95/99%
(*_acc_step_*) must be identical with and without early stop; a difference is
an error, exit 1. The final_* values and the curves after the stop do differ
(a stopped run's final values are those of its last evaluation and its curve
is NaN afterwards): they are reported, not checked.

--quick runs a 4-point grid of the same sweep (data fraction 0.3 and 0.6 ×
weight decay 0.3 and 3, α = 1, one seed), about a minute on 2 cores.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np
from sweep_bench import run_sweep, snapshot_binary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACC = ["50", "90", "95", "99"]
OUTCOME = ["status", "phase"] + [f"{side}_acc_step_{k}" for side in ("train", "test") for k in ACC]
FINAL = ["final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc", "final_weight_norm"]
PHASES = ["none", "comprehension", "grokking", "memorization", "confusion"]
QUICK_GRID = {"data_fraction": [0.3, 0.6], "weight_decay": [0.3, 3], "init_scale": [1], "seed": 1}


def read(out):
    with h5py.File(out, "r") as f:
        data = {name: f[name][...] for name in OUTCOME + FINAL + ["steps_run", "wall_seconds"]}
        data["axes"] = [f["status"].dims[i].keys()[0] for i in range(f["status"].ndim)]
        data["coords"] = [f[axis][...] for axis in data["axes"]]
    return data


def point_name(data, index):
    return ", ".join(f"{axis}={coord[i]:g}" for axis, coord, i in zip(data["axes"], data["coords"], index))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory holding groksweep")
    parser.add_argument("--sweep", default=os.path.join(REPO, "sweeps", "demo.json"))
    parser.add_argument("--ranks", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--quick", action="store_true", help="a 4-point grid (smoke test)")
    parser.add_argument("--json", metavar="FILE", help="save the numbers as JSON")
    parser.add_argument("--keep", metavar="DIR", help="keep the sweep copies and output files in DIR")
    args = parser.parse_args()

    with open(args.sweep) as f:
        shipped = json.load(f)
    if args.quick:
        shipped["grid"] = QUICK_GRID
    early_stop = shipped.get("train", {}).get("early_stop", {})
    if not early_stop.get("patience", 0):
        sys.exit(f"early_stop_savings: {args.sweep}: early stop is off (train.early_stop.patience is 0 or missing); "
                 "nothing to compare")
    disabled = json.loads(json.dumps(shipped))
    disabled["train"]["early_stop"] = {"patience": 0}

    workdir = args.keep or tempfile.mkdtemp(prefix="groksweep_early_stop_")
    os.makedirs(workdir, exist_ok=True)
    try:
        binary = snapshot_binary(args.build, workdir, "early_stop_savings")
        results = {}
        for label, config in (("early stop", shipped), ("no early stop", disabled)):
            key = label.replace(" ", "_")
            sweep = os.path.join(workdir, f"{key}.json")
            with open(sweep, "w") as f:
                json.dump(config, f, indent=1)
            out = os.path.join(workdir, f"{key}.h5")
            wall, other, _ = run_sweep("early_stop_savings", binary, sweep, out, args.ranks)
            results[label] = dict(wall=wall, other=other, data=read(out))
            print(f"  {label}: {wall:.1f} s", file=sys.stderr, flush=True)

        on, off = results["early stop"]["data"], results["no early stop"]["data"]
        budget = int(shipped["train"]["steps"])
        n_points = on["status"].size
        summary = {}
        for label, result in results.items():
            data = result["data"]
            summary[label] = {"wall_seconds": result["wall"], "other_cores": result["other"],
                              "steps_total": int(data["steps_run"].sum()),
                              "train_seconds_total": float(np.nansum(data["wall_seconds"])),
                              "points_stopped_early": int((data["steps_run"] < budget).sum())}

        def saving(key):
            full = summary["no early stop"][key]
            return 1 - summary["early stop"][key] / full if full else 0.0

        savings = {"steps": saving("steps_total"), "train_seconds": saving("train_seconds_total"),
                   "wall_seconds": saving("wall_seconds")}

        changed = []
        for name in OUTCOME:
            for index in zip(*np.nonzero(on[name] != off[name])):
                changed.append((name, index, on[name][index].item(), off[name][index].item()))
        final_differs = {name: int((~np.isclose(on[name], off[name], rtol=0, atol=0, equal_nan=True)).sum())
                         for name in FINAL}

        name = os.path.relpath(os.path.abspath(args.sweep), REPO)
        print(f"early_stop_savings: {name}{' (quick grid)' if args.quick else ''}: {n_points} points, "
              f"{budget} steps each, early stop test_acc >= {early_stop.get('test_acc', 0.99)} for "
              f"{early_stop['patience']} evaluations, {args.ranks} ranks")
        print(f"{'':>14} {'steps':>10} {'train s':>9} {'wall s':>8} {'stopped early':>14} {'other':>6}")
        for label, s in summary.items():
            print(f"{label:>14} {s['steps_total']:>10} {s['train_seconds_total']:>9.1f} {s['wall_seconds']:>8.1f} "
                  f"{s['points_stopped_early']:>8} of {n_points} {s['other_cores']:>6.2f}")
        print(f"{'saving':>14} {100 * savings['steps']:>9.1f}% {100 * savings['train_seconds']:>8.1f}% "
              f"{100 * savings['wall_seconds']:>7.1f}%")
        print("(train s: the points' training time summed, the compute; other: cores that other processes used "
              "during the run)")
        phases = np.bincount(on["phase"].ravel(), minlength=len(PHASES))
        print("phases: " + ", ".join(f"{count} {phase}" for phase, count in zip(PHASES, phases) if count))
        if changed:
            print(f"ERROR: early stop changed {len(changed)} recorded outcomes:")
            for var, index, a, b in changed[:20]:
                print(f"  {var} at ({point_name(on, index)}): {a} with early stop, {b} without")
        else:
            print(f"outcomes identical: status, phase and every *_acc_step_* crossing agree on all {n_points} points")
        print("final_* values differ, as expected for runs that stop earlier, at: "
              + ", ".join(f"{name} {count}" for name, count in final_differs.items()) + " points")

        if args.json:
            with open(args.json, "w") as f:
                json.dump({"sweep": os.path.abspath(args.sweep), "quick": args.quick, "ranks": args.ranks,
                           "points": n_points, "steps_budget": budget, "runs": summary, "savings": savings,
                           "outcomes_identical": not changed,
                           "changed_outcomes": [{"variable": var, "point": point_name(on, index), "early_stop": a,
                                                 "no_early_stop": b} for var, index, a, b in changed],
                           "final_values_differ": final_differs}, f, indent=1)
        return 1 if changed else 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
