"""`groksweep run` end to end, with real mpirun and real signals.

usage: sweep_run.py GROKSWEEP MPIEXEC WORKDIR

- The same sweep under 1 (no mpirun), 2, 3 and 4 ranks (oversubscribed)
  gives identical per-point results.
- kill -9 of the whole job part-way, then the same command: the finished
  file equals an uninterrupted run's, point for point.
- SIGTERM (one rank, no mpirun) and SIGUSR1 (through mpirun) mid-sweep exit
  with the resumable status 3; the resume completes and equals the
  uninterrupted run.
- The file loads with h5py and xarray with the contract's names and dims.
- Bad sweep files and foreign outputs get clear errors, exit status 2, and
  leave existing files untouched.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import xarray as xr
import sweep_files
from harness import ENV, check, finish
from sweep_files import DATA, SLOW, TINY, same_points, wait_for_records, wait_unlocked

GROKSWEEP, MPIEXEC, WORKDIR = sys.argv[1:4]
ENV = dict(ENV, OMPI_MCA_rmaps_base_oversubscribe="1")


def command(sweep, out, ranks, *extra):
    args = [GROKSWEEP, "run", sweep, "-o", out, "--quiet", *extra]
    return args if ranks == 0 else [MPIEXEC, "--oversubscribe", "-n", str(ranks), *args]


def run(sweep, out, ranks=0, *extra):
    result = subprocess.run(command(sweep, out, ranks, *extra), env=ENV, capture_output=True, text=True,
                            timeout=600)
    return result


def path(name):
    return os.path.join(WORKDIR, name)


def fresh(name):
    return sweep_files.fresh(WORKDIR, name)








def ranks_agree():
    reference = fresh("tiny_1.h5")
    result = run(TINY, reference)
    check(result.returncode == 0, f"1 rank: exit 0, got {result.returncode}: {result.stderr}")
    with h5py.File(reference, "r") as f:
        status = f["status"][...]
        check(status.shape == (2, 2, 2, 2, 2), f"grid shape {status.shape}")
        check((status >= 1).all(), "every point ran")
        check(f.attrs["mpi_ranks"] == 1, "rank count recorded")
    for ranks in (2, 3, 4):
        out = fresh(f"tiny_{ranks}.h5")
        result = run(TINY, out, ranks)
        check(result.returncode == 0, f"{ranks} ranks: exit 0, got {result.returncode}: {result.stderr}")
        if result.returncode == 0:
            same_points(reference, out, f"{ranks} ranks vs 1")
    return reference


def fewer_points_than_ranks():
    with open(TINY) as f:
        sweep = json.load(f)
    sweep["grid"] = {"data_fraction": [0.5], "weight_decay": [1], "init_scale": [1], "seed": 2}
    small = path("two_points.json")
    with open(small, "w") as f:
        json.dump(sweep, f)
    single, many = fresh("two_points_1.h5"), fresh("two_points_4.h5")
    check(run(small, single).returncode == 0, "2 points, 1 rank")
    result = run(small, many, 4)
    check(result.returncode == 0, f"2 points, 4 ranks: exit 0, got {result.returncode}: {result.stderr}")
    if result.returncode == 0:
        same_points(single, many, "2 points on 4 ranks vs 1")


def loads_in_readers(out):
    with h5py.File(out, "r") as f:
        check([f["status"].dims[i].keys()[0] for i in range(5)] ==
              ["data_fraction", "weight_decay", "init_scale", "seed", "lr"], "h5py: dimension scales in axis order")
        check(json.loads(f.attrs["sweep"])["grid"]["seed"] == 2, "h5py: the sweep JSON is stored")
        check(f["curve_test_acc"].dims[5].keys()[0] == "eval_step", "h5py: curves end in eval_step")
    ds = xr.open_dataset(out, engine="h5netcdf")
    check(tuple(ds["final_test_acc"].dims) == ("data_fraction", "weight_decay", "init_scale", "seed", "lr"),
          f"xarray: dims {ds['final_test_acc'].dims}")
    check(list(ds["data_fraction"].values) == [0.3, 0.6] and list(ds["lr"].values) == [0.003, 0.03],
          "xarray: coordinate values")
    check(list(ds["eval_step"].values) == list(range(0, 201, 20)), "xarray: eval_step coordinate")
    check(ds["status"].dtype == np.int8, f"xarray: status stays int8, got {ds['status'].dtype}")
    frame = ds[["final_test_acc", "phase"]].to_dataframe()
    check(len(frame) == 32 and frame.index.names == ["data_fraction", "weight_decay", "init_scale", "seed", "lr"],
          "pandas: one row per point with a MultiIndex over the axes")
    ds.close()


def killed_and_resumed(reference_slow):
    out = fresh("slow_killed.h5")
    process = subprocess.Popen(command(SLOW, out, 2), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    started = wait_for_records(out, 3, SLOW)
    check(started, "the sweep journaled three points")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    check(wait_unlocked(out), "the killed job's ranks die and release the output's lock")
    with open(out + ".journal", "rb") as f:
        size_after_kill = len(f.read())
    result = run(SLOW, out, 2)
    check(result.returncode == 0, f"resume after kill -9: exit 0, got {result.returncode}: {result.stderr}")
    check(size_after_kill < os.path.getsize(out + ".journal"), "the resume added points")
    if result.returncode == 0:
        same_points(reference_slow, out, "kill -9 and resume vs uninterrupted")


def signalled_and_resumed(reference_slow, ranks, sig):
    out = fresh(f"slow_signal_{ranks}.h5")
    process = subprocess.Popen(command(SLOW, out, ranks), env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    check(wait_for_records(out, 2, SLOW), "the sweep journaled two points")
    sent = time.time()
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    took = time.time() - sent
    name = signal.Signals(sig).name
    check(process.returncode == 3, f"{name} with {ranks} ranks: exit status 3, got {process.returncode}: {stderr}")
    check(took < 10, f"{name}: stopped within seconds, took {took:.1f} s")
    check("resume" in stderr, f"{name}: says how to resume: {stderr!r}")
    with h5py.File(out, "r") as f:
        status = f["status"][...]
        check(0 < (status > 0).sum() < status.size, f"{name}: a partial file, {(status > 0).sum()} points done")
    result = run(SLOW, out, ranks)
    check(result.returncode == 0, f"{name}: resume exits 0, got {result.returncode}: {result.stderr}")
    if result.returncode == 0:
        same_points(reference_slow, out, f"{name} and resume vs uninterrupted")


def bad_input(reference):
    cases = {
        "no_grid.json": ('{"task": {"p": 13}}', ["grid"]),
        "unknown_axis.json": ('{"grid": {"data_fraction": [0.3], "weight_decy": [1], "init_scale": [1], '
                              '"seed": 1}}', ["weight_decy", "weight_decay"]),
        "bad_value.json": ('{"grid": {"data_fraction": [0.3], "weight_decay": [1, -1], "init_scale": [1], '
                           '"seed": 1}}', ["grid.weight_decay[1]", "-1", ">= 0"]),
        "empty_axis.json": ('{"grid": {"data_fraction": [], "weight_decay": [1], "init_scale": [1], "seed": 1}}',
                            ["grid.data_fraction"]),
        "bad_base.json": ('{"optimizer": {"lr": -1}, "grid": {"data_fraction": [0.3], "weight_decay": [1], '
                          '"init_scale": [1], "seed": 1}}', ["optimizer.lr", "-1"]),
    }
    for name, (text, needles) in cases.items():
        sweep = path(name)
        with open(sweep, "w") as f:
            f.write(text)
        out = fresh("bad.h5")
        result = run(sweep, out)
        check(result.returncode == 2, f"{name}: exit 2, got {result.returncode}")
        message = result.stderr.strip()
        check(len(message.splitlines()) == 1, f"{name}: one line: {message!r}")
        for needle in needles:
            check(needle in message, f"{name}: names {needle!r}: {message!r}")
        check(not os.path.exists(out), f"{name}: no output written")
        validate = subprocess.run([GROKSWEEP, "validate", sweep], capture_output=True, text=True)
        check(validate.returncode == 2 and validate.stderr.strip().endswith(message.split(": ", 1)[1]),
              f"{name}: validate reports the same error: {validate.stderr!r}")

    # --ranks: a rank count, given once, from a process that is not itself a rank
    out = fresh("ranks.h5")
    for extra, needles in ((["--ranks", "0"], ["--ranks 0", "1 to"]), (["--ranks", "two"], ["--ranks two"]),
                           (["--ranks"], ["--ranks (missing)"]), (["--ranks", "2", "--ranks", "3"], ["twice"])):
        result = subprocess.run([GROKSWEEP, "run", TINY, "-o", out, *extra], env=ENV, capture_output=True, text=True)
        message = result.stderr.strip()
        check(result.returncode == 2 and len(message.splitlines()) == 1 and all(n in message for n in needles),
              f"{' '.join(extra)}: exit 2 and one line naming it, got {result.returncode}: {message!r}")
    result = subprocess.run([MPIEXEC, "-n", "1", GROKSWEEP, "run", TINY, "-o", out, "--ranks", "2"], env=ENV,
                            capture_output=True, text=True)
    check(result.returncode == 2 and "already a rank" in result.stderr, f"--ranks inside mpirun: {result.stderr!r}")
    result = subprocess.run([GROKSWEEP, "run", TINY, "-o", out, "--ranks", "2"], capture_output=True, text=True,
                            env=dict(ENV, GROKSWEEP_MPIEXEC="/nonexistent/mpiexec"))
    check(result.returncode == 1 and "/nonexistent/mpiexec" in result.stderr and "GROKSWEEP_MPIEXEC" in result.stderr,
          f"--ranks with a launcher that is not there: exit 1, got {result.returncode}: {result.stderr!r}")
    check(not os.path.exists(out), "--ranks refused: no output written")
    result = subprocess.run([GROKSWEEP, "run", TINY, "--ranks", "2", "-o", out, "--quiet"], capture_output=True,
                            text=True, env=dict(ENV, GROKSWEEP_MPIEXEC=f"{MPIEXEC} --oversubscribe"))
    check(result.returncode == 0, f"--ranks 2 runs the sweep: {result.stderr!r}")
    if result.returncode == 0:
        same_points(reference, out, "--ranks 2 vs mpirun")

    # a file that is not a sweep output is never overwritten without --force
    foreign = fresh("foreign.h5")
    with open(foreign, "w") as f:
        f.write("precious data")
    result = run(TINY, foreign)
    check(result.returncode == 2 and "--force" in result.stderr, f"foreign output refused: {result.stderr!r}")
    check(open(foreign).read() == "precious data", "foreign output untouched")

    # another sweep pointed at this sweep's output is refused; both files untouched
    before = {s: open(reference + s, "rb").read() for s in ("", ".journal")}
    other = path("other.json")
    with open(TINY) as f:
        sweep = json.load(f)
    sweep["train"]["steps"] = 220  # a different sweep: more seeds or values would extend the output
    with open(other, "w") as f:
        json.dump(sweep, f)
    result = run(other, reference)
    check(result.returncode == 2 and "different sweep" in result.stderr, f"other sweep refused: {result.stderr!r}")
    check(all(open(reference + s, "rb").read() == before[s] for s in before), "refused: output and journal untouched")

    # --force starts over
    result = run(other, foreign, 0, "--force")
    check(result.returncode == 0, f"--force overwrites: {result.stderr!r}")
    validate = subprocess.run([GROKSWEEP, "validate", TINY], capture_output=True, text=True)
    check(validate.returncode == 0 and "points: 32" in validate.stdout, f"validate: {validate.stdout!r}")


def one_blas_kernel(reference):
    """Results depend on the OpenBLAS kernel: ranks with different kernels, or a resume with another kernel than
    the points so far, are refused."""
    with h5py.File(reference, "r") as f:
        kernel = f.attrs["blas_core"]
    kernel = kernel.decode() if isinstance(kernel, bytes) else kernel
    other = "Sandybridge" if kernel == "Haswell" else "Haswell"
    before = {s: open(reference + s, "rb").read() for s in ("", ".journal")}
    result = subprocess.run([GROKSWEEP, "run", TINY, "-o", reference, "--quiet"],
                            env=dict(ENV, OPENBLAS_CORETYPE=other), capture_output=True, text=True, timeout=120)
    check(result.returncode == 2 and f"OPENBLAS_CORETYPE={kernel}" in result.stderr,
          f"resume with kernel {other} after {kernel}: exit 2 naming the kernel, got {result.returncode}: "
          f"{result.stderr!r}")
    check(all(open(reference + s, "rb").read() == before[s] for s in before), "refused resume: files untouched")

    out = fresh("mixed_kernels.h5")
    args = [GROKSWEEP, "run", TINY, "-o", out, "--quiet"]
    result = subprocess.run([MPIEXEC, "--oversubscribe", "-n", "1", "-x", f"OPENBLAS_CORETYPE={kernel}", *args, ":",
                             "-n", "1", "-x", f"OPENBLAS_CORETYPE={other}", *args],
                            env=ENV, capture_output=True, text=True, timeout=120)
    check(result.returncode != 0 and f"rank 1 uses the OpenBLAS kernel {other} and rank 0 uses {kernel}"
          in result.stderr, f"ranks with different kernels refused: {result.returncode}: {result.stderr!r}")
    check(not os.path.exists(out) and not os.path.exists(out + ".journal"), "mixed kernels: nothing written")


def shipped_sweeps_validate():
    root = os.path.join(DATA, "..", "..")
    sweeps_dir = os.path.join(root, "sweeps")
    for name in sorted(os.listdir(sweeps_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(sweeps_dir, name)) as f:
            if "grid" not in json.load(f):
                continue
        # from the project root, where the shipped sweeps' data paths start
        result = subprocess.run([GROKSWEEP, "validate", os.path.join("sweeps", name)], capture_output=True,
                                text=True, timeout=300, cwd=root)
        check(result.returncode == 0, f"sweeps/{name} validates: {result.stderr}")


def progress_modes():
    """--progress log: lines with the phase counts so far; none: nothing; live under --ranks on a terminal:
    one redrawn line that fits the terminal's width."""
    out = fresh("progress.h5")
    result = subprocess.run([GROKSWEEP, "run", TINY, "-o", out, "--progress", "log"], env=ENV, capture_output=True,
                            text=True)
    lines = [line for line in result.stderr.splitlines() if line.startswith("groksweep: ")]
    last = re.search(r"(\d+)/(\d+) done .* elapsed, .* phases C/G/M/X (\d+)/(\d+)/(\d+)/(\d+)$",
                     lines[-1]) if lines else None
    with h5py.File(out, "r") as f:
        phases = [int((f["phase"][...] == code).sum()) for code in (1, 2, 3, 4)]
    check(result.returncode == 0 and last is not None and last.group(1) == last.group(2) == "32" and
          [int(last.group(k)) for k in (3, 4, 5, 6)] == phases,
          f"--progress log: the last line counts the phases in the file {phases}: {lines[-1:]}")
    out = fresh("progress_none.h5")
    result = subprocess.run([GROKSWEEP, "run", TINY, "-o", out, "--progress", "none"], env=ENV, capture_output=True,
                            text=True)
    check(result.returncode == 0 and "groksweep: " not in result.stderr, f"--progress none: {result.stderr!r}")
    if not shutil.which("script"):
        print("progress_modes: no script(1): the live line under a terminal is not checked", file=sys.stderr)
        return
    out = fresh("progress_live.h5")
    typescript = path("progress.typescript")
    command = f"stty cols 90; {GROKSWEEP} run {TINY} -o {out} --ranks 2"
    result = subprocess.run(["script", "-qec", command, typescript], env=dict(ENV, GROKSWEEP_MPIEXEC=MPIEXEC),
                            capture_output=True, text=True, timeout=120)
    with open(typescript, "rb") as f:
        screen = f.read().decode(errors="replace")
    redraws = [part for part in screen.split("\r") if part.startswith("groksweep: ") and "\033[K" in part]
    widths = [len(part.split("\033[K")[0]) for part in redraws]
    check(result.returncode == 0 and len(redraws) >= 2 and max(widths, default=999) <= 89,
          f"--ranks on a terminal: a live line redrawn {len(redraws)} times, at most 89 columns wide ({widths[:3]})")


