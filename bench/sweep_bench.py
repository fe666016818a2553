"""Shared by the sweep benchmarks: a private copy of the groksweep binary,
and how much of the machine other processes used while a sweep ran."""
import os
import resource
import shutil
import sys


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
