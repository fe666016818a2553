#!/usr/bin/python3
"""How long `groksweep validate` takes on large grids.

usage: bench/validate_speed.py [--build build] [--points 100000 1000000 10000000] [--json FILE]

Every grid point's config is built and checked twice before anything is
reported valid (once when the sweep is read, once for the cost and memory
estimate), so validate's time grows with the number of points. The grids
here are of the arithmetic task (data_fraction x weight_decay x init_scale
x seed); the model is tiny, so the few timed training steps take
milliseconds. Targets: 10^6 points within 10 s, 10^7 within 60 s.
Exits non-zero when validate fails, never on a missed target.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TARGETS = {10**6: 10.0, 10**7: 60.0}


def sweep_of(points):
    """A valid sweep of exactly `points` points (a product of 100 x 100 x 10 x seeds)."""
    fractions, decays, scales = 100, 100, 10
    if points < fractions * decays * scales:
        fractions, decays, scales = 10, 10, 10
    seeds = points // (fractions * decays * scales)
    assert seeds * fractions * decays * scales == points, points
    return {"task": {"op": "x+y", "p": 23}, "model": {"width": 8}, "train": {"steps": 100, "eval_every": 50},
            "grid": {"data_fraction": {"linspace": [0.1, 0.9, fractions]},
                     "weight_decay": {"logspace": [-3, 0, decays]},
                     "init_scale": {"linspace": [0.5, 3, scales]}, "seed": seeds}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--points", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    parser.add_argument("--json")
    args = parser.parse_args()
    groksweep = os.path.join(args.build, "groksweep")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as workdir:
        for points in args.points:
            path = os.path.join(workdir, f"grid_{points}.json")
            with open(path, "w") as f:
                json.dump(sweep_of(points), f)
            start = time.perf_counter()
            result = subprocess.run([groksweep, "validate", path], env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            valid = result.returncode == 0 and f"points: {points}\n" in result.stdout
            if not valid:
                print(f"validate of {points} points failed (exit {result.returncode}): {result.stderr}",
                      file=sys.stderr)
                ok = False
            target = TARGETS.get(points)
            rows.append({"points": points, "seconds": seconds, "us_per_point": 1e6 * seconds / points,
                         "target_seconds": target, "met": None if target is None else seconds <= target})
    print("| points | validate s | µs per point | target | met |")
    print("|---|---|---|---|---|")
    for row in rows:
        target = "" if row["target_seconds"] is None else f"≤ {row['target_seconds']:.0f} s"
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        print(f"| {row['points']:,} | {row['seconds']:.2f} | {row['us_per_point']:.2f} | {target} | {met} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
