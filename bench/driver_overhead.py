#!/usr/bin/python3
"""The sweep driver's cost per point, and how many ranks one driver can feed.

usage: bench/driver_overhead.py [--build build] [--ranks 4 8 16 32] [--demo-h5 FILE | --t-train S] [--quick] [--json FILE]

1. Sizes. The bytes of one point as it travels and is stored (worker/record.h):
   the packed PointResult is 62 bytes of scalars plus 5 curves of n_eval
   float32 (the curves dominate); an MPI message adds a 16-byte header, a
   journal record 20 bytes (magic, index, checksum). Shown for the demo sweep
   and the sweep measured here, and checked against the run's journal and
   the --timing report.

2. Saturation. bench/sweeps/driver_overhead.json has 2000 trivially cheap
   points (p = 5, width 4, 300 steps, ~1 ms each) with the demo's curve
   length (301 evaluations), so the driver, not training, is the bottleneck.
   It runs under `mpirun --oversubscribe -n N` for each N with
   `groksweep run --timing`, which prints the driver thread's time per
   recorded point: journal append + fsync (and per batch: the points that
   arrived together share one write and one fsync), HDF5 write + flush, its
   CPU time outside the journal, and all of its handling of the point. More
   ranks deliver larger batches. From outside: points/s of the whole command
   and of the driver loop, the rate over the first and the last quarter of
   the points (sampled from the journal's size: does the per-point cost grow
   as the file fills?), and the output's size against the bytes its
   datasets hold.

3. System calls (if strace is installed; --no-strace skips it). One more run
   with rank 0 under `strace -f -y -T`: bytes written and fsync time per
   point, per file. Bytes written to the HDF5 file per point exceed the
   file's growth per point when flushes rewrite compressed chunks.

4. Projection. A point costs the driver c + (a + b B) / B at batch size B:
   c its CPU time per point outside the journal, a + b B the journal's time
   per batch (a line fitted over the runs' batch sizes). At full batches
   (1024, the farm's capacity) that gives the most points/s one driver can
   record (target 20,000). With T seconds of training per point and D
   seconds of driver time per point, one driver keeps at most T / D ranks
   busy. T is the median training time of the demo sweep's points
   (wall_seconds from --demo-h5, else the demo sweep is run here: about 90 s
   on 2 cores) and ten times that; D is the full-batch cost. For 10,000 ranks
   and 1,000,000 points it prints the points/s the driver would have to
   absorb, the bytes/s into the journal and the HDF5 file, the file sizes,
   and the sweep's time if the driver is the limit.

The fsync and flush times depend on the file system of --workdir (default a
temporary directory); pass --workdir on the file system a sweep will use.
Exit status 1 only on errors (a failed run, sizes that do not add up).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import h5py
import numpy as np
from sweep_bench import ENV, cpu_snapshot, other_load, snapshot_binary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALAR_BYTES = 1 + 1 + 4 * 4 + 4 * 4 + 5 * 4 + 4 + 4  # status, phase, acc steps, finals, steps_run, wall_seconds
MESSAGE_HEADER_BYTES = 16                           # int32 kind, int32 unused, int64 point
JOURNAL_RECORD_EXTRA = 4 + 8 + 8                    # magic, point index, checksum
CURVE_SERIES = 5
DEMO_QUICK_GRID = {"data_fraction": [0.3, 0.6], "weight_decay": [0.3, 3], "init_scale": [1], "seed": 1}
PROJECTION_RANKS = 10_000
PROJECTION_POINTS = 1_000_000
FULL_BATCH = 1024                 # FARM_BATCH_CAPACITY, driver/farm.h
TARGET_POINTS_PER_SECOND = 20_000


def fail(message):
    sys.exit(f"driver_overhead: {message}")




def n_eval_of(binary, sweep):
    result = subprocess.run([binary, "validate", sweep], capture_output=True, text=True)
    match = re.search(r"evaluations per point: (\d+)", result.stdout)
    if result.returncode != 0 or not match:
        fail(f"{binary} validate {sweep}: exit {result.returncode}: {result.stderr.strip()}")
    return int(match.group(1))


def sizes(n_eval):
    payload = SCALAR_BYTES + CURVE_SERIES * 4 * n_eval
    return {"n_eval": n_eval, "payload": payload, "curves": CURVE_SERIES * 4 * n_eval,
            "message": MESSAGE_HEADER_BYTES + payload, "journal_record": JOURNAL_RECORD_EXTRA + payload}






def write_json(path, config):
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    return path


def mpirun(ranks, rank0_prefix=()):
    """The launcher; with rank0_prefix, rank 0 alone runs under that command (e.g. strace)."""
    launcher = ["mpirun", "--oversubscribe", "-n", str(ranks)]
    if not rank0_prefix:
        return launcher
    script = 'if [ "$OMPI_COMM_WORLD_RANK" = 0 ]; then exec ' + " ".join(rank0_prefix) + ' "$@"; else exec "$@"; fi'
    return launcher + ["sh", "-c", script, "sh"]


def sample_journal(path, header_bytes_guess, record_bytes, stop, samples):
    """Record (time, records in the journal) until stop is set."""
    while not stop.is_set():
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        samples.append((time.monotonic(), max(0, size - header_bytes_guess) // record_bytes))
        time.sleep(0.05)


TIMING_HEAD = re.compile(r"timing: (\d+) points recorded in (\d+) batches \(([\d.]+) per batch\), message (\d+) bytes, "
                         r"driver loop ([\d.]+) s")
TIMING_LINE = re.compile(r"timing: (.+?)\s+total ([\d.]+) s, ([\d.]+) us per point")
TIMING_KEYS = {"journal append + fsync": "journal", "HDF5 write + flush": "hdf5",
               "driver busy (all of it + MPI)": "handling", "driver CPU outside the journal": "cpu",
               "driver CPU + journal wait": "bound"}


def parse_timing(stderr):
    head = TIMING_HEAD.search(stderr)
    if not head:
        fail("groksweep run --timing printed no timing (a groksweep built without --timing?):\n" + stderr)
    timing = {"points": int(head.group(1)), "batches": int(head.group(2)), "points_per_batch": float(head.group(3)),
              "message_bytes": int(head.group(4)), "driver_loop_seconds": float(head.group(5))}
    for match in TIMING_LINE.finditer(stderr):
        key = TIMING_KEYS.get(match.group(1).strip())
        if key:
            timing[key] = {"total_s": float(match.group(2)), "mean_ms": float(match.group(3)) / 1e3,
                           "max_ms": float("nan")}  # batches: no per-point maximum
    return timing


def run_timed(binary, sweep, out, ranks, record_bytes):
    """One saturation run: wall time, the --timing report, journal samples."""
    for suffix in ("", ".journal"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    args = mpirun(ranks) + [binary, "run", sweep, "-o", out, "--quiet", "--timing"]
    samples, stop = [], threading.Event()
    sampler = threading.Thread(target=sample_journal, args=(out + ".journal", 64, record_bytes, stop, samples))
    before = cpu_snapshot()
    start = time.monotonic()
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.monotonic() - start
    other = other_load(before, cpu_snapshot(), wall)[0]
    stop.set()
    sampler.join()
    if process.returncode != 0:
        fail(f"{' '.join(args)}: exit {process.returncode}: {stderr.strip()}")
    return wall, other, parse_timing(stderr), [(t - start, n) for t, n in samples]


def quarter_rates(samples, n_points):
    """Points/s over the first and the last quarter of the points, from the journal samples."""
    def time_at(count):
        for t, n in samples:
            if n >= count:
                return t
        return None
    q = n_points // 4
    marks = [time_at(1), time_at(q), time_at(n_points - q), time_at(n_points)]
    if None in marks or q < 2 or marks[1] <= marks[0] or marks[3] <= marks[2]:
        return None, None
    return (q - 1) / (marks[1] - marks[0]), q / (marks[3] - marks[2])


def storage(out):
    """File size, and the bytes the datasets' chunks occupy."""
    held = 0
    with h5py.File(out, "r") as f:
        def visit(_, obj):
            nonlocal held
            if isinstance(obj, h5py.Dataset):
                held += obj.id.get_storage_size()
        f.visititems(visit)
    return os.path.getsize(out), held