def extended_grid():
    """A sweep with more seeds and a new data fraction, run on an output of the smaller grid, keeps its points
    and trains only the new ones: the file equals a fresh run of the larger grid. A sweep that changes anything
    else, or drops a value, is refused with both files untouched."""
    with open(TINY) as f:
        small = json.load(f)
    larger = json.loads(json.dumps(small))
    larger["grid"]["seed"] = 3
    larger["grid"]["data_fraction"] = [0.3, 0.45, 0.6]
    changed = json.loads(json.dumps(small))
    changed["train"]["steps"] = 220
    fewer = json.loads(json.dumps(small))
    fewer["grid"]["data_fraction"] = [0.3]
    paths = {}
    for name, sweep in (("small", small), ("larger", larger), ("changed", changed), ("fewer", fewer)):
        paths[name] = path(f"extend_{name}.json")
        with open(paths[name], "w") as f:
            json.dump(sweep, f)
    reference = fresh("extend_reference.h5")
    check(run(paths["larger"], reference).returncode == 0, "the larger grid from scratch")
    out = fresh("extended.h5")
    check(run(paths["small"], out).returncode == 0, "the smaller grid")
    with open(out + ".journal.extending", "wb") as f:
        f.write(b"left by a crashed extension")
    result = run(paths["larger"], out, 2)
    check(result.returncode == 0 and "from 32 to 72 points: its 32 finished points are kept" in result.stderr,
          f"the larger grid on the smaller one's output extends it: {result.stderr[-400:]}")
    check(not os.path.exists(out + ".journal.extending"), "no journal left beside the extended one")
    if result.returncode == 0:
        same_points(reference, out, "extended vs from scratch")
    check(sweep_files.journal_records(out, paths["larger"]) == 72, "the journal holds each point once: 72 records")
    before = {s: open(out + s, "rb").read() for s in ("", ".journal")}
    for name, needle in (("changed", "the config outside the grid differs"),
                         ("fewer", "the axis data_fraction has the value 0.45, which the new grid lacks")):
        result = run(paths[name], out)
        check(result.returncode == 2 and needle in result.stderr and "--force" in result.stderr,
              f"{name}: refused, saying why: {result.stderr!r}")
    check(all(open(out + s, "rb").read() == before[s] for s in before), "refused: output and journal untouched")


