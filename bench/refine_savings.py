#!/usr/bin/python3
"""Adaptive refinement against the dense grid: points trained, core time saved, phase maps compared.

usage: bench/refine_savings.py [--build build] [--ranks N] [--sweep FILE ...] [--keep DIR] [--json FILE]

For each refined sweep (by default bench/sweeps/refine_demo.json, the demo's data fraction x
weight decay plane 4x finer: 13 x 17 values for the demo's 4 x 5, coarse stride 4, so the coarse
grid is the demo's; and bench/sweeps/refine_teacher_student.json, the teacher-student task's
train size x init scale plane, 17 x 17 values over a 5 x 5 coarse grid) it runs, with
`mpirun -n N`:
  dense:   the same sweep without its refine section (every point trained);
  refined: the sweep as written (the coarse grid, then the cells whose corners disagree).
and reports the fraction of points the refined run trained (target <= 30%), the core time
of each run (the sum of the points' wall_seconds), the saving, the wall times, and the
agreement of the two phase maps point by point (target >= 97%), listing every point where
they differ with its coordinates.

A point's outcome is its phase for a trained or inferred point, else its status (diverged,
failed, not run). A point that both runs trained must have the same outcome and the same
final values (a point's result depends on its parameters and seed only): a difference is an
error, exit 1. A missed target is reported, not an error.
"""
import argparse
import json
import os
import sys
import tempfile

import h5py
import numpy as np
from sweep_bench import run_sweep, snapshot_binary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEPS = [os.path.join(REPO, "bench", "sweeps", name) for name in ("refine_demo.json", "refine_teacher_student.json")]
PHASES = ["none", "comprehension", "grokking", "memorization", "confusion"]
STATUS = {0: "not run", 2: "diverged", 3: "failed"}
TRAINED, INFERRED = (1, 2, 3), 4
FINAL = ["final_train_loss", "final_test_loss", "final_train_acc", "final_test_acc"]
TARGET_TRAINED, TARGET_AGREEMENT = 0.30, 0.97


def read(out):
    with h5py.File(out, "r") as f:
        data = {name: f[name][...] for name in ["status", "phase", "wall_seconds"] + FINAL}
        data["axes"] = [f["status"].dims[i].keys()[0] for i in range(f["status"].ndim)]
        data["coords"] = [f[axis][...] for axis in data["axes"]]
    return data


def outcome(status, phase):
    """What a phase map shows at a point."""
    return PHASES[phase] if status in (1, INFERRED) else STATUS[status]


def point_name(data, index):
    return ", ".join(f"{axis}={coord[i]:g}" for axis, coord, i in zip(data["axes"], data["coords"], index))


def same(a, b):
    return a == b or (np.isnan(a) and np.isnan(b))


def compare(name, sweep_path, binary, workdir, ranks):
    with open(sweep_path) as f:
        refined_sweep = json.load(f)
    dense_sweep = {key: value for key, value in refined_sweep.items() if key != "refine"}
    paths = {}
    for kind, sweep in (("dense", dense_sweep), ("refined", refined_sweep)):
        paths[kind] = os.path.join(workdir, f"{name}_{kind}.json")
        with open(paths[kind], "w") as f:
            json.dump(sweep, f)
    runs = {}
    for kind in ("dense", "refined"):
        out = os.path.join(workdir, f"{name}_{kind}.h5")
        print(f"refine_savings: {name}: {kind} run on {ranks} ranks ...", file=sys.stderr, flush=True)
        wall, load, _ = run_sweep("refine_savings", binary, paths[kind], out, ranks)
        runs[kind] = dict(read(out), wall=wall, load=load)
    dense, refined = runs["dense"], runs["refined"]
    errors, disagreements = [], []
    points = dense["status"].size
    for index in np.ndindex(dense["status"].shape):
        d_status, r_status = int(dense["status"][index]), int(refined["status"][index])
        if d_status not in TRAINED:
            errors.append(f"{point_name(dense, index)}: the dense run left status {d_status}")
            continue
        d_outcome = outcome(d_status, int(dense["phase"][index]))
        r_outcome = outcome(r_status, int(refined["phase"][index]))
        if r_status in TRAINED:
            values = [(v, dense[v][index], refined[v][index]) for v in FINAL]
            if d_outcome != r_outcome or not all(same(a, b) for _, a, b in values):
                errors.append(f"{point_name(dense, index)}: trained by both, dense {d_outcome} "
                              f"{[float(a) for _, a, _ in values]}, refined {r_outcome} {[float(b) for _, _, b in values]}")
        elif d_outcome != r_outcome:
            disagreements.append(f"{point_name(dense, index)}: dense {d_outcome}, refined {r_outcome}"
                                 + (" (inferred)" if r_status == INFERRED else ""))
    trained = int(np.isin(refined["status"], TRAINED).sum())
    inferred = int((refined["status"] == INFERRED).sum())
    core = {kind: float(np.nansum(runs[kind]["wall_seconds"])) for kind in runs}
    return dict(sweep=os.path.relpath(sweep_path, REPO), points=points, trained=trained, inferred=inferred,
                trained_fraction=trained / points, core_seconds=core,
                core_saved=1 - core["refined"] / core["dense"] if core["dense"] > 0 else 0.0,
                wall_seconds={kind: runs[kind]["wall"] for kind in runs},
                other_load={kind: runs[kind]["load"] for kind in runs},
                agreement=1 - len(disagreements) / points, disagreements=disagreements, errors=errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory holding groksweep")
    parser.add_argument("--ranks", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--sweep", action="append", help="a refined sweep (repeatable); default: the two in bench/sweeps")
    parser.add_argument("--keep", help="keep the sweeps and files in this directory")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="refine_savings.")
    os.makedirs(workdir, exist_ok=True)
    binary = snapshot_binary(args.build, workdir, "refine_savings")
    results = []
    for path in args.sweep or SWEEPS:
        name = os.path.splitext(os.path.basename(path))[0]
        results.append(compare(name, path, binary, workdir, args.ranks))

    print(f"{args.ranks} ranks; targets: trained <= {TARGET_TRAINED:.0%}, agreement >= {TARGET_AGREEMENT:.0%}")
    print("| sweep | points | trained (inferred) | core time dense / refined | saved | wall dense / refined "
          "| agreement |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['sweep']} | {r['points']} | {r['trained']} = {r['trained_fraction']:.1%} ({r['inferred']}) "
              f"{'PASS' if r['trained_fraction'] <= TARGET_TRAINED else 'MISS'} "
              f"| {r['core_seconds']['dense']:.0f} s / {r['core_seconds']['refined']:.0f} s | {r['core_saved']:.1%} "
              f"| {r['wall_seconds']['dense']:.0f} s / {r['wall_seconds']['refined']:.0f} s "
              f"| {r['agreement']:.2%} {'PASS' if r['agreement'] >= TARGET_AGREEMENT else 'MISS'} |")
    for r in results:
        load = max(r["other_load"].values())
        if load > 0.2:
            print(f"{r['sweep']}: other processes used {load:.1f} cores during a run")
        print(f"{r['sweep']}: {len(r['disagreements'])} points where the maps differ"
              + "".join(f"\n  {line}" for line in r["disagreements"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    errors = [f"{r['sweep']}: {e}" for r in results for e in r["errors"]]
    for e in errors:
        print(f"refine_savings: error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
