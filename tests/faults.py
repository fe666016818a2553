"""Faults a sweep must survive, with nothing lost: kill -9 at random moments
of the whole job, of rank 0 and of another rank; signals to mpirun and to the
ranks; a full file system; a second run on the same output; a point too large
for the machine; damaged journal records; a user's files beside the output;
bad paths and hostile input files. Each case checks the exit status, the
one-line message, and what is (and is not) on disk afterwards; every resumed
sweep must equal an uninterrupted run point for point.

usage: faults.py GROKSWEEP MPIEXEC WORKDIR [--report FILE]

--report writes the classes, trials and outcomes as Markdown (the source of
tests/RELIABILITY.md).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import harness
from harness import ENV, check, finish
from sweep_files import journal_records, record_size, same_points, wait_for_records, wait_unlocked

GROKSWEEP, MPIEXEC, WORKDIR = sys.argv[1:4]
REPORT = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--report" else None
JOURNAL_HEADER = 64
TRIALS = []  # (class, trial, outcome) for the report


def trial(kind, what, ok):
    """Record one trial of a fault class; ok is whether nothing was lost."""
    TRIALS.append((kind, what, "nothing lost" if ok else "FAILED"))
    return ok

# Four points of a few seconds each on one core.
SLOW = {"task": {"kind": "teacher_student", "test_size": 10},
        "model": {"activation": "relu", "width": 100, "depth": 2},
        "train": {"steps": 20000, "eval_every": 5000},
        "grid": {"train_size": [50], "weight_decay": [0.1], "init_scale": [1, 2, 3, 4], "seed": 1}}
# Four points of ten seconds or so: runs that are still going when another tries the output. All four at
# init scale 1, where none can diverge and end early on any BLAS kernel (a diverged point stops at once).
LONG = dict(SLOW, train={"steps": 150000, "eval_every": 50000},
            grid={"train_size": [50], "weight_decay": [0.1], "init_scale": [1], "seed": 4})
# Six points, a fraction of a second in all.
FAST = {"task": {"kind": "teacher_student", "test_size": 10},
        "model": {"activation": "tanh", "width": 12},
        "train": {"steps": 200, "eval_every": 100},
        "grid": {"train_size": [20], "weight_decay": [0.1], "init_scale": [1, 2, 3], "seed": 2}}


def write(name, sweep):
    path = os.path.join(WORKDIR, name)
    with open(path, "w") as f:
        json.dump(sweep, f)
    return path


def run(*args, ranks=0, timeout=300):
    prefix = [MPIEXEC, "-n", str(ranks)] if ranks else []
    return subprocess.run(prefix + [GROKSWEEP, *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def one_line(result, what):
    message = result.stderr.strip()
    check(len(message.splitlines()) == 1, f"{what}: one line, got {message!r}")
    return message


def leftovers(directory):
    """Files a run may leave next to its output besides the output, journal and lock."""
    return sorted(f for f in os.listdir(directory) if f.startswith(".groksweep-"))


def fnv_splitmix(text):
    """hash_string of core/rng.c: FNV-1a of the bytes, finished with splitmix64."""
    h = 0xcbf29ce484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001b3) & (2**64 - 1)
    h = (h + 0x9e3779b97f4a7c15) & (2**64 - 1)
    z = h
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & (2**64 - 1)
    return z ^ (z >> 31)


def second_run_refused():
    """A second run on an output in use is refused naming the first; a kill -9 leaves no stale lock."""
    sweep = write("long.json", LONG)
    out = os.path.join(WORKDIR, "locked.h5")
    first = subprocess.Popen([MPIEXEC, "-n", "2", GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    check(wait_for_records(out, 0.01, sweep) or os.path.exists(out + ".journal"), "the first run started")
    time.sleep(0.5)
    check(first.poll() is None, "the first run is still going when the second starts")
    second = run("run", sweep, "-o", out, "--quiet")
    message = one_line(second, "second run")
    check(second.returncode == 2, f"a second run on the same output is refused: exit {second.returncode}")
    check("in use by another run" in message and "host " in message and "pid " in message,
          f"the message names the running one's host and pid: {message}")
    forced = run("run", sweep, "-o", out, "--quiet", "--force")
    check(forced.returncode == 2 and "in use" in forced.stderr, "--force does not take the output from a running run")
    _, stderr = first.communicate(timeout=300)
    check(first.returncode == 0, f"the first run finishes untouched: exit {first.returncode}: {stderr[-300:]}")
    with h5py.File(out, "r") as f:
        check((f["status"][...] == 1).all(), "every point done once")
    check(journal_records(out, sweep) == 4, f"4 journal records, got {journal_records(out, sweep)}")

    # a run killed with -9 leaves its lock file but no lock: the next run takes it
    sweep = write("slow.json", SLOW)
    out = os.path.join(WORKDIR, "killed.h5")
    victim = subprocess.Popen([GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    check(wait_for_records(out, 1, sweep), "the victim journaled a point")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    check(wait_unlocked(out), "the killed run's lock is released")
    check(os.path.exists(out + ".lock"), "the lock file stays")
    resumed = run("run", sweep, "-o", out, "--quiet", ranks=2)
    check(resumed.returncode == 0, f"a kill -9 leaves no stale lock: exit {resumed.returncode}: {resumed.stderr}")


def too_large_point():
    """A point needing more memory than the machine has is not recorded, the run exits 1, the next retries it."""
    sweep = dict(FAST, grid=dict(FAST["grid"], **{"model.width": [12, 50000], "init_scale": [1], "seed": 1}))
    sweep["model"] = {"activation": "tanh", "depth": 3}
    path = write("large.json", sweep)
    out = os.path.join(WORKDIR, "large.h5")
    result = run("run", path, "-o", out, "--quiet")
    check(result.returncode == 1, f"a point larger than the machine's memory: exit 1 (environment), got "
                                  f"{result.returncode}")
    check("could not be trained" in result.stderr and "GiB" in result.stderr and "run the same command again"
          in result.stderr, f"the message names the memory and the way out: {result.stderr}")
    with h5py.File(out, "r") as f:
        check(list(f["status"][...].ravel()) == [1, 0], "the other point is recorded, the large one stays not run")
    check(journal_records(out, path) == 1, "only the trained point is journaled: the next run retries the other")
    again = run("run", path, "-o", out, "--quiet")
    check(again.returncode == 1 and journal_records(out, path) == 1, "a second run retries only the large point")
    validated = run("validate", path)
    check(validated.returncode == 1 and "GiB" in validated.stderr and "valid" not in validated.stdout,
          f"validate refuses it too: exit {validated.returncode}: {validated.stderr}")


def damaged_journal():
    """A flipped byte in a journal record costs only that point; a damaged header is refused with the way out."""
    path = write("fast.json", FAST)
    reference = os.path.join(WORKDIR, "reference.h5")
    check(run("run", path, "-o", reference, "--quiet").returncode == 0, "reference run")
    size = record_size(path)
    # the first record, one in the middle, the last; then a torn tail
    for where in (0, 2, 5, "torn"):
        out = os.path.join(WORKDIR, f"hurt_{where}.h5")
        check(run("run", path, "-o", out, "--quiet").returncode == 0, "run to damage")
        with open(out + ".journal", "r+b") as f:
            if where == "torn":
                f.truncate(JOURNAL_HEADER + 5 * size + size // 2)  # half of record 5 written
            else:
                f.seek(JOURNAL_HEADER + where * size + 40)  # inside the payload of record `where`
                byte = f.read(1)
                f.seek(-1, os.SEEK_CUR)
                f.write(bytes([byte[0] ^ 0x04]))
        result = run("run", path, "-o", out, "--quiet")
        check(result.returncode == 0, f"a damaged record ({where}) is survived: exit {result.returncode}: "
                                      f"{result.stderr}")
        if where != "torn":
            check(f"record {where}" in result.stderr and "damaged" in result.stderr,
                  f"record {where} reported: {result.stderr}")
        check(journal_records(out, path) == 6, f"{where}: its point ran again: 6 records")
        same_points(reference, out, f"after a damaged journal ({where})")
    quiet = run("run", path, "-o", out, "--quiet")
    check(quiet.returncode == 0 and "is damaged" not in quiet.stderr, f"reported once: the journal was rewritten: "
                                                                     f"{quiet.stderr}")
    with open(out + ".journal", "r+b") as f:
        f.write(b"XXXXXXXX")
    header = run("run", path, "-o", out, "--quiet")
    message = one_line(header, "damaged header")
    check(header.returncode == 2 and "header is damaged" in message and "--force" in message,
          f"a damaged journal header is refused with the way out: {message}")
    with h5py.File(out, "r") as f:
        check((f["status"][...] == 1).all(), "and the output is left as it was")


def files_beside_the_output():
    """A user's OUT.h5.tmp is left alone and a symbolic link at the build name is not followed."""
    path = write("fast.json", FAST)
    out = os.path.join(WORKDIR, "beside.h5")
    with open(out + ".tmp", "w") as f:
        f.write("a user's notes")
    target = os.path.join(WORKDIR, "target.txt")
    with open(target, "w") as f:
        f.write("keep me")
    temp = os.path.join(WORKDIR, f".groksweep-{fnv_splitmix('beside.h5'):016x}.tmp")
    os.symlink(target, temp)
    result = run("run", path, "-o", out, "--quiet")
    check(result.returncode == 0, f"run beside a user's files: {result.stderr}")
    check(open(out + ".tmp").read() == "a user's notes", "OUT.h5.tmp is not touched")
    check(open(target).read() == "keep me" and not os.path.islink(out), "a symlink at the temporary name is not followed")
    check(leftovers(WORKDIR) == [], f"no temporary file left: {leftovers(WORKDIR)}")