def validate_estimate():
    """validate --ranks N: an estimate from a few points trained whole, a Slurm --time; bad --ranks refused; a
    phase.delay_steps at or over the step budget warned about."""
    result = subprocess.run([GROKSWEEP, "validate", TINY, "--ranks", "2"], env=ENV, capture_output=True, text=True)
    wall = re.search(r"^estimated wall time on 2 ranks: ([\d.]+) (s|min|h)$", result.stdout, re.M)
    core = re.search(r"^estimated core time: ([\d.]+) (s|min|h)$", result.stdout, re.M)
    check(result.returncode == 0 and wall and core and
          re.search(r"^early stop: 6 points trained whole took .* of CPU", result.stdout, re.M) and
          re.search(r"^slurm: sbatch --ntasks=2 --time=00:10:00 ", result.stdout, re.M),
          f"validate --ranks 2: estimate, early stop and Slurm lines: {result.stdout[-500:]}")
    if wall and core:
        unit = {"s": 1, "min": 60, "h": 3600}
        w, c = float(wall.group(1)) * unit[wall.group(2)], float(core.group(1)) * unit[core.group(2)]
        check(c / 2 * 0.95 <= w <= c * 1.05, f"the 2-rank wall time ({w} s) lies between half the core time and all "
                                             f"of it ({c} s)")
    refined = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "refined_sweep.json")
    result = subprocess.run([GROKSWEEP, "validate", refined, "--ranks", "2"], env=ENV, capture_output=True, text=True)
    unit = {"s": 1, "min": 60, "h": 3600}
    times = {name: re.search(rf"^{re.escape(label)} ([\d.]+) (s|min|h)$", result.stdout, re.M)
             for name, label in (("all", "estimated core time:"), ("coarse", "the coarse grid alone, core time:"),
                                 ("coarse wall", "the coarse grid alone, wall time on 2 ranks:"))}
    check(result.returncode == 0 and all(times.values()) and
          "the 18 points of the coarse grid train first" in result.stdout,
          f"validate --ranks 2 of a refined sweep: the coarse grid's 18 points and its time: {result.stdout[-600:]}")
    if all(times.values()):
        seconds = {k: float(m.group(1)) * unit[m.group(2)] for k, m in times.items()}
        check(seconds["coarse wall"] <= seconds["coarse"] <= seconds["all"],
              f"the coarse grid's time is at most the whole grid's: {seconds}")
    for value in ("0", "x"):
        bad = subprocess.run([GROKSWEEP, "validate", TINY, "--ranks", value], env=ENV, capture_output=True, text=True)
        check(bad.returncode == 2 and f"--ranks {value}" in bad.stderr, f"validate --ranks {value}: {bad.stderr!r}")
    with open(TINY) as f:
        sweep = json.load(f)
    sweep["phase"]["delay_steps"] = sweep["train"]["steps"]
    late = path("late_delay.json")
    with open(late, "w") as f:
        json.dump(sweep, f)
    result = subprocess.run([GROKSWEEP, "validate", late], env=ENV, capture_output=True, text=True)
    check(result.returncode == 0 and "warning: phase.delay_steps = 200 is not below train.steps = 200" in result.stdout,
          f"a delay that no run can reach is warned about: {result.stdout[-300:]}")


os.makedirs(WORKDIR, exist_ok=True)
shipped_sweeps_validate()
reference = ranks_agree()
fewer_points_than_ranks()
loads_in_readers(reference)
reference_slow = fresh("slow_reference.h5")
result = run(SLOW, reference_slow, 2)
check(result.returncode == 0, f"slow reference: {result.stderr}")
killed_and_resumed(reference_slow)
signalled_and_resumed(reference_slow, 0, signal.SIGTERM)
signalled_and_resumed(reference_slow, 2, signal.SIGUSR1)
bad_input(reference)
one_blas_kernel(reference)
progress_modes()
extended_grid()
validate_estimate()

finish()