STRACE_FD = re.compile(r"^(?:\d+<([^>]*)>)")


def strace_run(binary, sweep, out, ranks, workdir):
    """Rank 0 under strace: bytes written, write calls and fsync seconds per file."""
    log = os.path.join(workdir, "strace.log")
    for suffix in ("", ".journal"):
        if os.path.exists(out + suffix):
            os.remove(out + suffix)
    prefix = ["strace", "-f", "-y", "-T", "-qq", "-o", log,
              "-e", "trace=write,pwrite64,pwritev,pwritev2,fsync,fdatasync"]
    args = mpirun(ranks, prefix) + [binary, "run", sweep, "-o", out, "--quiet"]
    result = subprocess.run(args, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"strace run: exit {result.returncode}: {result.stderr.strip()}")
    per_file = {}
    pending = {}  # pid -> (call, path) of an unfinished call
    with open(log, errors="replace") as f:
        for line in f:
            pid = line.split(None, 1)[0]
            if "<unfinished ...>" in line:
                match = re.match(r"^\d+\s+(\w+)\((\d+<[^>]*>)", line)
                if match:
                    pending[pid] = (match.group(1), STRACE_FD.match(match.group(2)).group(1))
                continue
            resumed = re.match(r"^\d+\s+<\.\.\. (\w+) resumed>.*= (-?\d+).*<([\d.]+)>\s*$", line)
            if resumed:
                if pid not in pending:
                    continue
                call, path = pending.pop(pid)
                ret, seconds = int(resumed.group(2)), float(resumed.group(3))
            else:
                match = re.match(r"^\d+\s+(\w+)\(\d+<([^>]*)>.*= (-?\d+).*<([\d.]+)>\s*$", line)
                if not match:
                    continue
                call, path, ret, seconds = match.group(1), match.group(2), int(match.group(3)), float(match.group(4))
            if path.endswith(".journal"):
                key = "journal"
            elif path.endswith(".h5") or path.endswith(".tmp"):  # the output, and the file it is built in
                key = "hdf5"
            else:
                continue
            entry = per_file.setdefault(key, {"write_calls": 0, "bytes": 0, "write_seconds": 0.0,
                                              "fsync_calls": 0, "fsync_seconds": 0.0})
            if call in ("fsync", "fdatasync"):
                entry["fsync_calls"] += 1
                entry["fsync_seconds"] += seconds
            else:
                entry["write_calls"] += 1
                entry["bytes"] += max(ret, 0)
                entry["write_seconds"] += seconds
    return per_file