def bad_paths_and_files():
    """Missing directories, 4 kB paths, 253-byte names, /dev/zero, directories, BOM, \\u0000, duplicate axis values, non-UTF-8 bytes, 10^8 evaluations: one line, the right exit status, nothing written."""
    path = write("fast.json", FAST)
    missing = os.path.join(WORKDIR, "no", "such", "dir", "out.h5")
    result = run("run", path, "-o", missing, "--quiet")
    one_line(result, "missing directory")
    check(result.returncode == 1, f"a missing directory is an environment failure: exit {result.returncode}")
    long_out = WORKDIR + "/"
    while len(long_out) < 4000:
        long_out += "d" * 200 + "/"
    long_out += "o" * (4090 - len(long_out))
    result = run("run", path, "-o", long_out, "--quiet")
    check(result.returncode == 2 and "too long" in result.stderr, f"a 4 kB output path: {result.stderr}")
    near_limit = os.path.join(WORKDIR, "n" * 244 + ".h5")  # 247 bytes: OUT.h5.journal is 255
    result = run("run", path, "-o", near_limit, "--quiet")
    check(result.returncode == 0, f"a 247-byte file name works (the temporary file has a short name): "
                                  f"{result.stderr}")
    for name in (near_limit, near_limit + ".journal", near_limit + ".lock"):
        if os.path.exists(name):
            os.remove(name)
    over_limit = os.path.join(WORKDIR, "n" * 250 + ".h5")
    result = run("run", path, "-o", over_limit, "--quiet")
    message = one_line(result, "253-byte name")
    check(result.returncode == 2 and "247" in message and not os.path.exists(over_limit),
          f"a 253-byte file name is refused with the limit: {message}")
    bom = os.path.join(WORKDIR, "bom.json")
    with open(bom, "wb") as f:
        f.write(b"\xef\xbb\xbf" + json.dumps(FAST).encode())
    out = os.path.join(WORKDIR, "bom.h5")
    check(run("run", bom, "-o", out, "--quiet").returncode == 0, "a sweep file with a UTF-8 byte order mark runs")
    with h5py.File(out, "r") as f:
        check(json.loads(f.attrs["sweep"]) == FAST, "and its stored sweep attribute is plain JSON")
    cases = [
        (["validate", "/dev/zero"], ["/dev/zero", "64 MiB"]),
        (["run", WORKDIR, "-o", os.path.join(WORKDIR, "d.h5")], ["Is a directory"]),
        (["run", path, "-o", ""], ["-o", "empty"]),
        (["run", path, "-o", "a.h5", "-o", "b.h5"], ["-o", "twice"]),
    ]
    nul = os.path.join(WORKDIR, "nul.json")
    with open(nul, "w") as f:
        f.write(json.dumps(FAST).replace('"relu"', '"re\\u0000lu"').replace('"tanh"', '"ta\\u0000nh"'))
    cases.append((["validate", nul], ["\\u0000", "line 1"]))
    duplicate = write("duplicate.json", dict(FAST, grid=dict(FAST["grid"], seed=[0, 0])))
    cases.append((["validate", duplicate], ["grid.seed[1]", "distinct"]))
    garbage = os.path.join(WORKDIR, "garbage.json")
    with open(garbage, "wb") as f:
        f.write(b'{"model": {"activation": "t\xff\xfeh"}}')
    cases.append((["train", garbage], ["model.activation", "t??h"]))
    steps = write("steps.json", dict(FAST, train={"steps": 100000000, "eval_every": 1}))
    cases.append((["validate", steps], ["train.eval_every = 1", "1000000"]))
    for args, needles in cases:
        result = run(*args)
        message = one_line(result, " ".join(args[:2]))
        check(result.returncode == 2, f"{args}: exit 2, got {result.returncode}")
        for needle in needles:
            check(needle in message, f"{args}: the message names {needle!r}: {message!r}")
    for name in ("a.h5", "b.h5", os.path.join(WORKDIR, "d.h5")):
        check(not os.path.exists(name) and not os.path.exists(name + ".journal"), f"nothing written for {name}")
    check(leftovers(WORKDIR) == [], f"no temporary file left: {leftovers(WORKDIR)}")


