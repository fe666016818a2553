#!/usr/bin/python3
"""How long `groksweep run` takes to resume a sweep whose journal holds 10^6 finished points.

usage: bench/journal_replay.py [--build build] [--points 1000000] [--demo-points 100000]
                               [--json FILE] [--keep DIR]

Resuming a sweep replays OUT.h5.journal: every record is read and checked
(magic, checksum, values), and the HDF5 file is rebuilt from the records
under a temporary name and moved into place. Target: a journal of 10^6
points is replayed in seconds (here: within 5 s), not minutes.

Training 10^6 points takes too long, so the journal is built: the sweep
(bench/sweeps/driver_rate.json with more seeds, --points points of 122-byte
results; and sweeps/demo.json with more seeds, --demo-points points of
6,082-byte results) is started for real with one rank and stopped with
SIGINT once its journal holds a few real records (300 and 3); then a record
is appended for every point not in it, a copy of a real record's payload
(one whose status is done) with the point index changed and the checksum
recomputed. The records are appended in the order one rank trains these
grids: more expensive first (larger data fraction, the grid's first axis),
then by index. Deflating the curves is most of the rebuild, so the copies
must compress as distinct runs do: the small records are copies of the
interrupted run's own (a few hundred distinct seeds, more than a curve
chunk's 64 points), the demo-size ones copies of the 80 points of
sweeps/demo.json as shipped, trained first for that (2-3 minutes on one
core; a --keep DIR that already holds them resumes with nothing to train).
The demo variant's own first records are all of one grid cell and stop
early (10 of 301 evaluations); copies of them compress 7 times better.

Each journal is resumed twice with `groksweep run SWEEP -o OUT.h5 --quiet`
under /usr/bin/time -v (wall and CPU time, maximum RSS), nothing left to
train: first with the interrupted run's OUT.h5 present, then with OUT.h5
deleted, so that only the journal is left. Both times every point of the
file must be status done, of the phase its record gives, and the journal
unchanged; otherwise the script exits 1. A missed target is reported, never
an error. The demo-size time is also extrapolated to 10^6 points (labelled
so). --demo-points 0 skips the demo-size case. Needs about 0.3 GB of disk
per 10^6 small points and 0.8 GB per 10^5 demo-size points in the work
directory (a temporary one, or --keep DIR). About 3.5 minutes in all.
"""
import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from sweep_bench import ENV, cpu_snapshot, other_load, snapshot_binary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_BYTES = 64  # JournalHeader: magic 8, sweep_hash 8, n_points 8, n_eval 4, reserved 4, blas_core 32
HEADER_MAGIC = b"GSJOURN2"
RECORD_MAGIC = struct.pack("<I", 0x47535231)
FNV_OFFSET, FNV_PRIME = np.uint64(0xcbf29ce484222325), np.uint64(0x100000001b3)
POINT_DONE = 1
TARGET_SECONDS = {10**6: 5.0}  # small records only
CHUNK_BYTES = 64 << 20  # synthetic records built and written this many bytes at a time
# the sweep varied, the real records its interrupted run journals, the sweep whose points give the payloads
# (None: the interrupted run's own)
CASES = {"small": ("bench/sweeps/driver_rate.json", 300, None), "demo": ("sweeps/demo.json", 3, "sweeps/demo.json")}


def fail(message):
    sys.exit(f"journal_replay: {message}")


def fnv1a_rows(rows):
    """The journal's checksum (64-bit FNV-1a) of every row of a 2-D uint8 array, a column at a time."""
    columns = np.ascontiguousarray(rows.T)
    h = np.full(rows.shape[0], FNV_OFFSET, dtype=np.uint64)
    for column in columns:
        h ^= column
        h *= FNV_PRIME
    return h


def sweep_variant(path, points):
    """The sweep at path with as many seeds as make it `points` points."""
    with open(path) as f:
        sweep = json.load(f)
    grid = sweep["grid"]
    per_seed = 1
    for axis, values in grid.items():
        if axis == "seed":
            continue
        if isinstance(values, list):
            per_seed *= len(values)
        else:
            per_seed *= int(next(iter(values.values()))[2])  # {"linspace"|"logspace": [a, b, n]}
    if points % per_seed:
        fail(f"{path}: {per_seed} points per seed, which does not divide {points}")
    grid["seed"] = points // per_seed
    return sweep


