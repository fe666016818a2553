"""Shared by the sweep benchmarks: the environment they run groksweep in, a
private copy of the binary, a timed sweep run, and how much of the machine
other processes used while it ran."""
import os
import resource
import shutil
import subprocess
import sys
import time

# one BLAS thread per rank; mpirun accepts running as root
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def snapshot_binary(build, workdir, program):
    """Copy build/groksweep into workdir, so that a rebuild while the benchmark runs cannot change it."""
    source = os.path.join(build, "groksweep")
    if not os.access(source, os.X_OK):
        sys.exit(f"{program}: {source}: not found; build it with cmake --build {build} --target groksweep")
    target = os.path.join(workdir, "groksweep")
    shutil.copy2(source, target)
    return target


def cpu_snapshot():
    """CPU seconds: busy on the whole machine, stolen by the hypervisor, used by our finished children."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (sum(ticks[i] for i in (0, 1, 2, 5, 6)) / hz, ticks[7] / hz if len(ticks) > 7 else 0.0,
            children.ru_utime + children.ru_stime)


def other_load(before, after, wall):
    """Cores used by other processes on average between two snapshots, and cores stolen by the hypervisor."""
    busy, steal, own = (b - a for a, b in zip(before, after))
    return max(0.0, (busy - own) / wall), steal / wall


def run_sweep(program, binary, sweep, out, ranks):
    """Run SWEEP into OUT (started over) on RANKS ranks; exit naming PROGRAM if it fails. Returns the wall time in
    seconds, the cores other processes used meanwhile and the cores stolen by the hypervisor."""
    args = ["mpirun", "--oversubscribe", "-n", str(ranks), binary, "run", sweep, "-o", out, "--quiet", "--force"]
    before = cpu_snapshot()
    start = time.monotonic()
    result = subprocess.run(args, env=ENV, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"{program}: {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
    return (wall, *other_load(before, cpu_snapshot(), wall))
