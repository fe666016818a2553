#!/usr/bin/python3
"""How close `groksweep validate --ranks N` comes to the measured wall time.

usage: bench/estimate_accuracy.py [--build build] [--ranks 2] [--sweeps NAME ...] [--json FILE]

For each shipped sweep (default: the demo and one sweep of each other task
family: teacher_student, omnigrok_lu (teacher-student at a fixed norm),
deep_grokking (images), carvalho_shift), run `groksweep validate SWEEP
--ranks N`, read its estimated wall time, then run the whole sweep with
`groksweep run SWEEP --ranks N` and time it. Target: the estimate within
1.5x of the measured time, either way. Run from the project root on an
otherwise idle machine (the measured run is wall time; the estimate uses
CPU time). Exits non-zero when a command fails, never on a missed target.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

DEFAULT = ["demo", "omnigrok_teacher_student", "omnigrok_lu", "deep_grokking", "carvalho_shift"]


def seconds_of(text):
    """'78 s', '2.7 min', '1.2 h' -> seconds."""
    value, unit = re.match(r"([\d.]+) (s|min|h)$", text.strip()).groups()
    return float(value) * {"s": 1, "min": 60, "h": 3600}[unit]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--sweeps", nargs="+", default=DEFAULT)
    parser.add_argument("--json")
    args = parser.parse_args()
    groksweep = os.path.abspath(os.path.join(args.build, "groksweep"))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("GROKSWEEP_MPIEXEC", "mpiexec --oversubscribe")
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.sweeps:
            sweep = os.path.join("sweeps", f"{name}.json")
            validate = subprocess.run([groksweep, "validate", sweep, "--ranks", str(args.ranks)], env=env,
                                      capture_output=True, text=True)
            found = re.search(r"estimated wall time on \d+ ranks: (.*)$", validate.stdout, re.M)
            kernel = re.search(r"\((\w+) kernel\)", validate.stdout)
            if validate.returncode != 0 or not found:
                print(f"{name}: validate failed: {validate.stderr}{validate.stdout[-300:]}", file=sys.stderr)
                ok = False
                continue
            estimate = seconds_of(found.group(1))
            start = time.perf_counter()
            run = subprocess.run([groksweep, "run", sweep, "-o", os.path.join(workdir, f"{name}.h5"), "--ranks",
                                  str(args.ranks), "--quiet"], env=env, capture_output=True, text=True)
            measured = time.perf_counter() - start
            if run.returncode != 0:
                print(f"{name}: run failed: {run.stderr[-300:]}", file=sys.stderr)
                ok = False
                continue
            ratio = estimate / measured
            rows.append({"sweep": name, "estimate_s": estimate, "measured_s": measured, "ratio": ratio,
                         "kernel": kernel.group(1) if kernel else "?", "met": 1 / 1.5 <= ratio <= 1.5})
            print(f"{name}: estimate {estimate:.0f} s, measured {measured:.0f} s, ratio {ratio:.2f}", flush=True)
    print(f"\n| sweep | estimate | measured | estimate / measured | within 1.5x |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sweep']} | {r['estimate_s']:.0f} s | {r['measured_s']:.0f} s | {r['ratio']:.2f} | "
              f"{'yes' if r['met'] else 'NO'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