def validate(binary, sweep_path, points):
    result = subprocess.run([binary, "validate", sweep_path], env=ENV, capture_output=True, text=True)
    if result.returncode != 0 or f"points: {points}\n" not in result.stdout:
        fail(f"validate {sweep_path}: exit {result.returncode}: {result.stderr.strip() or result.stdout}")
    kernel = re.search(r"\((\w+) kernel\)", result.stdout)
    return kernel.group(1) if kernel else "?"


def record_bytes(data):
    """The size of one record of a journal whose records (after the header) are data: the smallest size at
    which the first record's checksum holds and the next record starts with the magic; None if none fits
    (no whole record yet, or a record half written)."""
    for size in range(4 + 8 + 8, len(data) + 1):
        if len(data) % size or (size < len(data) and data[size:size + 4] != RECORD_MAGIC):
            continue
        first = np.frombuffer(data[:size], dtype=np.uint8)
        if int(fnv1a_rows(first[None, 4:size - 8])[0]) == struct.unpack("<Q", data[size - 8:size])[0]:
            return size
    return None


def read_journal(journal):
    """The header and the records (a 2-D uint8 array, a row each) of a whole journal, checksums checked."""
    with open(journal, "rb") as f:
        header = f.read(HEADER_BYTES)
        data = f.read()
    size = record_bytes(data) if header[:8] == HEADER_MAGIC else None
    if size is None:
        fail(f"{journal}: not a journal, or no record size fits its {len(data)} bytes of records")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, size)
    if not np.array_equal(fnv1a_rows(records[:, 4:size - 8]), records[:, size - 8:].copy().view("<u8").ravel()):
        fail(f"{journal}: the checksums computed here differ from the journal's")
    return header, records


