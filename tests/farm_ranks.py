#!/usr/bin/env python3
"""The task farm on its own (tests/test_farm.c, a stand-in trainer) under
real mpirun: every scenario on 1, 2 and 4 ranks (oversubscribed), each
within a time limit so that a hang fails; and a worker rank that kills
itself mid-point ends the job with a non-zero status instead of leaving the
other ranks waiting.

usage: farm_ranks.py TEST_FARM MPIEXEC"""
import subprocess
import sys
import time

from harness import ENV, check, finish

SCENARIOS = ["all", "waves", "untrained", "stop_first", "stop_record", "stop_tick", "stop_drain", "signal"]
LIMIT_SECONDS = 60


def run(test_farm, mpiexec, ranks, scenario):
    start = time.monotonic()
    try:
        result = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), test_farm, scenario], env=ENV,
                                capture_output=True, text=True, timeout=LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        return None, "", f"still running after {LIMIT_SECONDS} s", LIMIT_SECONDS
    return result.returncode, result.stdout, result.stderr, time.monotonic() - start


def main():
    test_farm, mpiexec = sys.argv[1:3]
    for scenario in SCENARIOS:
        for ranks in (1, 2, 4):
            code, out, err, seconds = run(test_farm, mpiexec, ranks, scenario)
            check(code == 0, f"{scenario} on {ranks} ranks: exit {code}\n{out}{err[-2000:]}")
            print(f"{scenario:12s} {ranks} ranks: exit {code} in {seconds:.1f} s: {out.strip()}", flush=True)
    code, out, err, seconds = run(test_farm, mpiexec, 3, "die")
    check(code is not None and code != 0, f"a worker that dies: exit {code} after {seconds:.1f} s")
    print(f"die          3 ranks: exit {code} in {seconds:.1f} s", flush=True)
    finish()


if __name__ == "__main__":
    main()
