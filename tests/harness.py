"""Shared by the Python tests: a check that records a failure and goes on,
so one run reports every mismatch; finish() prints "N passed, N failed" and
exits non-zero on any failure; and the environment for running groksweep,
under mpirun too (as root Open MPI needs to be told it is deliberate)."""
import os
import sys

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

_passed = 0
_failures = []


def check(condition, message):
    """Count a passed check, or report a failed one on stderr; return the condition."""
    global _passed
    if condition:
        _passed += 1
    else:
        _failures.append(message)
        print("FAIL:", message, file=sys.stderr, flush=True)
    return condition


def failed():
    """True once any check has failed."""
    return bool(_failures)


def finish(note=""):
    """Print the closing "N passed, N failed" line and exit 1 on any failure."""
    print(f"{_passed} passed, {len(_failures)} failed{note}")
    sys.exit(1 if _failures else 0)