def rank_pids(mpirun_pid):
    """{rank: pid} of the processes mpirun started, from their OMPI_COMM_WORLD_RANK."""
    ranks = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            if parent != mpirun_pid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        except (OSError, ValueError, IndexError):
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
    return ranks


def kill_trials(count):
    """kill -9 at a random moment (seeded) of the whole job, rank 0 or rank 1, then the same command."""
    sweep = write("slow.json", SLOW)
    reference = os.path.join(WORKDIR, "slow_reference.h5")
    check(run("run", sweep, "-o", reference, "--quiet", ranks=2).returncode == 0, "reference run")
    chooser = random.Random(2026)
    targets = ["the whole job", "rank 0", "rank 1"]
    for k in range(count):
        target = targets[k % len(targets)]
        delay = chooser.uniform(0.3, 4.0)
        out = os.path.join(WORKDIR, f"killed_{k}.h5")
        process = subprocess.Popen([MPIEXEC, "-n", "2", GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if process.poll() is None:
            if target == "the whole job":
                os.killpg(process.pid, signal.SIGKILL)
            else:
                pids = rank_pids(process.pid)
                victim = pids.get(0 if target == "rank 0" else 1)
                if victim:
                    os.kill(victim, signal.SIGKILL)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        check(wait_unlocked(out), f"kill -9 of {target}: the dead run's lock is released")
        done_before = int(journal_records(out, sweep)) if os.path.exists(out + ".journal") else 0
        result = run("run", sweep, "-o", out, "--quiet", ranks=2)
        ok = check(result.returncode == 0, f"kill -9 of {target} after {delay:.1f} s: the resume exits 0, got "
                                           f"{result.returncode}: {result.stderr[-300:]}")
        ok = ok and same_points(reference, out, f"kill -9 of {target} after {delay:.1f} s")
        trial("kill -9", f"{target} after {delay:.1f} s ({done_before} of 4 points journaled), resumed", ok)


def signal_trials():
    """SIGUSR1 to mpirun, SIGTERM to rank 1, SIGINT to rank 0: exit 3, then the same command finishes."""
    sweep = write("slow.json", SLOW)
    reference = os.path.join(WORKDIR, "slow_reference.h5")
    for target, sig in (("mpirun", signal.SIGUSR1), ("rank 1", signal.SIGTERM), ("rank 0", signal.SIGINT)):
        out = os.path.join(WORKDIR, f"signalled_{target.replace(' ', '')}.h5")
        process = subprocess.Popen([MPIEXEC, "-n", "2", GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        check(wait_for_records(out, 1, sweep), f"{target}: a point journaled")
        pid = process.pid if target == "mpirun" else rank_pids(process.pid).get(int(target[-1]))
        sent = time.time()
        if pid:
            os.kill(pid, sig)
        _, stderr = process.communicate(timeout=120)
        took = time.time() - sent
        name = signal.Signals(sig).name
        ok = check(process.returncode == 3, f"{name} to {target}: exit 3 (interrupted, resumable), got "
                                            f"{process.returncode}: {stderr[-300:]}")
        ok = check(took < 10, f"{name} to {target}: stopped within seconds ({took:.1f} s)") and ok
        result = run("run", sweep, "-o", out, "--quiet", ranks=2)
        ok = check(result.returncode == 0, f"{name} to {target}: the resume finishes") and ok
        ok = same_points(reference, out, f"{name} to {target}, resumed") and ok
        trial("signal", f"{name} to {target}: exit {process.returncode} after {took:.1f} s, resumed", ok)


def launcher_trials():
    """`groksweep run --ranks 2`: SIGTERM, SIGHUP and a Ctrl-C (SIGINT to its process group) end it with
    exit 3; after a kill -9 of it the ranks stop by themselves; each then resumes. And SIGTERM to a bare
    mpirun: the sweep stops the same way, but mpirun's own exit status is 1."""
    sweep = write("slow.json", SLOW)
    reference = os.path.join(WORKDIR, "slow_reference.h5")
    env = dict(ENV, GROKSWEEP_MPIEXEC=MPIEXEC)
    cases = (("SIGTERM", "groksweep run --ranks 2", signal.SIGTERM), ("SIGHUP", "groksweep run --ranks 2", signal.SIGHUP),
             ("Ctrl-C", "the process group of groksweep run --ranks 2", signal.SIGINT),
             ("kill -9", "groksweep run --ranks 2", signal.SIGKILL), ("SIGTERM", "mpirun", signal.SIGTERM))
    for k, (name, target, sig) in enumerate(cases):
        out = os.path.join(WORKDIR, f"launched_{k}.h5")
        bare = target == "mpirun"
        argv = ([MPIEXEC, "-n", "2", GROKSWEEP, "run", sweep, "-o", out, "--quiet"] if bare else
                [GROKSWEEP, "run", sweep, "--ranks", "2", "-o", out, "--quiet"])
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        check(wait_for_records(out, 1, sweep), f"{name} to {target}: a point journaled")
        sent = time.time()
        if "process group" in target:
            os.killpg(process.pid, sig)
        else:
            os.kill(process.pid, sig)
        _, stderr = process.communicate(timeout=120)
        unlocked = wait_unlocked(out, timeout=30)
        took = time.time() - sent
        expected = -signal.SIGKILL if sig == signal.SIGKILL else 1 if bare else 3
        ok = check(process.returncode == expected, f"{name} to {target}: exit {expected}, got {process.returncode}: "
                                                   f"{stderr[-300:]}")
        ok = check(unlocked and took < 15, f"{name} to {target}: the ranks stopped and released the output "
                                           f"({took:.1f} s)") and ok
        if sig != signal.SIGKILL:
            ok = check("interrupted with" in stderr, f"{name} to {target}: the sweep says it was interrupted: "
                                                     f"{stderr[-300:]}") and ok
        partial = int(journal_records(out, sweep)) if os.path.exists(out + ".journal") else 0
        result = run("run", sweep, "-o", out, "--quiet", ranks=2)
        ok = check(result.returncode == 0, f"{name} to {target}: the resume finishes: {result.stderr[-300:]}") and ok
        ok = same_points(reference, out, f"{name} to {target}, resumed") and ok
        status = "killed" if sig == signal.SIGKILL else f"exit {process.returncode}"
        trial("signal", f"{name} to {target}: {status}, ranks stopped after {took:.1f} s with {partial} of 4 points "
                        f"journaled, resumed", ok)


def startup_trials():
    """SIGTERM 0.2 s and 1 s into a 100,000-point sweep (`--ranks 2`): exit 3 within seconds, the points done kept."""
    sweep = write("huge.json", {"task": {"op": "x+y", "p": 11}, "model": {"width": 8},
                                "train": {"steps": 20, "eval_every": 10},
                                "grid": {"data_fraction": {"linspace": [0.2, 0.8, 100]},
                                         "weight_decay": {"logspace": [-3, 0, 100]},
                                         "init_scale": {"linspace": [0.5, 3, 10]}, "seed": 1}})
    env = dict(ENV, GROKSWEEP_MPIEXEC=MPIEXEC)
    for k, delay in enumerate((0.2, 1.0)):
        out = os.path.join(WORKDIR, f"huge_{k}.h5")
        process = subprocess.Popen([GROKSWEEP, "run", sweep, "-o", out, "--ranks", "2", "--quiet"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        sent = time.time()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
        took = time.time() - sent
        done = int(journal_records(out, sweep)) if os.path.exists(out + ".journal") else 0
        ok = check(process.returncode == 3 and "interrupted" in stderr,
                   f"SIGTERM {delay} s into 100,000 points: exit 3, got {process.returncode}: {stderr[-300:]}")
        ok = check(took < 10, f"SIGTERM {delay} s into 100,000 points: stopped in {took:.1f} s") and ok
        trial("signal", f"SIGTERM {delay} s into the start of a 100,000-point sweep: exit {process.returncode} "
                        f"{took:.1f} s later, {done} points journaled", ok)


def write_report(path):
    classes = {}
    for kind, what, outcome in TRIALS:
        classes.setdefault(kind, []).append((what, outcome))
    lines = ["# Reliability of `groksweep run`", "",
             "Written by `tests/faults.py --report` (ctest `faults` runs the same trials on every CI run). Each",
             "trial ends with the same command run again (or, where a run is refused, the file checked), and a",
             "resumed sweep is compared point for point with an uninterrupted one.", "",
             "| class | trials | outcomes |", "|---|---|---|"]
    for kind, rows in classes.items():
        failed = sum(1 for _, outcome in rows if outcome != "nothing lost")
        lines.append(f"| {kind} | {len(rows)} | {len(rows) - failed} nothing lost, {failed} failed |")
    for kind, rows in classes.items():
        lines += ["", f"## {kind}", ""] + [f"- {what}: {outcome}" for what, outcome in rows]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def mount_small(directory, kilobytes):
    """A tmpfs of that size at directory; False (with a note) where mounting is not allowed."""
    os.makedirs(directory, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", directory],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"note: full-disk cases skipped: cannot mount a tmpfs ({result.stderr.strip()})")
    return result.returncode == 0


def full_disk():
    """A file system too small is refused at the start with the numbers; one that fills up mid-run leaves a readable journal and no unreadable output, and the same command finishes once there is room."""
    path = write("fast.json", FAST)
    reference = os.path.join(WORKDIR, "reference.h5")
    small = os.path.join(WORKDIR, "small_fs")
    if not mount_small(small, 60):
        return
    try:
        out = os.path.join(small, "out.h5")
        result = run("run", path, "-o", out, "--quiet")
        message = one_line(result, "no room")
        check(result.returncode == 1 and "free" in message and "need" in message,
              f"a file system too small is refused before the first point: exit {result.returncode}: {message}")
        check(sorted(os.listdir(small)) == ["out.h5.lock"], f"nothing but the lock written: {os.listdir(small)}")
    finally:
        subprocess.run(["umount", small])
    # room at the start, none a moment later: another process fills the file system
    if not mount_small(small, 2048):
        return
    process = None
    try:
        sweep = write("slow_small.json", dict(SLOW, train=dict(SLOW["train"], steps=20000, eval_every=10)))
        slow_reference = os.path.join(WORKDIR, "slow_small_reference.h5")
        check(run("run", sweep, "-o", slow_reference, "--quiet", ranks=2).returncode == 0, "reference run")
        out = os.path.join(small, "out.h5")
        process = subprocess.Popen([GROKSWEEP, "run", sweep, "-o", out, "--quiet"], env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        check(wait_for_records(out, 1, sweep), "the run journaled a point")
        filler = os.path.join(small, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:  # ENOSPC: the file system is full
            pass
        finally:
            os.close(fd)
        _, stderr = process.communicate(timeout=300)
        check(process.returncode == 1, f"a full disk mid-run is an environment failure: exit {process.returncode}: "
                                       f"{stderr[-400:]}")
        check("-11" not in str(process.returncode) and "Segmentation" not in stderr, "no crash")
        if os.path.exists(out):
            with h5py.File(out, "r") as f:
                check("status" in f, "an output left behind is readable")
        kept = journal_records(out, sweep)
        check(kept >= 1, f"the journal keeps the finished points: {kept}")
        os.remove(filler)
        result = run("run", sweep, "-o", out, "--quiet")
        check(result.returncode == 0, f"with space again the same command finishes: {result.stderr}")
        same_points(slow_reference, out, "full disk, then resumed")
    finally:
        if process and process.poll() is None:
            process.kill()
            process.wait()
        subprocess.run(["umount", small])


shutil.rmtree(WORKDIR, ignore_errors=True)
os.makedirs(WORKDIR)
kill_trials(10)
signal_trials()
launcher_trials()
startup_trials()
for kind, case in (("full file system", full_disk), ("concurrent runs", second_run_refused),
                   ("a point too large for the machine", too_large_point), ("damaged journal", damaged_journal),
                   ("files beside the output", files_beside_the_output),
                   ("hostile paths and input files", bad_paths_and_files)):
    failures = len(harness._failures)
    case()
    trial(kind, case.__doc__.strip().splitlines()[0] if case.__doc__ else kind, len(harness._failures) == failures)
if REPORT:
    write_report(REPORT)
finish()