def median_train_seconds(h5):
    with h5py.File(h5, "r") as f:
        status, seconds = f["status"][...], f["wall_seconds"][...]
        size = os.path.getsize(h5)
        n = status.size
    done = seconds[status == 1]
    if done.size == 0:
        fail(f"{h5}: no finished point")
    return float(np.median(done)), float(np.mean(done)), size / n, int(done.size)


def human_bytes(n):
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000


def human_seconds(s):
    if s >= 86400:
        return f"{s / 86400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.2g} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory holding groksweep")
    parser.add_argument("--ranks", type=int, nargs="+", default=[4, 8, 16, 32],
                        help="rank counts of the saturation runs (more ranks: larger batches)")
    parser.add_argument("--sweep", default=os.path.join(REPO, "bench", "sweeps", "driver_overhead.json"))
    parser.add_argument("--demo", default=os.path.join(REPO, "sweeps", "demo.json"))
    parser.add_argument("--demo-h5", metavar="FILE", help="a finished demo sweep output: its median point time")
    parser.add_argument("--t-train", type=float, metavar="S", help="training seconds per point for the projection")
    parser.add_argument("--no-strace", action="store_true", help="skip the strace run")
    parser.add_argument("--quick", action="store_true", help="240 cheap points and a 4-point demo (smoke test)")
    parser.add_argument("--workdir", help="where the outputs go (default: a temporary directory, removed)")
    parser.add_argument("--json", metavar="FILE", help="save the numbers as JSON")
    args = parser.parse_args()
    ranks_list = sorted(set(args.ranks))
    n_cores = len(os.sched_getaffinity(0))

    workdir = args.workdir or tempfile.mkdtemp(prefix="groksweep_driver_")
    os.makedirs(workdir, exist_ok=True)
    try:
        binary = snapshot_binary(args.build, workdir, "driver_overhead")
        with open(args.sweep) as f:
            config = json.load(f)
        if args.quick:
            config["grid"]["seed"] = 3
        sweep = write_json(os.path.join(workdir, "cheap.json"), config)
        with open(args.demo) as f:
            demo_config = json.load(f)
        demo_sizes = sizes(n_eval_of(binary, args.demo))
        cheap_sizes = sizes(n_eval_of(binary, sweep))
        report = {"cores": n_cores, "quick": args.quick, "sizes": {"demo": demo_sizes, "cheap": cheap_sizes}}
        errors = []

        print(f"driver_overhead: {n_cores} cores, outputs in {workdir if args.workdir else 'a temporary directory'}")
        print("bytes per point (curves dominate):")
        for name, s in (("demo", demo_sizes), ("cheap", cheap_sizes)):
            print(f"  {name:>5}: n_eval {s['n_eval']}, packed PointResult {s['payload']} "
                  f"({s['curves']} of curves), MPI message {s['message']}, journal record {s['journal_record']}")

        # 2. saturation runs
        runs = []
        for ranks in ranks_list:
            out = os.path.join(workdir, f"cheap_{ranks}.h5")
            wall, other, timing, samples = run_timed(binary, sweep, out, ranks, cheap_sizes["journal_record"])
            n = timing["points"]
            journal_bytes = os.path.getsize(out + ".journal")
            header = journal_bytes - n * cheap_sizes["journal_record"]
            if timing["message_bytes"] != cheap_sizes["message"]:
                errors.append(f"message size: --timing says {timing['message_bytes']}, "
                              f"expected {cheap_sizes['message']}")
            if not 0 < header <= 4096:
                errors.append(f"journal of {n} points is {journal_bytes} bytes: records are not "
                              f"{cheap_sizes['journal_record']} bytes")
            first, last = quarter_rates(samples, n)
            file_bytes, held = storage(out)
            run = {"ranks": ranks, "other_cores": other, "points": n, "wall_seconds": wall,
                   "points_per_second": n / wall, "loop_points_per_second": n / timing["driver_loop_seconds"],
                   "first_quarter_points_per_second": first, "last_quarter_points_per_second": last,
                   "timing": timing, "journal_bytes": journal_bytes, "journal_header_bytes": header,
                   "file_bytes": file_bytes, "dataset_bytes": held}
            runs.append(run)
            print(f"  saturation run, {ranks} ranks: {wall:.1f} s", file=sys.stderr, flush=True)
        report["runs"] = runs

        print(f"saturation: {runs[0]['points']} cheap points (~1 ms of training each)")
        print(f"{'ranks':>5} {'pts/s':>7} {'loop pts/s':>10} {'1st/last quarter':>17} {'pts/batch':>9} "
              f"{'journal ms/batch':>16} {'journal us':>10} {'HDF5 us':>8} {'CPU us':>7} {'handling us':>11} "
              f"{'other':>6}")
        for run in runs:
            t = run["timing"]
            quarters = (f"{run['first_quarter_points_per_second']:.0f}/{run['last_quarter_points_per_second']:.0f}"
                        if run["first_quarter_points_per_second"] else "?")
            print(f"{run['ranks']:>5} {run['points_per_second']:>7.1f} {run['loop_points_per_second']:>10.1f} "
                  f"{quarters:>17} {t['points_per_batch']:>9.1f} "
                  f"{1e3 * t['journal']['total_s'] / t['batches']:>16.3f} {1e3 * t['journal']['mean_ms']:>10.1f} "
                  f"{1e3 * t['hdf5']['mean_ms']:>8.1f} {1e3 * t['cpu']['mean_ms']:>7.1f} "
                  f"{1e3 * t['handling']['mean_ms']:>11.1f} {run['other_cores']:>6.2f}")
        print("(us: the driver thread's time per point from --timing; CPU: its CPU time outside the journal; "
              "handling: wall time, descheduled time included; other: cores that other processes used)")
        last = runs[-1]
        print(f"output of {last['points']} points: HDF5 {human_bytes(last['file_bytes'])} "
              f"({human_bytes(last['file_bytes'] / last['points'])}/point; its datasets hold "
              f"{human_bytes(last['dataset_bytes'])}), journal {human_bytes(last['journal_bytes'])}")

        # 3. system calls
        traced = None
        if not args.no_strace and shutil.which("strace"):
            out = os.path.join(workdir, "cheap_strace.h5")
            traced = strace_run(binary, sweep, out, ranks_list[-1], workdir)
            n = runs[-1]["points"]
            report["strace"] = {"ranks": ranks_list[-1], "points": n, "per_file": traced}
            print(f"system calls of rank 0 (strace, {ranks_list[-1]} ranks), per point:")
            for key in ("journal", "hdf5"):
                e = traced.get(key)
                if not e:
                    errors.append(f"strace saw no writes to the {key} file")
                    continue
                print(f"  {key:>7}: {e['write_calls'] / n:.1f} writes, {human_bytes(e['bytes'] / n)} written, "
                      f"{e['fsync_calls'] / n:.1f} fsync ({1e3 * e['fsync_seconds'] / n:.2f} ms), "
                      f"write calls {1e3 * e['write_seconds'] / n:.2f} ms")
            print("  (times under strace are inflated; the byte counts are exact)")
        elif not args.no_strace:
            print("system calls: strace not installed, skipped")

        # 4. projection
        file_per_point = last["file_bytes"] / last["points"]
        if args.t_train:
            t_train, source = args.t_train, "--t-train"
        else:
            demo_h5 = args.demo_h5
            if not demo_h5:
                if args.quick:
                    demo_config["grid"] = DEMO_QUICK_GRID
                demo_sweep = write_json(os.path.join(workdir, "demo.json"), demo_config)
                demo_h5 = os.path.join(workdir, "demo.h5")
                result = subprocess.run(mpirun(n_cores) + [binary, "run", demo_sweep, "-o", demo_h5, "--quiet",
                                                           "--force"], env=ENV, capture_output=True, text=True)
                if result.returncode != 0:
                    fail(f"demo sweep: exit {result.returncode}: {result.stderr.strip()}")
            t_train, t_mean, demo_file_per_point, n_done = median_train_seconds(demo_h5)
            source = (f"median of {n_done} demo points, mean {t_mean:.2f} s"
                      + (", quick grid" if args.quick and not args.demo_h5 else ""))
            report["demo_hdf5_bytes_per_point"] = demo_file_per_point
            print(f"demo output: {human_bytes(demo_file_per_point)} of HDF5 per point ({n_done} points, fixed "
                  f"overhead included); the projection uses the {last['points']}-point run's "
                  f"{human_bytes(file_per_point)}")
        # The driver's time per point at batch size B: c + (a + b B) / B, with c its CPU time per point outside
        # the journal (the run with the largest batches, whose per-turn overhead is spread the most) and a + b B
        # the journal's time per batch, fitted over the runs' batch sizes (b = 0 if they are all alike).
        sizes_b = np.array([r["timing"]["points_per_batch"] for r in runs])
        per_batch = np.array([r["timing"]["journal"]["total_s"] / r["timing"]["batches"] for r in runs])
        if len(runs) > 1 and np.ptp(sizes_b) > 0.5:
            b, a = np.polyfit(sizes_b, per_batch, 1)
            a, b = max(a, 0.0), max(b, 0.0)
        else:
            a, b = float(per_batch.mean()), 0.0
        widest = runs[int(np.argmax(sizes_b))]
        c = widest["timing"]["cpu"]["mean_ms"] / 1e3
        marginal = c + b
        full = FULL_BATCH / (a + FULL_BATCH * marginal)
        print(f"batch model: journal a + b B per batch with a = {1e3 * a:.3f} ms, b = {1e6 * b:.1f} us; driver CPU "
              f"c = {1e6 * c:.1f} us per point (at {widest['timing']['points_per_batch']:.1f} per batch); a point "
              f"costs the driver c + b + a/B = {1e6 * marginal:.1f} us + {1e3 * a:.3f} ms / B")
        print(f"  at full batches of {FULL_BATCH}: {1e6 * (marginal + a / FULL_BATCH):.1f} us per point, "
              f"{full:.0f} points/s (target {TARGET_POINTS_PER_SECOND}: "
              f"{'met' if full >= TARGET_POINTS_PER_SECOND else 'NOT met'})")
        report["batch_model"] = {"journal_fixed_seconds": a, "journal_seconds_per_point": b,
                                 "cpu_seconds_per_point": c, "full_batch": FULL_BATCH,
                                 "full_batch_points_per_second": full}
        d = marginal + a / FULL_BATCH
        d_loop = 1.0 / last["loop_points_per_second"]
        written_per_point = None
        if traced and "hdf5" in traced and "journal" in traced:
            written_per_point = (traced["hdf5"]["bytes"] + traced["journal"]["bytes"]) / last["points"]
            # scale the cheap sweep's physical bytes to the demo's record size
            written_per_point *= demo_sizes["journal_record"] / cheap_sizes["journal_record"]
        projection = {"t_train_source": source, "driver_seconds_per_point": d,
                      "driver_loop_seconds_per_point": d_loop, "cases": []}
        print(f"projection: D = {1e3 * d:.3f} ms of driver time per point (the batch model at full batches; "
              f"{1e3 * d_loop:.2f} ms per point in the saturated driver loop of {last['ranks']} oversubscribed ranks)")
        for label, t in ((f"T = {t_train:.2f} s ({source})", t_train), ("T x 10", 10 * t_train)):
            saturation = t / d
            rate = PROJECTION_RANKS / t
            case = {"label": label, "t_train": t, "saturation_ranks": saturation,
                    "needed_points_per_second": rate, "driver_capacity_points_per_second": 1 / d,
                    "driver_utilization": rate * d,
                    "message_bytes_per_second": rate * demo_sizes["message"],
                    "journal_bytes_per_second": rate * demo_sizes["journal_record"],
                    "hdf5_growth_bytes_per_second": rate * file_per_point,
                    "written_bytes_per_second": rate * written_per_point if written_per_point else None,
                    "journal_bytes": PROJECTION_POINTS * demo_sizes["journal_record"],
                    "hdf5_bytes": PROJECTION_POINTS * file_per_point,
                    "sweep_seconds_ideal": PROJECTION_POINTS * t / PROJECTION_RANKS,
                    "sweep_seconds_driver_bound": PROJECTION_POINTS * max(d, t / PROJECTION_RANKS)}
            projection["cases"].append(case)
            print(f"  {label}: one driver saturates at ~{saturation:.0f} ranks")
            print(f"    {PROJECTION_RANKS} ranks: {rate:.0f} points/s needed at the driver, which absorbs "
                  f"{1 / d:.0f}/s ({case['driver_utilization']:.1f}x its capacity)")
            print(f"    in at {rate:.0f} points/s: messages {human_bytes(case['message_bytes_per_second'])}/s, journal "
                  f"{human_bytes(case['journal_bytes_per_second'])}/s + fsync {rate:.0f}/s, HDF5 growth "
                  f"{human_bytes(case['hdf5_growth_bytes_per_second'])}/s"
                  + (f", {human_bytes(case['written_bytes_per_second'])}/s written to both files"
                     if case["written_bytes_per_second"] else ""))
            print(f"    {PROJECTION_POINTS} points: journal {human_bytes(case['journal_bytes'])}, HDF5 "
                  f"~{human_bytes(case['hdf5_bytes'])}; sweep {human_seconds(case['sweep_seconds_ideal'])} "
                  f"on {PROJECTION_RANKS} ranks if the driver kept up, "
                  f"{human_seconds(case['sweep_seconds_driver_bound'])} with one driver")
        report["projection"] = projection
        report["hdf5_bytes_per_point_for_projection"] = file_per_point

        for error in errors:
            print("ERROR:", error)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
        return 1 if errors else 0
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