def donor_payloads(binary, workdir, sweep_file):
    """The payloads of the points done of sweep_file as shipped, trained (one rank) into workdir."""
    out = os.path.join(workdir, "donors_" + os.path.basename(sweep_file).replace(".json", ".h5"))
    args = [binary, "run", os.path.join(REPO, sweep_file), "-o", out, "--quiet"]
    print(f"  training the {sweep_file} points whose results the demo-size records copy", file=sys.stderr,
          flush=True)
    result = subprocess.run(args, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
    records = read_journal(out + ".journal")[1]
    return records[records[:, 12] == POINT_DONE, 12:records.shape[1] - 8]


def interrupted_run(binary, sweep_path, out, journal, real_records, timeout=600):
    """Start the sweep for real with one rank and stop it (SIGINT) once its journal holds real_records records."""
    args = [binary, "run", sweep_path, "-o", out, "--quiet"]
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    record = None
    while process.poll() is None and time.monotonic() - start < timeout:
        time.sleep(0.1)
        size = os.path.getsize(journal) if os.path.exists(journal) else 0
        if record is None and size > HEADER_BYTES:
            with open(journal, "rb") as f:
                record = record_bytes(f.read()[HEADER_BYTES:])
        if record and (size - HEADER_BYTES) // record >= real_records:
            break
    process.send_signal(signal.SIGINT)
    stderr = process.communicate()[1]
    if process.returncode != 3:
        fail(f"{' '.join(args)}: exit {process.returncode} after SIGINT (3 expected, resumable): {stderr.strip()}")


def complete_journal(journal, points, first_axis_length, payloads=None):
    """Append a synthetic record for every point the journal does not hold, its payload one of payloads (rows
    of packed results; None: those of the journal's records of points done), in turn. Returns the count of
    real records, the record size, the header's OpenBLAS kernel and every point's phase as its record gives
    it."""
    header, real = read_journal(journal)
    if struct.unpack("<q", header[16:24])[0] != points:
        fail(f"{journal}: not a journal of {points} points")
    blas_core = header[32:64].rstrip(b"\0").decode()
    size = real.shape[1]
    held = real[:, 4:12].copy().view("<i8").ravel()
    if payloads is None:
        payloads = real[real[:, 12] == POINT_DONE, 12:size - 8]
    if len(payloads) == 0 or payloads.shape[1] != size - 20:
        fail(f"{journal}: no payloads of points done of its record size to copy")
    missing = np.setdiff1d(np.arange(points, dtype=np.int64), held)
    block = missing // (points // first_axis_length)  # the value of the first axis (data fraction)
    missing = missing[np.lexsort((missing, -block))]  # larger data fraction first, then by index
    phase = np.full(points, -1, dtype=np.int8)
    phase[held] = real[:, 13].view(np.int8)
    chunk = max(1, CHUNK_BYTES // size)
    with open(journal, "ab") as f:
        for first in range(0, len(missing), chunk):
            part = missing[first:first + chunk]
            rows = np.empty((len(part), size), dtype=np.uint8)
            rows[:, :4] = np.frombuffer(RECORD_MAGIC, dtype=np.uint8)
            rows[:, 4:12] = part.astype("<i8").view(np.uint8).reshape(-1, 8)
            rows[:, 12:size - 8] = payloads[np.arange(first, first + len(part)) % len(payloads)]
            phase[part] = rows[:, 13].view(np.int8)
            rows[:, size - 8:] = fnv1a_rows(rows[:, 4:size - 8]).astype("<u8").view(np.uint8).reshape(-1, 8)
            f.write(rows.tobytes())
    return len(real), size, blas_core, phase


def timed_resume(binary, sweep_path, out):
    """groksweep run under /usr/bin/time -v: wall seconds, CPU seconds (user + system), max RSS in MB and the
    cores other processes used meanwhile."""
    args = ["/usr/bin/time", "-v", binary, "run", sweep_path, "-o", out, "--quiet"]
    before = cpu_snapshot()
    start = time.monotonic()
    result = subprocess.run(args, env=ENV, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        fail(f"{' '.join(args[2:])}: exit {result.returncode}: {result.stderr.strip()}")
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", result.stderr)
    if not elapsed or not rss or len(cpu) != 2:
        fail(f"cannot read /usr/bin/time -v's report: {result.stderr.strip()}")
    h, m, s = elapsed.groups()
    return (int(h or 0) * 3600 + int(m) * 60 + float(s), sum(map(float, cpu)), int(rss.group(1)) / 1024,
            other_load(before, cpu_snapshot(), wall)[0])


def check_output(out, phase):
    """The count of points of the file that are not done or not of the phase their record gives."""
    with h5py.File(out, "r") as f:
        status, found = f["status"][...].ravel(), f["phase"][...].ravel()
    if status.size != phase.size:
        fail(f"{out}: {status.size} points, {phase.size} expected")
    return int(((status != POINT_DONE) | (found != phase)).sum())


def measure(binary, workdir, name, points):
    """Build the journal of the case's sweep of `points` points and time its two resumes: one row each."""
    sweep_file, real_records, donors = CASES[name]
    sweep = sweep_variant(os.path.join(REPO, sweep_file), points)
    sweep_path = os.path.join(workdir, f"{name}_{points}.json")
    with open(sweep_path, "w") as f:
        json.dump(sweep, f, indent=1)
    kernel = validate(binary, sweep_path, points)
    out = os.path.join(workdir, f"{name}_{points}.h5")
    journal = out + ".journal"
    for path in (out, journal):
        if os.path.exists(path):
            os.remove(path)
    first_axis = next(iter(sweep["grid"]))
    if first_axis != "data_fraction":
        fail(f"{sweep_file}: the grid's first axis is {first_axis}, not data_fraction")
    print(f"  {name}: {points} points: training a few for real", file=sys.stderr, flush=True)
    interrupted_run(binary, sweep_path, out, journal, real_records)
    payloads = donor_payloads(binary, workdir, donors) if donors else None
    start = time.monotonic()
    real, record, blas_core, phase = complete_journal(journal, points, len(sweep["grid"]["data_fraction"]), payloads)
    print(f"  {name}: {real} real records, {points - real} synthetic ones appended in "
          f"{time.monotonic() - start:.1f} s", file=sys.stderr, flush=True)
    journal_size = os.path.getsize(journal)
    if journal_size != HEADER_BYTES + points * record:
        fail(f"{journal}: {journal_size} bytes, {HEADER_BYTES + points * record} expected")
    rows = []
    for output in ("present", "removed"):
        if output == "removed":
            os.remove(out)
        wall, cpu, rss, other = timed_resume(binary, sweep_path, out)
        not_done = check_output(out, phase)
        changed = os.path.getsize(journal) != journal_size
        rows.append({"records": name, "points": points, "output": output, "record_bytes": record,
                     "payload_bytes": record - 20, "real_records": real,
                     "payloads_from": donors or "the interrupted run's records", "journal_bytes": journal_size,
                     "output_bytes": os.path.getsize(out), "wall_seconds": wall, "cpu_seconds": cpu,
                     "us_per_point": 1e6 * wall / points, "max_rss_mb": rss, "other_cores": other,
                     "not_done": not_done, "journal_changed": changed, "blas_core": blas_core,
                     "validate_kernel": kernel, "sweep": sweep_file, "seeds": sweep["grid"]["seed"]})
        print(f"  {name}: resume with the output {output}: {wall:.2f} s", file=sys.stderr, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory holding groksweep")
    parser.add_argument("--points", type=int, default=10**6, help="points of the small-record sweep")
    parser.add_argument("--demo-points", type=int, default=10**5, help="points of the demo-size sweep (0: skip)")
    parser.add_argument("--json", metavar="FILE", help="save the numbers as JSON")
    parser.add_argument("--keep", metavar="DIR", help="keep the sweeps, journals and output files in DIR")
    args = parser.parse_args()

    workdir = args.keep or tempfile.mkdtemp(prefix="groksweep_journal_replay_")
    os.makedirs(workdir, exist_ok=True)
    try:
        binary = snapshot_binary(args.build, workdir, "journal_replay")
        rows = measure(binary, workdir, "small", args.points)
        if args.demo_points:
            rows += measure(binary, workdir, "demo", args.demo_points)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"journal_replay: `groksweep run SWEEP -o OUT.h5 --quiet`, 1 rank, nothing left to train; "
          f"OpenBLAS kernel {rows[0]['blas_core']}")
    print("| records | points | OUT.h5 before | journal | record | HDF5 per point | wall s | CPU s | µs per point "
          "| max RSS | other cores | all done | target |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    wrong = []
    for row in rows:
        target = TARGET_SECONDS.get(row["points"]) if row["records"] == "small" else None
        row["target_seconds"] = target
        row["met"] = None if target is None else row["wall_seconds"] <= target
        met = "" if target is None else f"≤ {target:.0f} s: {'met' if row['met'] else 'NOT MET'}"
        ok = row["not_done"] == 0 and not row["journal_changed"]
        if not ok:
            wrong.append(row)
        print(f"| {row['records']} | {row['points']:,} | {row['output']} | {row['journal_bytes'] / 1e6:,.1f} MB "
              f"| {row['record_bytes']:,} B | {row['output_bytes'] / row['points']:,.0f} B "
              f"| {row['wall_seconds']:.2f} | {row['cpu_seconds']:.2f} "
              f"| {row['us_per_point']:.2f} "
              f"| {row['max_rss_mb']:,.0f} MB | {row['other_cores']:.2f} | {'yes' if ok else 'NO'} | {met} |")
    extrapolated = []
    for row in rows:
        if row["records"] == "demo" and row["points"] < 10**6:
            scale = 10**6 / row["points"]
            extrapolated.append({"output": row["output"], "points": 10**6, "wall_seconds": row["wall_seconds"] * scale,
                                 "cpu_seconds": row["cpu_seconds"] * scale,
                                 "journal_bytes": HEADER_BYTES + 10**6 * row["record_bytes"],
                                 "output_bytes": row["output_bytes"] * scale})
    for e in extrapolated:
        print(f"extrapolated, not measured: demo-size records, 10^6 points, OUT.h5 {e['output']}: "
              f"~{e['wall_seconds']:.0f} s ({e['cpu_seconds']:.0f} s CPU) at the measured rate per point, "
              f"journal {e['journal_bytes'] / 1e9:.1f} GB, HDF5 ~{e['output_bytes'] / 1e9:.1f} GB")
    for row in wrong:
        print(f"ERROR: {row['records']} {row['points']} points, OUT.h5 {row['output']}: {row['not_done']} points not "
              f"done, or not of their record's phase, after the resume"
              f"{', and the journal changed size' if row['journal_changed'] else ''}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "extrapolated": extrapolated}, f, indent=1)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
